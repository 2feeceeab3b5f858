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


class HandoffState(StrEnum):
    """Who answers the conversation (app/staff/handoff.py has the transitions)."""

    BOT = "bot"            # the assistant answers
    WAITING = "waiting"    # escalated, in the staff queue; the assistant stays quiet
    ASSIGNED = "assigned"  # a staff member owns it
    RESOLVED = "resolved"  # the human is done; the customer's next message goes to the assistant


HUMAN_STATES = frozenset({HandoffState.WAITING, HandoffState.ASSIGNED})
