"""Staff events: what every staff socket hears on the staff channel of the event bus.

Events (docs/staff-api.md "Staff WebSocket"): `handoff.created`, `conversation.updated`,
`message.created`, `note.created`, `typing`, `conversation.rated`. Private notes only ever go here; the
customer's frames (`agent_message`, `handoff`, `notice`, `agent_typing`) are built by app/chat/frames.py.
"""

from __future__ import annotations

import uuid
from typing import Any

Frame = dict[str, Any]
STAFF_CHANNEL = "staff"  # a bus channel like a session's; every staff socket of every instance listens


def staff_event(kind: str, session_id: uuid.UUID, **data: Any) -> Frame:
    return {"type": kind, "session_id": str(session_id), **data}
