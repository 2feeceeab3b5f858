"""Build a TurnInput from the database: recent history and the conversation's attachments."""

from __future__ import annotations

from sqlalchemy import select

from app.agents.turn import HistoryItem, TurnInput
from app.db.engine import Database
from app.db.models import Attachment, ChatSession, Message
from app.tools.base_tool import AttachmentRef

HISTORY_MESSAGES = 40  # more than any token budget keeps; the rest lives in the running summary


async def load_turn_input(db: Database, session: ChatSession, text: str, user_message: Message,
                          new_attachments: list[Attachment], channel: str = "rest") -> TurnInput:
    """Everything the agent needs for this turn; `user_message` is already stored and is left out."""
    async with db.sessionmaker() as s:
        rows = list(await s.scalars(
            select(Message).where(Message.session_id == session.id, Message.seq < user_message.seq)
            .order_by(Message.seq.desc()).limit(HISTORY_MESSAGES)))
        files = list(await s.scalars(select(Attachment).where(Attachment.session_id == session.id)
                                     .order_by(Attachment.created_at)))
    history = tuple(HistoryItem(role=m.role, content=m.content, metadata=dict(m.metadata_ or {}))
                    for m in reversed(rows))
    refs = tuple(AttachmentRef(id=a.id, filename=a.filename, content_type=a.content_type,
                               storage_path=a.storage_path, extracted_text=a.extracted_text,
                               message_id=a.message_id) for a in files)
    # A user id the customer typed in is only a label: memory crosses sessions only for a verified one.
    return TurnInput(text=text, session_id=session.id, user_id=session.user_id if session.user_verified else None,
                     attachments=refs,
                     new_attachment_ids=frozenset(a.id for a in new_attachments), history=history,
                     channel=channel)
