"""REST routes for sessions and messages (seed 003's paths and fields)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app.chat.attachments import PendingAttachment, read_uploads
from app.chat.messages import attachment_info, message_response, public_message
from app.chat.schemas import (
    CLIENT_ID_MAX_LENGTH,
    CLIENT_ID_PATTERN,
    CreateSessionRequest,
    HistoryPage,
    MessageResponse,
    SendMessageJSON,
    SessionClosed,
    SessionCreated,
    SessionInfo,
)
from app.chat.service import DuplicateMessage
from app.chat.uploads import UploadedAttachments, store_uploads
from app.chat.validation import message_problem
from app.db.enums import HUMAN_STATES, SessionStatus
from app.deps import ActiveChatSessionDep, ChatSessionDep, ServicesDep
from app.errors import AppError, Conflict, Unprocessable, UnsupportedMediaType
from app.files.quota import check_attachment_quota
from app.observability import metrics
from app.observability.context import bind_session
from app.security.api_keys import authorise, presented_key

router = APIRouter(prefix="/chat", tags=["chat"])

_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid session token"},
    404: {"description": "Unknown session"},
}

_CLIENT_ID = {"type": "string", "minLength": 1, "maxLength": CLIENT_ID_MAX_LENGTH, "pattern": CLIENT_ID_PATTERN,
              "description": "Your id for this message: a resend with the same id (after a timeout or a dropped "
                             "connection) is stored once and answered once"}
_MESSAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["message"],
                "properties": {"message": {"type": "string"}, "client_id": _CLIENT_ID,
                               "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            }},
            "application/json": {"schema": {"type": "object", "required": ["message"],
                                            "properties": {"message": {"type": "string"}, "client_id": _CLIENT_ID}}},
        },
    }
}


@router.post("/sessions", status_code=201, response_model=SessionCreated)
async def create_session(request: Request, services: ServicesDep,
                         body: CreateSessionRequest | None = None) -> SessionCreated:
    """Open a conversation. Called with an integrator API key (scope `chat`), the `user_id` is trusted:
    facts the customer gave in earlier sessions of that user are remembered. Without a key it is a label."""
    body = body or CreateSessionRequest()
    presented = presented_key(request)
    verified = presented is not None and authorise(request.app.state.api_keys, presented, "chat") is not None
    session, token = await services.chat.create_session(body.user_id, body.metadata, user_verified=verified)
    bind_session(session.id)
    return SessionCreated(session_id=session.id, thread_id=session.thread_id, session_token=token,
                          user_id=session.user_id, status=SessionStatus(session.status), created_at=session.created_at)


@router.get("/sessions/{session_id}", response_model=SessionInfo, responses=_AUTH_RESPONSES)
async def get_session(session: ChatSessionDep, services: ServicesDep) -> SessionInfo:
    return SessionInfo(session_id=session.id, thread_id=session.thread_id, user_id=session.user_id,
                       status=SessionStatus(session.status), metadata=session.metadata_,
                       message_count=await services.chat.message_count(session.id),
                       created_at=session.created_at, last_activity_at=session.last_activity_at,
                       closed_at=session.closed_at, handoff=await services.staff.handoff.customer_view(session.id))


@router.delete("/sessions/{session_id}", response_model=SessionClosed,
               responses={**_AUTH_RESPONSES, 409: {"description": "Session already closed"}})
async def close_session(session: ActiveChatSessionDep, services: ServicesDep) -> SessionClosed:
    closed = await services.chat.close_session(session)
    return SessionClosed(session_id=closed.id, status=SessionStatus(closed.status))


@router.get("/sessions/{session_id}/history", response_model=HistoryPage, responses=_AUTH_RESPONSES)
async def get_history(session: ChatSessionDep, services: ServicesDep,
                      limit: int = Query(default=50, ge=1, le=500),
                      offset: int = Query(default=0, ge=0, le=2**31 - 1)) -> HistoryPage:
    messages, total = await services.chat.history(session.id, limit, offset)
    return HistoryPage(session_id=session.id, messages=[public_message(m) for m in messages], total=total,
                       limit=limit, offset=offset, has_more=offset + len(messages) < total)


@router.post("/sessions/{session_id}/messages", response_model=MessageResponse, openapi_extra=_MESSAGE_BODY,
             responses={**_AUTH_RESPONSES,
                        409: {"description": "Session closed, or a resent `client_id` whose question the "
                                             "conversation moved past unanswered (`message_superseded`)"},
                        413: {"description": "Attachment or body too large"},
                        415: {"description": "Attachment type or body content type not allowed"}})
async def send_message(request: Request, session: ActiveChatSessionDep,
                       services: ServicesDep) -> MessageResponse:
    """With a `client_id`, a resend (the answer was lost to a timeout, a dropped connection, a crashed
    server) is stored once: it gets the stored reply, or the stored question is answered now if it never was."""
    text, uploads, client_id = await _read_message_request(request)
    settings = services.settings
    text = text.strip()
    problem = message_problem(text, settings)
    if problem:
        raise Unprocessable(problem[1], code=problem[0])
    pending: list[PendingAttachment] = await read_uploads(uploads, settings)
    await check_attachment_quota(request, services.db, settings, session.id, pending)
    try:
        turn = await services.chat.handle_turn(session, text, pending, client_id=client_id)
    except DuplicateMessage as dup:
        if dup.reply is None and dup.handoff_state not in HUMAN_STATES:  # no one will answer it (bot, resolved)
            raise Conflict("This message was stored, but the conversation moved on before it was answered; "
                           "send it again with a new client_id", code="message_superseded") from None
        return message_response(dup.user_message, dup.attachments, dup.reply, dup.handoff_state)
    return message_response(turn.user_message, turn.attachments, turn.assistant_message, turn.handoff_state,
                            turn.queue_position)


@router.post("/sessions/{session_id}/attachments", status_code=201, response_model=UploadedAttachments,
             responses={**_AUTH_RESPONSES, 409: {"description": "Session closed"},
                        413: {"description": "Attachment or body too large"},
                        415: {"description": "Attachment type or body content type not allowed"}})
async def upload_attachments(request: Request, session: ActiveChatSessionDep,
                             services: ServicesDep) -> UploadedAttachments:
    """Files for a later WebSocket `message` frame (its `attachment_ids`); same checks as sending a message."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise UnsupportedMediaType("Send the files as multipart/form-data", code="unsupported_content_type")
    form = await request.form(max_files=100, max_fields=20, max_part_size=1024 * 1024)
    fields = form.getlist("attachments")
    if any(not isinstance(f, UploadFile) for f in fields):
        raise Unprocessable("attachments must be files", code="attachments_not_files")
    uploads = [f for f in fields if isinstance(f, UploadFile)]
    if not uploads:
        raise Unprocessable([{"loc": ["body", "attachments"], "msg": "Field required", "type": "missing"}])
    pending = await read_uploads(uploads, services.settings)
    await check_attachment_quota(request, services.db, services.settings, session.id, pending)
    rows = await store_uploads(services.chat.repo, services.settings, session, pending)
    return UploadedAttachments(attachments=[attachment_info(a) for a in rows])


