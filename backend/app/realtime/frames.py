"""The WebSocket protocol's frames (docs/api.md, "WebSocket /ws"): client frames parsed, server frames built.

Server frames are plain dicts that can go through the event bus and Redis as JSON.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.agents.events import AgentEvent, AgentReply, Degraded, EscalationRaised, SourcesFound, TextDelta, ToolStatus
from app.db.models import Attachment, Message

Frame = dict[str, Any]

# Frames that belong to a turn; these carry `message_id` and go to every socket of the session.
TURN_FRAMES = frozenset({"ack", "start", "tool", "sources", "escalation", "text", "degraded", "complete"})


class _ClientFrame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AuthFrame(_ClientFrame):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=512)
    last_message_id: uuid.UUID | None = None


class MessageFrame(_ClientFrame):
    type: Literal["message"]
    content: str = Field(max_length=1_000_000)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    client_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


class TypingFrame(_ClientFrame):
    type: Literal["typing"]


class PingFrame(_ClientFrame):
    type: Literal["ping"]


ClientFrame = AuthFrame | MessageFrame | TypingFrame | PingFrame
_CLIENT_FRAME = TypeAdapter(Annotated[ClientFrame, Field(discriminator="type")])
CLIENT_TYPES = frozenset({"auth", "message", "typing", "ping"})


class FrameError(Exception):
    """A client frame that cannot be used; becomes an `error` frame, the socket stays open."""

    def __init__(self, code: str, detail: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_client_frame(text: str) -> ClientFrame:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise FrameError("malformed_json", "The frame is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise FrameError("malformed_json", "The frame must be a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise FrameError("unknown_frame_type", f"Unknown frame type {str(kind)[:40]!r}; expected one of "
                                               + ", ".join(sorted(CLIENT_TYPES)))
    try:
        return _CLIENT_FRAME.validate_python(raw)
    except ValidationError as exc:
        raise FrameError("invalid_frame", [{"loc": list(e["loc"])[1:], "msg": e["msg"], "type": e["type"]}
                                           for e in exc.errors()]) from exc


def error(code: str, detail: Any, client_id: str | None = None, reply_to: uuid.UUID | None = None) -> Frame:
    return {"type": "error", "code": code, "detail": detail, "client_id": client_id,
            "reply_to": str(reply_to) if reply_to else None}


def timestamp(value: datetime) -> str:
    # SQLite hands back naive datetimes; they were written in UTC.
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def attachment_info(a: Attachment) -> Frame:
    return {"id": str(a.id), "filename": a.filename, "content_type": a.content_type, "size_bytes": a.size_bytes}


def ack(message: Message, attachments: list[Attachment], duplicate: bool = False) -> Frame:
    return {"type": "ack", "message_id": str(message.id), "client_id": message.client_id,
            "content": message.content, "attachments": [attachment_info(a) for a in attachments],
            "created_at": timestamp(message.created_at), "duplicate": duplicate}


def start(message_id: uuid.UUID, reply_to: uuid.UUID) -> Frame:
    return {"type": "start", "message_id": str(message_id), "reply_to": str(reply_to)}


def turn_event(event: AgentEvent, message_id: uuid.UUID) -> Frame | None:
    """An agent event as a frame of the reply `message_id` (None for TurnComplete: see `complete`)."""
    mid = str(message_id)
    if isinstance(event, TextDelta):
        return {"type": "text", "message_id": mid, "delta": event.text}
    if isinstance(event, ToolStatus):
        return {"type": "tool", "message_id": mid, "name": event.name, "status": event.status,
                "detail": event.detail}
    if isinstance(event, SourcesFound):
        return {"type": "sources", "message_id": mid, "sources": event.as_dict()["sources"]}
    if isinstance(event, EscalationRaised):
        return {"type": "escalation", "message_id": mid, "required": event.required, "reason": event.reason,
                "ticket_id": event.ticket_id, "priority": event.priority}
    if isinstance(event, Degraded):
        return {"type": "degraded", "message_id": mid, "reason": event.reason}
    return None


def escalation_info(value: dict[str, Any] | None) -> Frame | None:
    if not value:
        return None
    return {"ticket_id": value["ticket_id"], "reason": value["reason"], "priority": value["priority"]}


def complete(message: Message, reply_to: uuid.UUID, reply: AgentReply | None = None) -> Frame:
    """The stored reply; from the AgentReply right after a turn, or from the row alone (a resend)."""
    meta = message.metadata_ or {}
    if reply is not None:
        escalation = escalation_info(reply.escalation)
        requires, confidence, degraded = reply.requires_escalation, reply.confidence, reply.degraded
    else:
        escalation = meta.get("escalation")
        requires, confidence, degraded = (bool(meta.get("requires_escalation")), meta.get("confidence"),
                                          bool(meta.get("degraded")))
    return {"type": "complete", "message_id": str(message.id), "reply_to": str(reply_to),
            "content": message.content, "sources": message.sources or [], "requires_escalation": requires,
            "escalation": escalation, "confidence": confidence, "degraded": degraded,
            "created_at": timestamp(message.created_at)}


def history_item(message: Message) -> Frame:
    return {"id": str(message.id), "role": message.role, "content": message.content,
            "sources": message.sources or [], "attachments": [attachment_info(a) for a in message.attachments],
            "created_at": timestamp(message.created_at), "client_id": message.client_id}
