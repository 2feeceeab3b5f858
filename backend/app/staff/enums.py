"""Roles and actors of the staff side; the handoff states live with the other stored states (db/enums)."""

from __future__ import annotations

from enum import StrEnum

from app.db.enums import HUMAN_STATES, HandoffState

__all__ = ["HUMAN_STATES", "Actor", "HandoffState", "StaffRole"]


class StaffRole(StrEnum):
    ADMIN = "admin"  # also manages staff, canned replies and the knowledge base
    AGENT = "agent"


class Actor(StrEnum):
    ASSISTANT = "assistant"
    CUSTOMER = "customer"
    STAFF = "staff"
