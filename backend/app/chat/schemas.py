"""Request and response shapes of the chat API (seed 003's fields kept, new ones only added)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CreateSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, min_length=1, max_length=255)
    metadata: dict[str, Any] = Field(default_factory=dict)


class SessionCreated(BaseModel):
    session_id: uuid.UUID
    thread_id: uuid.UUID
    message: str = "Session created successfully"
    session_token: str = Field(description="Send as `Authorization: Bearer <token>` on session calls. Shown once.")
    user_id: str | None
    status: str
    created_at: datetime


class SessionInfo(BaseModel):
    session_id: uuid.UUID
    thread_id: uuid.UUID
    user_id: str | None
    status: str
    metadata: dict[str, Any]
    message_count: int
    created_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None


class SendMessageJSON(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str


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
    message: str
    sources: list[Source]
    requires_escalation: bool
    message_id: uuid.UUID
    user_message_id: uuid.UUID
    session_id: uuid.UUID
    created_at: datetime
    attachments: list[AttachmentInfo] = []
    escalation: EscalationInfo | None = None
    confidence: float | None = None
    degraded: bool = False


class HistoryMessage(BaseModel):
    id: uuid.UUID
    role: Literal["user", "assistant", "system"]
    content: str
    sources: list[Source]
    attachments: list[AttachmentInfo]
    created_at: datetime


class HistoryPage(BaseModel):
    session_id: uuid.UUID
    messages: list[HistoryMessage]
    total: int
    limit: int
    offset: int
    has_more: bool


class SessionClosed(BaseModel):
    session_id: uuid.UUID
    status: str
    message: str = "Session closed"
