"""Attachment quotas, checked after the upload is read and before anything is written.

Three budgets, so one anonymous client cannot fill the disk for everyone:
- per session: bytes stored on the session (SQL sum of its attachments), 413 `attachment_quota_exceeded`;
- per client address: bytes accepted in a moving hour, counted in the rate-limit storage (Redis when
  configured, so shared by instances), 413 `attachment_quota_exceeded`;
- in total: bytes of every stored attachment, and the free space on the attachments volume,
  507 `storage_full`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import anyio
from fastapi import Request
from limits import RateLimitItemPerHour
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import func, select

from app.chat.attachments import PendingAttachment
from app.config import Settings
from app.db.engine import Database
from app.db.models import Attachment
from app.errors import AppError, PayloadTooLarge
from app.observability import metrics


class StorageFull(AppError):
    status_code = 507
    code = "storage_full"


def _free_bytes(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(directory).free


async def check_attachment_quota(request: Request, db: Database, settings: Settings, session_id: uuid.UUID,
                                 pending: Sequence[PendingAttachment]) -> None:
    """Raise 413/507 when storing `pending` would go over a budget; nothing has been written yet."""
    incoming = sum(len(p.data) for p in pending)
    if incoming == 0:
        return
    async with db.sessionmaker() as s:
        session_bytes = int(await s.scalar(select(func.coalesce(func.sum(Attachment.size_bytes), 0))
                                           .where(Attachment.session_id == session_id)) or 0)
        total_bytes = int(await s.scalar(select(func.coalesce(func.sum(Attachment.size_bytes), 0))) or 0)
    if session_bytes + incoming > settings.attachment_quota_session_bytes:
        _reject("session")
        raise PayloadTooLarge(f"This conversation may hold at most {settings.attachment_quota_session_bytes} "
                              "bytes of files", code="attachment_quota_exceeded")
    free = await anyio.to_thread.run_sync(_free_bytes, settings.attachments_dir)
    if total_bytes + incoming > settings.attachment_quota_total_bytes \
            or free - incoming < settings.attachment_min_free_bytes:
        _reject("total")
        raise StorageFull("File storage is full; try again later", code="storage_full")
    storage: Storage | None = getattr(request.app.state, "limits_storage", None)
    if storage is not None:
        client = request.client.host if request.client else "unknown"
        # Two counters per address incremented by the byte count (a moving window would keep one entry per byte).
        limiter = SlidingWindowCounterRateLimiter(storage)
        budget = RateLimitItemPerHour(settings.attachment_quota_client_bytes_per_hour)
        if not await limiter.hit(budget, "upload_bytes", client, cost=incoming):
            _reject("client")
            raise PayloadTooLarge("Too many bytes of files from this address in the last hour",
                                  code="attachment_quota_exceeded")


def _reject(scope: str) -> None:
    metrics.ATTACHMENT_PROCESSING.labels(status="rejected").inc()
    metrics.ERRORS.labels(type=f"attachment_quota_{scope}").inc()
