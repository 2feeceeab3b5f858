"""One converter from a stored message to its public shape: REST history, WebSocket replay and the
REST reply (`MessageResponse`) all go through `public_message`, so none of them can drop a field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from app.chat.schemas import AttachmentInfo, AuthorInfo, EscalationInfo, HistoryMessage, MessageResponse
from app.db.enums import HandoffState, MessageRole
from app.db.models import Attachment, Message


def timestamp(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def attachment_info(a: Attachment) -> AttachmentInfo:
    return AttachmentInfo(id=a.id, filename=a.filename, content_type=a.content_type, size_bytes=a.size_bytes)


def public_message(m: Message, attachments: Sequence[Attachment] | None = None) -> HistoryMessage:
    """`attachments` when the row's relationship is not loaded (a row just written); else the loaded ones."""
    meta = m.metadata_ or {}
    # Replies carry their escalation (a handover), so a reload or a reconnect shows the notice again.
    escalation = meta.get("escalation") if m.role != MessageRole.USER else None
    files = m.attachments if attachments is None else attachments
    author = meta.get("author") if m.role == MessageRole.AGENT else None
    return HistoryMessage(id=m.id, role=MessageRole(m.role), content=m.content, sources=m.sources or [],
                          attachments=[attachment_info(a) for a in files], created_at=timestamp(m.created_at),
                          escalation=EscalationInfo(**escalation) if escalation else None, client_id=m.client_id,
                          author=AuthorInfo(name=author.get("name", "Support")) if author else None)


def message_response(user: Message, user_attachments: Sequence[Attachment], reply: Message | None,
                     handoff_state: HandoffState = HandoffState.BOT,
                     queue_position: int | None = None) -> MessageResponse:
    """The REST answer to a message, from the stored rows (seed 003's fields first). Without a reply a
    person handles the conversation: the customer's message is acknowledged and nothing else is said."""
    if reply is None:
        return MessageResponse(message="", sources=[], requires_escalation=False, message_id=None,
                               user_message_id=user.id, session_id=user.session_id,
                               created_at=timestamp(user.created_at),
                               attachments=[attachment_info(a) for a in user_attachments], handled_by="human",
                               handoff_state=handoff_state)
    shown = public_message(reply, [])
    meta = reply.metadata_ or {}
    return MessageResponse(
        message=shown.content, sources=shown.sources, requires_escalation=bool(meta.get("requires_escalation")),
        message_id=reply.id, user_message_id=user.id, session_id=reply.session_id, created_at=shown.created_at,
        attachments=[attachment_info(a) for a in user_attachments], escalation=shown.escalation,
        confidence=meta.get("confidence"), degraded=bool(meta.get("degraded")), grounded=bool(meta.get("grounded")),
        handoff_state=handoff_state,
        queue_position=queue_position)
