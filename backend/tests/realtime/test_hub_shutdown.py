"""Hub shutdown: turns that outlast the grace period are cancelled before the database closes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from app.realtime.bus import InProcessBus
from app.realtime.connection import Hub
from tests.conftest import make_settings


async def test_close_waits_for_quick_turns_and_cancels_the_rest(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    hub = Hub(make_settings(tmp_path, session_lock_ttl_seconds=0.3), InProcessBus())
    hub.start()
    release = asyncio.Event()
    finished: list[str] = []
    cancelled: list[str] = []

    async def turn(name: str, wait: asyncio.Event | None) -> None:
        try:
            if wait is not None:
                await wait.wait()  # never set: a turn stuck on a model that does not answer
            finished.append(name)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    quick = hub.spawn_turn(turn("quick", None))
    stuck = [hub.spawn_turn(turn(f"stuck-{i}", release)) for i in range(2)]
    with caplog.at_level(logging.WARNING, logger="app.realtime"):
        await hub.close()

    # close() returned only after every turn ended: nothing still runs when the database is disposed.
    assert quick.done() and not quick.cancelled() and finished == ["quick"]
    assert all(task.cancelled() for task in stuck)
    assert sorted(cancelled) == ["stuck-0", "stuck-1"]
    assert not hub.turns
    records = [r for r in caplog.records if r.getMessage() == "realtime.shutdown.turns_cancelled"]
    assert len(records) == 1 and records[0].__dict__["cancelled"] == 2


async def test_close_with_no_turns_logs_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub = Hub(make_settings(tmp_path, session_lock_ttl_seconds=0.3), InProcessBus())
    hub.start()
    with caplog.at_level(logging.WARNING, logger="app.realtime"):
        await hub.close()
    assert not [r for r in caplog.records if r.getMessage().startswith("realtime.shutdown")]
