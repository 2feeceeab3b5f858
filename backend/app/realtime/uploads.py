"""Attachments uploaded ahead of a WebSocket message (`POST /chat/sessions/{id}/attachments`).

They are validated exactly like REST message attachments, stored unattached (message_id NULL), and
linked to the message whose `attachment_ids` name them.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from pydantic import BaseModel
from sqlalchemy import func, select

from app.chat.attachments import PendingAttachment, remove_files, write_files
from app.chat.schemas import AttachmentInfo
from app.config import Settings
from app.db.engine import Database
from app.db.models import Attachment, ChatSession
from app.errors import AppError, Conflict
from app.observability import metrics


class UploadedAttachments(BaseModel):
    attachments: list[AttachmentInfo]


MAX_UNSENT_UPLOADS = 20


async def store_uploads(db: Database, settings: Settings, session: ChatSession,
                        pending: list[PendingAttachment]) -> list[Attachment]:
    """Write the files and their rows in one go: a failure leaves neither behind."""
    async with db.sessionmaker() as s:
        waiting = int(await s.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.session_id == session.id, Attachment.message_id.is_(None))) or 0)
    if waiting + len(pending) > MAX_UNSENT_UPLOADS:
        # Uploads wait for a message that references them; without a cap one session could fill the disk.
        raise AppError(f"At most {MAX_UNSENT_UPLOADS} uploaded files may wait for a message",
                       code="too_many_unsent_uploads", status_code=429)
    directory = settings.attachments_dir / session.id.hex
    written: list[Path] = await anyio.to_thread.run_sync(write_files, pending, directory)
    try:
        async with db.transaction() as s:
            current = await s.get(ChatSession, session.id)
            if current is None or current.status != "active":
                raise Conflict("Session is closed", code="session_closed")
            rows = [Attachment(id=p.id, session_id=session.id, message_id=None, filename=p.filename,
                               content_type=p.content_type, size_bytes=len(p.data), sha256=p.sha256,
                               storage_path=str(path))
                    for p, path in zip(pending, written, strict=True)]
            s.add_all(rows)
    except BaseException:
        remove_files(written)
        raise
    for _ in rows:
        metrics.ATTACHMENT_PROCESSING.labels(status="stored").inc()
    return rows
