"""Staff API: the queue, a conversation's thread, assignment and state, replies and notes, drafts."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query

from app.deps import ServicesDep
from app.staff.deps import CurrentStaff
from app.staff.enums import HandoffState
from app.staff.schemas import (
    AssignRequest,
    ConversationDetail,
    ConversationList,
    Draft,
    StaffMessageCreated,
    StaffMessageRequest,
    StaffRef,
    StateChanged,
)

router = APIRouter(prefix="/staff", tags=["staff"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid or expired staff token, or a disabled account"},
    403: {"description": "Another agent owns the conversation, or the action needs an admin"},
    404: {"description": "Unknown conversation"},
    409: {"description": "The conversation is in a state that does not allow this (the state is named)"},
}


@router.get("/conversations", response_model=ConversationList, responses={401: _ERRORS[401]})
async def list_conversations(
        staff: CurrentStaff, services: ServicesDep, state: HandoffState | None = None,
        assignee: str | None = Query(default=None, max_length=64, pattern=r"^(me|[0-9a-fA-F-]{32,36})$",
                                     description="`me` or a staff id"),
        limit: int = Query(default=50, ge=1, le=200), offset: int = Query(default=0, ge=0, le=2**31 - 1),
) -> ConversationList:
    """Oldest handoff first. Without `state`: every conversation a human was involved in."""
    items, total = await services.staff.inbox.list(staff, state, assignee, limit, offset)
    return ConversationList(items=items, total=total)


@router.get("/conversations/{session_id}", response_model=ConversationDetail, responses=_ERRORS)
async def get_conversation(session_id: uuid.UUID, staff: CurrentStaff, services: ServicesDep) -> ConversationDetail:
    return await services.staff.inbox.detail(staff, session_id)


def _changed(session_id: uuid.UUID, state: HandoffState, assignee: Any = None) -> StateChanged:
    return StateChanged(session_id=session_id, state=state,
                        assignee=StaffRef(id=assignee.id, name=assignee.name) if assignee else None)


@router.post("/conversations/{session_id}/assign", response_model=StateChanged, responses=_ERRORS)
async def assign(session_id: uuid.UUID, staff: CurrentStaff, services: ServicesDep,
                 body: AssignRequest | None = None) -> StateChanged:
    change = await services.staff.handoff.assign(session_id, staff, body.assignee_id if body else None)
    return _changed(session_id, change.to_state, change.assignee)


@router.post("/conversations/{session_id}/resolve", response_model=StateChanged, responses=_ERRORS)
async def resolve(session_id: uuid.UUID, staff: CurrentStaff, services: ServicesDep) -> StateChanged:
    return _changed(session_id, (await services.staff.handoff.resolve(session_id, staff)).to_state)


@router.post("/conversations/{session_id}/return-to-bot", response_model=StateChanged, responses=_ERRORS)
async def return_to_bot(session_id: uuid.UUID, staff: CurrentStaff, services: ServicesDep) -> StateChanged:
    return _changed(session_id, (await services.staff.handoff.return_to_bot(session_id, staff)).to_state)


@router.post("/conversations/{session_id}/messages", status_code=201, response_model=StaffMessageCreated,
             responses={**_ERRORS, 422: {"description": "Empty or oversized message"}})
async def post_message(session_id: uuid.UUID, body: StaffMessageRequest, staff: CurrentStaff,
                       services: ServicesDep) -> StaffMessageCreated:
    """A public reply (role `agent`, reaches the customer's sockets) or, with `private`, a note only staff see."""
    return await services.staff.inbox.post(session_id, staff, body.content, body.private)


@router.post("/conversations/{session_id}/draft", response_model=Draft, responses=_ERRORS)
async def draft(session_id: uuid.UUID, staff: CurrentStaff, services: ServicesDep) -> Draft:
    """A cited reply drafted from the knowledge base, for the agent to edit; nothing is sent."""
    return await services.staff.inbox.draft(session_id)
