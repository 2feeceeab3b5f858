"""The document parser's own process: `python -m app.files.parse_worker MEMORY_BYTES CPU_SECONDS`.

It caps its address space (RLIMIT_AS) before importing anything heavy, then reads one JSON request per
line on stdin ({"path", "suffix", "max_chars"}) and answers one JSON line on stdout
({"status", "text", "reason"}). Before each job it moves its CPU limit to "used so far + CPU_SECONDS",
so one file that spins is killed by SIGXCPU. A bomb that gets past the zip check costs this process
only: the server sees the pipe close, answers "could not be read" and starts a fresh worker.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
from pathlib import Path
from typing import Any

from app.files.zip_guard import ZipLimits, zip_problem

_OOXML = {".docx", ".xlsx", ".pptx"}


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _parse(converter: Any, stream_info: Any, request: dict[str, Any], limits: ZipLimits) -> dict[str, str]:
    path, suffix = Path(request["path"]), str(request["suffix"])
    if suffix in _OOXML:
        problem = zip_problem(path, limits)
        if problem:
            return {"status": "unsafe", "text": "", "reason": problem}
    try:
        with path.open("rb") as stream:
            result = converter.convert_stream(stream, stream_info=stream_info(extension=suffix, filename=path.name))
    except MemoryError:
        return {"status": "unsafe", "text": "", "reason": "memory limit reached while parsing", "restart": "1"}
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"[:300]
        if "MemoryError" in message:  # markitdown wraps the converter's exception in its own
            return {"status": "unsafe", "text": "", "reason": message, "restart": "1"}
        lowered = message.lower()
        status = "encrypted" if "password" in lowered or "encrypt" in lowered else "corrupt"
        return {"status": status, "text": "", "reason": message}
    text = (result.text_content or "").strip()
    if not text:
        return {"status": "empty", "text": "", "reason": "no text extracted"}
    return {"status": "processed", "text": text[: int(request["max_chars"])], "reason": ""}


def main() -> None:
    memory_bytes, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
    limits = ZipLimits(max_entries=int(sys.argv[3]), max_expanded_bytes=int(sys.argv[4]))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
    from markitdown import MarkItDown, StreamInfo  # after the limit: the import is inside it too

    converter = MarkItDown(enable_plugins=False)
    # markitdown imports each format's library on first use (pandas alone takes seconds): import them now,
    # while starting, so no file's time limit pays for it.
    for module in ("pandas", "openpyxl", "mammoth", "pptx", "pdfminer.high_level", "bs4"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        soft = int(_cpu_used()) + cpu_seconds
        if hard_cpu != resource.RLIM_INFINITY:
            soft = min(soft, hard_cpu)
        # Only the soft limit moves: an unprivileged process may not raise a hard limit it has lowered.
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard_cpu))
        try:
            answer = _parse(converter, StreamInfo, json.loads(line), limits)
        except MemoryError:
            answer = {"status": "unsafe", "text": "", "reason": "memory limit reached", "restart": "1"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
