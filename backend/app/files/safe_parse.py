"""Customer documents are parsed in a separate, resource-limited worker process (parse_worker.py).

One warm worker (markitdown imported once) takes one file at a time. A file that takes longer than
the time limit, or kills the worker (memory or CPU limit), costs only that worker: it is killed, the
file is reported unreadable, and the next file starts a fresh worker. The server's own memory never
holds the expanded document.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.files.zip_guard import ZipLimits

log = logging.getLogger("app.files")
_BACKEND_DIR = str(Path(__file__).resolve().parents[2])  # where `-m app.files.parse_worker` resolves
_LINE_LIMIT = 32 * 1024 * 1024  # one answer line: max_chars of text, JSON-escaped


@dataclass(frozen=True)
class ParseResult:
    status: str  # processed | empty | encrypted | corrupt | unsafe
    text: str
    reason: str


class SafeParser:
    def __init__(self, memory_bytes: int, cpu_seconds: int, timeout_seconds: float, zip_limits: ZipLimits,
                 startup_timeout_seconds: float = 60.0) -> None:
        self.memory_bytes = memory_bytes
        self.cpu_seconds = cpu_seconds
        self.timeout = timeout_seconds
        self.zip_limits = zip_limits
        self.startup_timeout = startup_timeout_seconds
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.restarts = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> SafeParser:
        return cls(settings.parse_worker_memory_bytes, settings.parse_worker_cpu_seconds,
                   settings.parse_worker_timeout_seconds,
                   ZipLimits(settings.parse_max_archive_entries, settings.parse_max_expanded_bytes))

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    async def parse(self, path: Path, suffix: str, max_chars: int) -> ParseResult:
        async with self._lock:
            try:
                proc = await self._ensure()
            except Exception as exc:
                log.warning("files.parse_worker.unavailable", extra={"error_type": type(exc).__name__})
                return ParseResult("unsafe", "", f"parser unavailable: {type(exc).__name__}")
            assert proc.stdin is not None and proc.stdout is not None
            request = json.dumps({"path": str(path), "suffix": suffix, "max_chars": max_chars}) + "\n"
            try:
                proc.stdin.write(request.encode())
                await proc.stdin.drain()
                line = await asyncio.wait_for(proc.stdout.readline(), self.timeout)
            except TimeoutError:
                await self._kill("timeout")
                return ParseResult("unsafe", "", f"parsing took longer than {self.timeout} s")
            except (ConnectionError, ValueError) as exc:  # pipe closed or an over-long line
                await self._kill(type(exc).__name__)
                return ParseResult("unsafe", "", f"parser failed: {type(exc).__name__}")
            except BaseException:
                # Cancelled (the tool's own timeout): the worker's late answer must not reach the next file.
                self._kill_now("cancelled")
                raise
            if not line:
                code = await proc.wait()
                self._proc = None
                self.restarts += 1
                log.warning("files.parse_worker.died", extra={"returncode": code})
                return ParseResult("unsafe", "", f"parser stopped (exit {code}): memory or CPU limit")
            answer = json.loads(line)
            if answer.get("restart"):
                await self._kill("memory")  # a fresh worker, so the memory that file took is returned
            return ParseResult(str(answer["status"]), str(answer["text"]), str(answer["reason"]))

    async def start(self) -> None:
        """Start the worker ahead of the first file (optional: parse() starts it when needed)."""
        async with self._lock:
            await self._ensure()

    async def close(self) -> None:
        async with self._lock:
            await self._kill(None)

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        limits = self.zip_limits
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.files.parse_worker", str(self.memory_bytes), str(self.cpu_seconds),
            str(limits.max_entries), str(limits.max_expanded_bytes),
            cwd=_BACKEND_DIR, stdin=asyncio.subprocess.PIPE,
            # stderr inherited: a crashed worker's traceback lands in the server's own stderr.
            stdout=asyncio.subprocess.PIPE, stderr=None, limit=_LINE_LIMIT)
        self._proc = proc
        assert proc.stdout is not None
        try:
            ready = await asyncio.wait_for(proc.stdout.readline(), self.startup_timeout)
        except TimeoutError:
            ready = b""
        if not ready:
            await self._kill("startup")
            raise RuntimeError("parse worker did not start")
        return proc

    async def _kill(self, reason: str | None) -> None:
        proc = self._kill_now(reason)
        if proc is not None:
            await proc.wait()

    def _kill_now(self, reason: str | None) -> asyncio.subprocess.Process | None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return None
        if reason is not None:
            self.restarts += 1
            log.warning("files.parse_worker.killed", extra={"reason": reason})
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return proc
