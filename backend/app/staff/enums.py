"""States and roles of the staff side, as StrEnums (they are stored and sent as their string values)."""

from __future__ import annotations

from enum import StrEnum


class HandoffState(StrEnum):
    BOT = "bot"            # the assistant answers
    WAITING = "waiting"    # escalated, in the staff queue; the assistant stays quiet
    ASSIGNED = "assigned"  # a staff member owns it
    RESOLVED = "resolved"  # the human is done; the customer's next message goes to the assistant


HUMAN_STATES = frozenset({HandoffState.WAITING, HandoffState.ASSIGNED})


class StaffRole(StrEnum):
    ADMIN = "admin"  # also manages staff, canned replies and the knowledge base
    AGENT = "agent"


class Actor(StrEnum):
    ASSISTANT = "assistant"
    CUSTOMER = "customer"
    STAFF = "staff"
