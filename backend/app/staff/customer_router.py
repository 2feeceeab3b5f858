"""The customer's side of a handoff, on their session token: go back to the assistant, rate the person."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import ActiveChatSessionDep, ChatSessionDep, ServicesDep
from app.staff.enums import Actor
from app.staff.schemas import RatingCreated, RatingRequest, StateChanged

router = APIRouter(prefix="/chat", tags=["chat"])
_ERRORS: dict[int | str, dict[str, Any]] = {401: {"description": "Missing or invalid session token"},
                                            404: {"description": "Unknown session"}}


@router.post("/sessions/{session_id}/return-to-bot", response_model=StateChanged,
             responses={**_ERRORS, 409: {"description": "Already with the assistant, or the session is closed"}})
async def return_to_bot(session: ActiveChatSessionDep, services: ServicesDep) -> StateChanged:
    """Leave the staff queue (or the person) and chat with the assistant again."""
    change = await services.staff.handoff.return_to_bot(session.id, None, actor_type=Actor.CUSTOMER)
    return StateChanged(session_id=session.id, state=change.to_state)


@router.post("/sessions/{session_id}/rating", status_code=201, response_model=RatingCreated,
             responses={**_ERRORS, 409: {"description": "Nothing to rate yet, or rated already"},
                        422: {"description": "Score outside 1-5 or comment too long"}})
async def rate(body: RatingRequest, session: ChatSessionDep, services: ServicesDep) -> RatingCreated:
    """CSAT after a person resolved the conversation: once per resolved handoff."""
    rating = await services.staff.inbox.rate(session, body.score, body.comment)
    return RatingCreated(session_id=session.id, score=rating.score, comment=rating.comment,
                         created_at=rating.created_at)