def _client_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= CLIENT_ID_MAX_LENGTH \
            or re.fullmatch(CLIENT_ID_PATTERN, value) is None:
        raise Unprocessable([{"loc": ["body", "client_id"], "type": "string_pattern_mismatch",
                              "msg": f"client_id must be 1-{CLIENT_ID_MAX_LENGTH} of A-Z a-z 0-9 . _ : -"}])
    return value


async def _read_message_request(request: Request) -> tuple[str, list[UploadFile], str | None]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            metrics.ERRORS.labels(type="malformed_json").inc()
            raise AppError("Request body is not valid JSON", code="malformed_json") from exc
        try:
            body = SendMessageJSON.model_validate(payload)
            return body.message, [], body.client_id
        except ValidationError as exc:
            raise Unprocessable([{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                                 for e in exc.errors()]) from exc
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_files=100, max_fields=20, max_part_size=1024 * 1024)
        message = form.get("message")
        if message is None:
            raise Unprocessable([{"loc": ["body", "message"], "msg": "Field required", "type": "missing"}])
        if not isinstance(message, str):
            raise Unprocessable("message must be a text field, not a file", code="message_not_text")
        uploads = [f for f in form.getlist("attachments") if isinstance(f, UploadFile)]
        if any(not isinstance(f, UploadFile) for f in form.getlist("attachments")):
            raise Unprocessable("attachments must be files", code="attachments_not_files")
        return message, uploads, _client_id(form.get("client_id"))
    raise UnsupportedMediaType("Send the message as multipart/form-data or application/json",
                               code="unsupported_content_type")

