"""Server frames of the turn protocol (docs/api.md, "WebSocket /ws"), as Pydantic models.

The models are in the OpenAPI document (see `frame_schemas`), so the widget's frame types are generated.
Builders return plain JSON dicts: frames travel through the event bus and Redis as JSON, and every
producer of a message (customer, assistant, and later staff) publishes them through `ChatService`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app.agents.events import AgentEvent, AgentReply, Degraded, EscalationRaised, SourcesFound, TextDelta, ToolStatus
from app.chat.messages import public_message, timestamp
from app.chat.schemas import AttachmentInfo, AuthorInfo, EscalationInfo, HistoryMessage, Source
from app.db.enums import HandoffState
from app.db.models import Attachment, Message

Frame = dict[str, Any]

# Frames that belong to a turn; these carry `message_id` and go to every socket of the session. A staff
# reply and a stored notice are messages of the conversation too (a replay may carry them already).
TURN_FRAMES = frozenset({"ack", "start", "tool", "sources", "escalation", "text", "degraded", "complete",
                         "agent_message", "notice"})


class _ServerFrame(BaseModel):
    # `type` has a default for building, but is always sent: generated types must say it is required.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class ConnectedFrame(_ServerFrame):
    type: Literal["connected"] = "connected"
    session_id: uuid.UUID
    connection_id: str
    last_message_id: uuid.UUID | None
    heartbeat_seconds: float
    idle_timeout_seconds: float
    max_frame_bytes: int


class ReplayFrame(_ServerFrame):
    type: Literal["replay"] = "replay"
    messages: list[HistoryMessage]
    has_more: bool


class AckFrame(_ServerFrame):
    type: Literal["ack"] = "ack"
    message_id: uuid.UUID
    client_id: str | None
    content: str
    attachments: list[AttachmentInfo]
    created_at: datetime
    duplicate: bool = False


class StartFrame(_ServerFrame):
    type: Literal["start"] = "start"
    message_id: uuid.UUID
    reply_to: uuid.UUID


class TextFrame(_ServerFrame):
    type: Literal["text"] = "text"
    message_id: uuid.UUID
    delta: str


class ToolFrame(_ServerFrame):
    type: Literal["tool"] = "tool"
    message_id: uuid.UUID
    name: str
    status: str
    detail: str | None = None


class SourcesFrame(_ServerFrame):
    type: Literal["sources"] = "sources"
    message_id: uuid.UUID
    sources: list[Source]


class EscalationFrame(_ServerFrame):
    type: Literal["escalation"] = "escalation"
    message_id: uuid.UUID
    required: bool
    reason: str
    ticket_id: str
    priority: str


class DegradedFrame(_ServerFrame):
    type: Literal["degraded"] = "degraded"
    message_id: uuid.UUID
    reason: str


class CompleteFrame(_ServerFrame):
    type: Literal["complete"] = "complete"
    message_id: uuid.UUID
    reply_to: uuid.UUID
    content: str
    sources: list[Source]
    requires_escalation: bool
    escalation: EscalationInfo | None
    confidence: float | None
    degraded: bool
    # The reply rests on the cited help-center passages (false for "I don't know", small talk, handoffs).
    grounded: bool = False
    created_at: datetime


class ErrorFrame(_ServerFrame):
    type: Literal["error"] = "error"
    code: str
    detail: Any
    client_id: str | None = None
    reply_to: uuid.UUID | None = None


class AgentMessageFrame(_ServerFrame):
    """A staff member's reply (human handoff)."""

    type: Literal["agent_message"] = "agent_message"
    message_id: uuid.UUID
    content: str
    author: AuthorInfo
    created_at: datetime


class HandoffFrame(_ServerFrame):
    """The conversation's handoff state changed: in line (with the position), a person joined, resolved
    (asks for a rating), or back with the assistant."""

    type: Literal["handoff"] = "handoff"
    state: HandoffState
    position: int | None = None
    assignee: AuthorInfo | None = None
    ticket_id: str | None = None
    rating_requested: bool = False


class NoticeFrame(_ServerFrame):
    """A system notice stored in the conversation (e.g. "Sam joined the conversation.")."""

    type: Literal["notice"] = "notice"
    message_id: uuid.UUID
    content: str
    created_at: datetime


class AgentTypingFrame(_ServerFrame):
    type: Literal["agent_typing"] = "agent_typing"
    author: AuthorInfo
    typing: bool = True


class PongFrame(_ServerFrame):
    type: Literal["pong"] = "pong"


class HeartbeatFrame(_ServerFrame):
    type: Literal["heartbeat"] = "heartbeat"


class ServerFrame(RootModel[Annotated[
        ConnectedFrame | ReplayFrame | AckFrame | StartFrame | TextFrame | ToolFrame | SourcesFrame | EscalationFrame
        | DegradedFrame | CompleteFrame | ErrorFrame | AgentMessageFrame | HandoffFrame | NoticeFrame | AgentTypingFrame
        | PongFrame | HeartbeatFrame, Field(discriminator="type")]]):
    """Any frame the server sends on `/ws`, told apart by `type`."""


def _dump(model: BaseModel) -> Frame:
    return model.model_dump(mode="json")


