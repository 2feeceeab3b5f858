"""Request and response shapes of the staff API (docs/api.md, "Staff API")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.security.passwords import MAX_PASSWORD_CHARS
from app.staff.enums import HandoffState, StaffRole

_EMAIL = r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,189}$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=254, description="The staff member's email")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)

    _clean = field_validator("username", "password")(_no_nul)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class StaffPublic(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: StaffRole
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(pattern=_EMAIL, max_length=254)
    name: str = Field(min_length=1, max_length=100)
    role: StaffRole = StaffRole.AGENT
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)

    _clean = field_validator("name", "password")(_no_nul)


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    role: StaffRole | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD_CHARS)

    _clean = field_validator("name", "password")(lambda v: _no_nul(v) if v is not None else v)


class StaffList(BaseModel):
    items: list[StaffPublic]
    total: int


class StaffRef(BaseModel):
    id: uuid.UUID | None = None
    name: str


class LastMessage(BaseModel):
    role: str
    content: str
    created_at: datetime


class ConversationItem(BaseModel):
    session_id: uuid.UUID
    state: HandoffState
    reason: str | None = None
    priority: str | None = None
    summary: str | None = None
    ticket_id: str | None = None
    waiting_since: datetime | None = None
    assignee: StaffRef | None = None
    last_message: LastMessage | None = None
    unread: int = 0


class ConversationList(BaseModel):
    items: list[ConversationItem]
    total: int


class ThreadEntry(BaseModel):
    id: uuid.UUID
    kind: Literal["message", "note"]
    role: str = Field(description="user, assistant, agent, system; `note` for a private note")
    content: str
    private: bool = False
    author: StaffRef | None = None
    sources: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    created_at: datetime


class Activity(BaseModel):
    actor_type: str
    actor: StaffRef | None = None
    from_state: HandoffState
    to_state: HandoffState
    created_at: datetime


class ConversationDetail(ConversationItem):
    user_id: str | None = None
    status: str
    thread: list[ThreadEntry]
    packet: dict[str, Any] = Field(default_factory=dict, description="The handoff packet written at escalation")
    activities: list[Activity] = []
    rating: dict[str, Any] | None = None


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: uuid.UUID | None = Field(default=None, description="Default: the caller")


class StaffMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1)
    private: bool = False

    _clean = field_validator("content")(_no_nul)


class StaffMessageCreated(BaseModel):
    id: uuid.UUID
    private: bool
    content: str
    author: StaffRef
    created_at: datetime
    state: HandoffState


class StateChanged(BaseModel):
    session_id: uuid.UUID
    state: HandoffState
    assignee: StaffRef | None = None


class Draft(BaseModel):
    content: str
    sources: list[dict[str, Any]]
    grounded: bool = Field(description="True when the draft rests on cited help-center passages")


class CannedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    short_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    content: str = Field(min_length=1, max_length=4000)

    _clean = field_validator("content")(_no_nul)


class CannedReplyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    short_code: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    content: str | None = Field(default=None, min_length=1, max_length=4000)


class CannedReplyOut(BaseModel):
    id: uuid.UUID
    short_code: str
    content: str
    updated_at: datetime


class CannedReplyList(BaseModel):
    items: list[CannedReplyOut]


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)

    _clean = field_validator("comment")(lambda v: _no_nul(v) if v is not None else v)


class RatingCreated(BaseModel):
    session_id: uuid.UUID
    score: int
    comment: str | None
    created_at: datetime
