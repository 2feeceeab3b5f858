"""Frames of the handoff: to the customer's sockets (session channel) and to staff sockets (staff channel).

Customer frames (docs/api.md "WebSocket /ws"): `agent_message`, `handoff` (state changes: waiting with the
queue position, assigned with who joined, resolved with the rating prompt, bot), `agent_typing`, `notice`.
Staff events (docs/api.md "Staff WebSocket"): `handoff.created`, `conversation.updated`,
`message.created`, `note.created`, `typing`. Private notes only ever go on the staff channel.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from app.db.models import Message, StaffNote
from app.staff.enums import HandoffState

Frame = dict[str, Any]
STAFF_CHANNEL = "staff"  # a bus channel like a session's; every staff socket of every instance listens


def _ts(message: Message | StaffNote) -> str:
    value = message.created_at  # SQLite hands back naive datetimes; they were written in UTC
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def agent_message(message: Message) -> Frame:
    author = (message.metadata_ or {}).get("author") or {}
    return {"type": "agent_message", "message_id": str(message.id), "content": message.content,
            "author": {"name": author.get("name", "Support")}, "created_at": _ts(message)}


def notice(message: Message) -> Frame:
    return {"type": "notice", "message_id": str(message.id), "content": message.content,
            "created_at": _ts(message)}


def handoff(state: HandoffState, *, position: int | None = None, assignee: str | None = None,
            ticket_id: str | None = None) -> Frame:
    return {"type": "handoff", "state": state.value, "position": position,
            "assignee": {"name": assignee} if assignee else None, "ticket_id": ticket_id,
            "rating_requested": state == HandoffState.RESOLVED}


def agent_typing(name: str, typing: bool = True) -> Frame:
    return {"type": "agent_typing", "author": {"name": name}, "typing": typing}


def staff_event(kind: str, session_id: uuid.UUID, **data: Any) -> Frame:
    return {"type": kind, "session_id": str(session_id), **data}
