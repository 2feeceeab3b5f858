"""The states and roles stored as strings in SQL; StrEnum members compare equal to those strings."""

from __future__ import annotations

from enum import StrEnum


class SessionStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    # A staff member writing in the conversation (human handoff).
    AGENT = "agent"
    SYSTEM = "system"
