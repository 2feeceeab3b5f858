"""Attachments uploaded ahead of a WebSocket message (`POST /chat/sessions/{id}/attachments`).

They are validated exactly like REST message attachments, stored unattached (message_id NULL), and
linked to the message whose `attachment_ids` name them.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from pydantic import BaseModel

from app.chat.attachments import PendingAttachment, new_files, remove_files, write_files
from app.chat.schemas import AttachmentInfo
from app.config import Settings
from app.db.models import Attachment, ChatSession
from app.db.repository import MessageRepository
from app.errors import AppError
from app.observability import metrics


class UploadedAttachments(BaseModel):
    attachments: list[AttachmentInfo]


MAX_UNSENT_UPLOADS = 20


async def store_uploads(repo: MessageRepository, settings: Settings, session: ChatSession,
                        pending: list[PendingAttachment]) -> list[Attachment]:
    """Write the files and their rows in one go: a failure leaves neither behind."""
    waiting = await repo.unsent_upload_count(session.id)
    if waiting + len(pending) > MAX_UNSENT_UPLOADS:
        # Uploads wait for a message that references them; without a cap one session could fill the disk.
        raise AppError(f"At most {MAX_UNSENT_UPLOADS} uploaded files may wait for a message",
                       code="too_many_unsent_uploads", status_code=429)
    directory = settings.attachments_dir / session.id.hex
    written: list[Path] = await anyio.to_thread.run_sync(write_files, pending, directory)
    try:
        rows = await repo.add_uploads(session.id, new_files(pending, written))
    except BaseException:
        remove_files(written)
        raise
    for _ in rows:
        metrics.ATTACHMENT_PROCESSING.labels(status="stored").inc()
    return rows