def error(code: str, detail: Any, client_id: str | None = None, reply_to: uuid.UUID | None = None) -> Frame:
    return _dump(ErrorFrame(code=code, detail=detail, client_id=client_id, reply_to=reply_to))


def connected(session_id: uuid.UUID, connection_id: str, last_message_id: uuid.UUID | None,
              heartbeat_seconds: float, idle_timeout_seconds: float, max_frame_bytes: int) -> Frame:
    return _dump(ConnectedFrame(session_id=session_id, connection_id=connection_id, last_message_id=last_message_id,
                                heartbeat_seconds=heartbeat_seconds, idle_timeout_seconds=idle_timeout_seconds,
                                max_frame_bytes=max_frame_bytes))


def replay(messages: list[Message], has_more: bool) -> Frame:
    """Missed messages in their public shape: the same converter as REST history."""
    return _dump(ReplayFrame(messages=[public_message(m) for m in messages], has_more=has_more))


def ack(message: Message, attachments: list[Attachment], duplicate: bool = False) -> Frame:
    return _dump(AckFrame(message_id=message.id, client_id=message.client_id, content=message.content,
                          attachments=[AttachmentInfo.model_validate(a, from_attributes=True) for a in attachments],
                          created_at=timestamp(message.created_at), duplicate=duplicate))


def start(message_id: uuid.UUID, reply_to: uuid.UUID) -> Frame:
    return _dump(StartFrame(message_id=message_id, reply_to=reply_to))


def turn_event(event: AgentEvent, message_id: uuid.UUID) -> Frame | None:
    """An agent event as a frame of the reply `message_id` (None for TurnComplete: see `complete`)."""
    frame: BaseModel
    if isinstance(event, TextDelta):
        frame = TextFrame(message_id=message_id, delta=event.text)
    elif isinstance(event, ToolStatus):
        frame = ToolFrame(message_id=message_id, name=event.name, status=event.status, detail=event.detail)
    elif isinstance(event, SourcesFound):
        frame = SourcesFrame(message_id=message_id, sources=event.as_dict()["sources"])
    elif isinstance(event, EscalationRaised):
        frame = EscalationFrame(message_id=message_id, required=event.required, reason=event.reason,
                                ticket_id=event.ticket_id, priority=event.priority)
    elif isinstance(event, Degraded):
        frame = DegradedFrame(message_id=message_id, reason=event.reason)
    else:
        return None
    return _dump(frame)


def escalation_info(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The public part of an escalation (what is stored on the reply and sent to the customer)."""
    if not value:
        return None
    return {"ticket_id": value["ticket_id"], "reason": value["reason"], "priority": value["priority"]}


def complete(message: Message, reply_to: uuid.UUID, reply: AgentReply | None = None) -> Frame:
    """The stored reply; from the AgentReply right after a turn, or from the row alone (a resend)."""
    meta = message.metadata_ or {}
    if reply is not None:
        escalation = escalation_info(reply.escalation)
        requires, confidence, degraded = reply.requires_escalation, reply.confidence, reply.degraded
        grounded = reply.grounded
    else:
        escalation = meta.get("escalation")
        requires, confidence, degraded = (bool(meta.get("requires_escalation")), meta.get("confidence"),
                                          bool(meta.get("degraded")))
        grounded = bool(meta.get("grounded"))
    return _dump(CompleteFrame(
        message_id=message.id, reply_to=reply_to, content=message.content, sources=message.sources or [],
        requires_escalation=requires, escalation=EscalationInfo(**escalation) if escalation else None,
        confidence=confidence, degraded=degraded, grounded=grounded, created_at=timestamp(message.created_at)))


def frame_schemas() -> dict[str, Any]:
    """JSON schemas of every server frame and of their union `ServerFrame`, for the OpenAPI components
    (the WebSocket route itself has no place in OpenAPI; the widget's frame types are generated from these)."""
    from pydantic.json_schema import models_json_schema

    _, top = models_json_schema([(ServerFrame, "serialization")], ref_template="#/components/schemas/{model}")
    return dict(top.get("$defs", {}))




def pong() -> Frame:
    return _dump(PongFrame())


def heartbeat() -> Frame:
    return _dump(HeartbeatFrame())


def agent_message(message: Message) -> Frame:
    author = (message.metadata_ or {}).get("author") or {}
    return _dump(AgentMessageFrame(message_id=message.id, content=message.content,
                                   author=AuthorInfo(name=author.get("name", "Support")),
                                   created_at=timestamp(message.created_at)))


def handoff(state: HandoffState, *, position: int | None = None, assignee: str | None = None,
            ticket_id: str | None = None) -> Frame:
    return _dump(HandoffFrame(state=state, position=position, assignee=AuthorInfo(name=assignee) if assignee else None,
                              ticket_id=ticket_id, rating_requested=state == HandoffState.RESOLVED))


def notice(message: Message) -> Frame:
    return _dump(NoticeFrame(message_id=message.id, content=message.content, created_at=timestamp(message.created_at)))


def agent_typing(name: str, typing: bool = True) -> Frame:
    return _dump(AgentTypingFrame(author=AuthorInfo(name=name), typing=typing))
