"""Build a TurnInput from what the store transaction read: recent history and the conversation's files."""

from __future__ import annotations

from app.agents.turn import HistoryItem, TurnInput
from app.db.models import ChatSession
from app.db.repository import StoredMessage
from app.tools.base_tool import AttachmentRef

HISTORY_MESSAGES = 40  # more than any token budget keeps; the rest lives in the running summary


def turn_input(session: ChatSession, text: str, stored: StoredMessage, channel: str = "rest") -> TurnInput:
    """Everything the agent needs for this turn; the stored question itself is left out of the history.
    `stored` comes from `MessageRepository.add_user_message(..., history_limit=HISTORY_MESSAGES)`."""
    history = tuple(HistoryItem(role=m.role, content=m.content, metadata=dict(m.metadata))
                    for m in stored.history)
    refs = tuple(AttachmentRef(id=a.id, filename=a.filename, content_type=a.content_type,
                               storage_path=a.storage_path, extracted_text=a.extracted_text,
                               message_id=a.message_id) for a in stored.session_files)
    # A user id the customer typed in is only a label: memory crosses sessions only for a verified one.
    return TurnInput(text=text, session_id=session.id, user_id=session.user_id if session.user_verified else None,
                     attachments=refs,
                     new_attachment_ids=frozenset(a.id for a in stored.attachments), history=history,
                     channel=channel)
