"""Build a TurnInput from what the store transaction read: recent history, the conversation's files and
the customer's memory."""

from __future__ import annotations

from app.agents.turn import HistoryItem, TurnInput
from app.db.models import ChatSession
from app.db.repository import StoredMessage
from app.tools.base_tool import AttachmentRef, ToolContext
from app.tools.memory_tool import MemorySnapshot

HISTORY_MESSAGES = 40  # more than any token budget keeps; the rest lives in the running summary


def customer(session: ChatSession) -> ToolContext:
    """Whose memory a turn reads. A user id the customer typed in is only a label: memory crosses
    sessions only for a verified one."""
    return ToolContext(session_id=session.id, user_id=session.user_id if session.user_verified else None)


def turn_input(session: ChatSession, text: str, stored: StoredMessage, channel: str = "rest") -> TurnInput:
    """Everything the agent needs for this turn; the stored question itself is left out of the history.
    `stored` comes from `MessageRepository.add_user_message(..., history_limit=HISTORY_MESSAGES)`."""
    history = tuple(HistoryItem(role=m.role, content=m.content, metadata=dict(m.metadata))
                    for m in stored.history)
    refs = tuple(AttachmentRef(id=a.id, filename=a.filename, content_type=a.content_type,
                               storage_path=a.storage_path, extracted_text=a.extracted_text,
                               message_id=a.message_id) for a in stored.session_files)
    memory = stored.preloaded if isinstance(stored.preloaded, MemorySnapshot) else None
    return TurnInput(text=text, session_id=session.id, user_id=customer(session).user_id, attachments=refs,
                     new_attachment_ids=frozenset(a.id for a in stored.attachments), history=history,
                     channel=channel, memory=memory)
