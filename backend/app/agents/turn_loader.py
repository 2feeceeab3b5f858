"""Build a TurnInput from the database: recent history and the conversation's attachments."""

from __future__ import annotations

from app.agents.turn import HistoryItem, TurnInput
from app.db.models import Attachment, ChatSession, Message
from app.db.repository import MessageRepository
from app.tools.base_tool import AttachmentRef

HISTORY_MESSAGES = 40  # more than any token budget keeps; the rest lives in the running summary


async def load_turn_input(repo: MessageRepository, session: ChatSession, text: str, user_message: Message,
                          new_attachments: list[Attachment], channel: str = "rest") -> TurnInput:
    """Everything the agent needs for this turn; `user_message` is already stored and is left out."""
    rows = await repo.before(session.id, user_message.seq, HISTORY_MESSAGES)
    files = await repo.attachments(session.id)
    history = tuple(HistoryItem(role=m.role, content=m.content, metadata=dict(m.metadata_ or {})) for m in rows)
    refs = tuple(AttachmentRef(id=a.id, filename=a.filename, content_type=a.content_type,
                               storage_path=a.storage_path, extracted_text=a.extracted_text,
                               message_id=a.message_id) for a in files)
    # A user id the customer typed in is only a label: memory crosses sessions only for a verified one.
    return TurnInput(text=text, session_id=session.id, user_id=session.user_id if session.user_verified else None,
                     attachments=refs,
                     new_attachment_ids=frozenset(a.id for a in new_attachments), history=history,
                     channel=channel)
