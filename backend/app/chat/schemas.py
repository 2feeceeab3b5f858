"""Request and response shapes of the chat API (seed 003's fields kept, new ones only added)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.db.enums import HandoffState, MessageRole, SessionStatus

MAX_METADATA_BYTES = 8192
MAX_METADATA_DEPTH = 4


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


class CreateSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, min_length=1, max_length=255)
    metadata: dict[str, Any] = Field(default_factory=dict, description=f"At most {MAX_METADATA_BYTES} bytes of JSON, "
                                     f"{MAX_METADATA_DEPTH} levels deep")

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Session metadata is kept in SQL and in every instance's session cache: keep it small.
        if len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
        if _depth(value) > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata may nest at most {MAX_METADATA_DEPTH} levels")
        return value


class SessionCreated(BaseModel):
    session_id: uuid.UUID
    thread_id: uuid.UUID
    message: str = "Session created successfully"
    session_token: str = Field(description="Send as `Authorization: Bearer <token>` on session calls. Shown once.")
    user_id: str | None
    status: SessionStatus
    created_at: datetime


class SessionInfo(BaseModel):
    session_id: uuid.UUID
    thread_id: uuid.UUID
    user_id: str | None
    status: SessionStatus
    metadata: dict[str, Any]
    message_count: int
    created_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    handoff: HandoffStatus


class HandoffStatus(BaseModel):
    """Who the customer is talking to: the assistant, the staff queue, or a person."""

    state: HandoffState = HandoffState.BOT
    position: int | None = Field(default=None, description="Place in the staff queue while waiting")
    assignee: AuthorInfo | None = Field(default=None, description="The person handling the conversation")
    can_rate: bool = Field(default=False, description="A person resolved it and it was not rated yet")


# A sender's id for one message (REST body or WebSocket frame): a resend with the same id is not stored twice.
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
CLIENT_ID_MAX_LENGTH = 64


class SendMessageJSON(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    client_id: str | None = Field(default=None, min_length=1, max_length=CLIENT_ID_MAX_LENGTH,
                                  pattern=CLIENT_ID_PATTERN,
                                  description="Your id for this message: a resend with the same id (after a "
                                              "timeout or a dropped connection) is stored once and answered once")


class SourceMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    source: str


class Source(BaseModel):
    id: str
    content: str
    metadata: SourceMetadata
    distance: float


class AttachmentInfo(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int


class EscalationInfo(BaseModel):
    ticket_id: str
    reason: str
    priority: str


class MessageResponse(BaseModel):
    message: str = Field(description="The assistant's reply; empty when a person handles the conversation")
    sources: list[Source]
    requires_escalation: bool
    message_id: uuid.UUID | None = Field(description="The reply's id; null when no reply was produced "
                                                      "(`handled_by` is `human`)")
    user_message_id: uuid.UUID
    session_id: uuid.UUID
    created_at: datetime
    attachments: list[AttachmentInfo] = []
    escalation: EscalationInfo | None = None
    confidence: float | None = None
    degraded: bool = False
    grounded: bool = Field(default=False, description="True when the reply rests on the cited help-center "
                           "passages; false for \"I don't know\", small talk and handoff notices")
    handled_by: Literal["bot", "human"] = Field(
        default="bot", description="`human` while the conversation is with a person: the message was "
                                   "stored and forwarded to them, and the assistant did not answer")
    handoff_state: HandoffState = HandoffState.BOT
    queue_position: int | None = Field(default=None, description="Your place in the staff queue right after "
                                                                  "a handoff")


class AuthorInfo(BaseModel):
    name: str


class HistoryMessage(BaseModel):
    id: uuid.UUID
    role: MessageRole
    content: str
    sources: list[Source]
    attachments: list[AttachmentInfo]
    created_at: datetime
    # On an assistant reply that handed the conversation to a human.
    escalation: EscalationInfo | None = None
    # The sender's id of a customer message (`client_id` of a REST body or WebSocket frame), else null.
    client_id: str | None = None
    # Who wrote a staff member's message (role `agent`).
    author: AuthorInfo | None = None


class HistoryPage(BaseModel):
    session_id: uuid.UUID
    messages: list[HistoryMessage]
    total: int
    limit: int
    offset: int
    has_more: bool


class SessionClosed(BaseModel):
    session_id: uuid.UUID
    status: SessionStatus
    message: str = "Session closed"
