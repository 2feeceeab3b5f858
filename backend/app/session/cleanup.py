"""Background expiry of idle sessions: one instance at a time (under a lock), stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.session.manager import SessionManager
from app.session.models import LockTimeout

log = logging.getLogger("app.session")


class SessionCleanup:
    def __init__(self, manager: SessionManager, interval_seconds: float) -> None:
        self.manager = manager
        self.interval = interval_seconds
        self.runs = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="session-cleanup")

    async def stop(self) -> None:
        """Wake the loop and wait for it: a sweep in progress finishes, none starts."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def run_once(self) -> dict[str, int] | None:
        """One sweep if no other instance is sweeping right now; None when another one is."""
        try:
            # The lock outlives a crashed sweeper by one interval at most, and is renewed while we work.
            async with self.manager.locks.hold("session-cleanup", wait_seconds=0):
                report = await self.manager.sweep()
        except LockTimeout:
            return None
        self.runs += 1
        return report

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # a failed sweep (Redis or SQL down) is retried next interval
                log.warning("session.cleanup.failed", extra={"error_type": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
