"""Zip bomb checks for Office files (DOCX, XLSX, PPTX are zip containers), before any parser sees them.

Both the sizes the archive declares and the bytes its entries really expand to are checked: a forged
header can declare a small size, so each entry is also decompressed in chunks, counting, and given up
on as soon as the running total passes the limit. Nothing is kept in memory beyond one chunk.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 2000
    max_expanded_bytes: int = 200 * 1024 * 1024


def zip_problem(path: Path, limits: ZipLimits) -> str | None:
    """Why the archive must not be parsed, or None when it is within the limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_entries:
                return f"{len(entries)} entries in the archive (limit {limits.max_entries})"
            declared = sum(e.file_size for e in entries)
            if declared > limits.max_expanded_bytes:
                return f"declares {declared} bytes unpacked (limit {limits.max_expanded_bytes})"
            actual = 0
            for entry in entries:
                with archive.open(entry) as member:
                    while chunk := member.read(CHUNK):
                        actual += len(chunk)
                        if actual > limits.max_expanded_bytes:
                            return f"expands past {limits.max_expanded_bytes} bytes"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        return f"unreadable archive: {type(exc).__name__}"
    except ValueError as exc:  # zipfile's own guard against overlapping entries (a known bomb shape)
        return f"unsafe archive: {exc}"[:300]
    return None
