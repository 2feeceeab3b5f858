"""Deletes uploads that no message took up, and attachments past their retention, files and rows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path

import anyio
from sqlalchemy import ColumnElement, delete, or_, select

from app.chat.attachments import remove_files
from app.config import Settings
from app.db.engine import Database
from app.db.models import Attachment, utcnow

log = logging.getLogger("app.files")
BATCH = 500


class AttachmentSweeper:
    """Runs `sweep()` every interval until stopped. Safe on several instances at once: deleting a file
    or row twice is a no-op."""

    def __init__(self, db: Database, settings: Settings, interval_seconds: float) -> None:
        self.db = db
        self.settings = settings
        self.interval = interval_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="attachment-sweep")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def sweep(self) -> int:
        """Delete one batch of expired attachments; returns how many went."""
        now = utcnow()
        expired: list[ColumnElement[bool]] = [Attachment.message_id.is_(None)
                   & (Attachment.created_at < now - timedelta(seconds=self.settings.attachment_unsent_ttl_seconds))]
        if self.settings.attachment_retention_days:
            expired.append(Attachment.created_at < now - timedelta(days=self.settings.attachment_retention_days))
        async with self.db.transaction() as s:
            rows = (await s.execute(select(Attachment.id, Attachment.storage_path)
                                    .where(or_(*expired)).limit(BATCH))).all()
            if rows:
                await s.execute(delete(Attachment).where(Attachment.id.in_([r.id for r in rows])))
        # Files after the rows: a crash in between leaves an orphan file, never a row without its file.
        await anyio.to_thread.run_sync(remove_files, [Path(r.storage_path) for r in rows])
        if rows:
            log.info("files.attachments.swept", extra={"count": len(rows)})
        return len(rows)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # retried next interval
                log.warning("files.sweep.failed", extra={"error_type": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
