"""Validate uploaded files before anything is written, then store them on disk."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from app.config import Settings
from app.db.repository import NewFile
from app.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.observability import metrics

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class PendingAttachment:
    id: uuid.UUID
    filename: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def suffix(self) -> str:
        return Path(self.filename).suffix.lower()


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name  # never trust a client path
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "file"
    return cleaned[-200:]


async def read_uploads(files: list[UploadFile], settings: Settings) -> list[PendingAttachment]:
    """All-or-nothing: one bad file rejects the whole message, so nothing is half-written."""
    if len(files) > settings.max_attachments_per_message:
        metrics.ATTACHMENT_PROCESSING.labels(status="rejected").inc()
        raise Unprocessable(f"At most {settings.max_attachments_per_message} attachments per message",
                            code="too_many_attachments")
    pending = []
    for upload in files:
        name = safe_filename(upload.filename or "")
        suffix = Path(name).suffix.lower()
        if suffix not in settings.allowed_attachment_types:
            metrics.ATTACHMENT_PROCESSING.labels(status="rejected").inc()
            raise UnsupportedMediaType(
                f"File type '{suffix or 'none'}' of '{name}' is not allowed; allowed: "
                + ", ".join(settings.allowed_attachment_types),
                code="attachment_type_not_allowed",
            )
        data = await upload.read(settings.max_attachment_bytes + 1)
        if len(data) > settings.max_attachment_bytes:
            metrics.ATTACHMENT_PROCESSING.labels(status="rejected").inc()
            raise PayloadTooLarge(f"'{name}' is larger than {settings.max_attachment_bytes} bytes",
                                  code="attachment_too_large")
        if not data:
            metrics.ATTACHMENT_PROCESSING.labels(status="rejected").inc()
            raise Unprocessable(f"'{name}' is empty", code="attachment_empty")
        pending.append(PendingAttachment(
            id=uuid.uuid4(), filename=name, content_type=upload.content_type or "application/octet-stream",
            data=data, sha256=hashlib.sha256(data).hexdigest()))
    return pending


def write_files(pending: list[PendingAttachment], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for item in pending:
            path = directory / f"{item.id.hex}{item.suffix}"
            path.write_bytes(item.data)
            written.append(path)
    except Exception:
        remove_files(written)
        raise
    return written


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def new_files(pending: list[PendingAttachment], written: list[Path]) -> list[NewFile]:
    """The rows to record for files validated (`pending`) and written to disk (`written`)."""
    return [NewFile(id=p.id, filename=p.filename, content_type=p.content_type, size_bytes=len(p.data),
                    sha256=p.sha256, storage_path=path) for p, path in zip(pending, written, strict=True)]
