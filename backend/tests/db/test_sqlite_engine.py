"""The SQLite engine: one connection that transactions queue for, statements on the loop, COMMIT in
aiosqlite's thread, a cancelled transaction that gives the connection back without touching it while its
COMMIT runs, and a connection left open that does not keep the process from exiting."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.engine import Database, _inline_sqlite


async def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    async with db.transaction() as s:
        await s.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY, writer INTEGER)"))
    return db


async def test_statements_run_on_the_loop_and_commit_in_the_thread(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    seen: list[tuple[str, int]] = []
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        raw._conn.set_trace_callback(lambda sql: seen.append((sql.split()[0].upper(), threading.get_ident())))
    async with db.transaction() as s:
        await s.execute(text("INSERT INTO t (n, writer) VALUES (1, 0)"))
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    loop_thread = threading.get_ident()
    statements = {sql: thread for sql, thread in seen}
    assert statements["INSERT"] == loop_thread and statements["SELECT"] == loop_thread
    assert statements["COMMIT"] != loop_thread  # may checkpoint the WAL: not on the loop
    await db.dispose()


async def test_concurrent_transactions_queue_for_the_one_connection(tmp_path: Path) -> None:
    db = await _database(tmp_path)

    async def write(i: int) -> None:
        async with db.transaction() as s:
            n = (await s.execute(text("SELECT coalesce(max(n), 0) FROM t"))).scalar_one()
            await asyncio.sleep(0)  # another transaction would run here if it had a connection
            await s.execute(text("INSERT INTO t (n, writer) VALUES (:n, :w)"), {"n": n + 1, "w": i})

    await asyncio.gather(*(write(i) for i in range(50)))
    async with db.sessionmaker() as s:
        rows = (await s.execute(text("SELECT n, writer FROM t ORDER BY n"))).all()
    # Read-then-write never interleaved (no lost update, no busy error), in the order they asked.
    assert [r.n for r in rows] == list(range(1, 51))
    assert [r.writer for r in rows] == list(range(50))
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await db.dispose()


async def test_a_cancelled_transaction_gives_the_connection_back(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    holding = asyncio.Event()

    async def stuck() -> None:
        async with db.transaction() as s:
            await s.execute(text("INSERT INTO t (n, writer) VALUES (1, 1)"))
            holding.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(stuck())
    await holding.wait()
    waiting = asyncio.create_task(_count(db))  # queued behind the stuck transaction
    await asyncio.sleep(0.05)
    assert not waiting.done()
    task.cancel()
    assert await asyncio.wait_for(waiting, 10) == 0  # rolled back, and the connection is free
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await db.dispose()


class _SlowCommit(sqlite3.Connection):
    """A COMMIT that takes 50 ms in aiosqlite's thread and notes any call made while it runs."""

    committing = False
    overlaps: list[str] = []
    on_commit: Callable[[], object] = staticmethod(lambda: None)

    def commit(self) -> None:
        type(self).committing = True
        type(self).on_commit()
        time.sleep(0.05)
        super().commit()
        type(self).committing = False

    def _check(self, name: str) -> None:
        if type(self).committing:
            type(self).overlaps.append(name)

    def cursor(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        self._check("cursor")
        return super().cursor(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        self._check("execute")
        return super().execute(*args, **kwargs)

    def rollback(self) -> None:
        self._check("rollback")
        super().rollback()

    def close(self) -> None:
        self._check("close")
        super().close()


async def test_a_caller_cancelled_during_commit_leaves_the_connection_to_the_commit(tmp_path: Path) -> None:
    """Cancelled while its COMMIT runs in the thread, the transaction's connection is invalidated and
    closed, and that close (and the next transaction) waits for the COMMIT: sqlite3 used from two threads
    at once crashes the process."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}", pool_size=1, max_overflow=0,
                                 connect_args={"async_creator_fn": _inline_sqlite, "factory": _SlowCommit})
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    _SlowCommit.overlaps.clear()
    loop, committing = asyncio.get_running_loop(), asyncio.Event()
    _SlowCommit.on_commit = staticmethod(lambda: loop.call_soon_threadsafe(committing.set))

    async def write(n: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})

    try:
        for n in range(5):
            committing.clear()
            task = asyncio.create_task(write(n))
            await asyncio.wait_for(committing.wait(), 10)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await write(100 + n)  # the next transaction on the one connection
        async with engine.connect() as conn:
            rows = sorted((await conn.execute(text("SELECT n FROM t"))).scalars())
    finally:
        _SlowCommit.on_commit = staticmethod(lambda: None)
        await engine.dispose()
    assert _SlowCommit.overlaps == []
    assert rows == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]  # each COMMIT already under way completed


_NEVER_DISPOSED = """
import asyncio, sys
from sqlalchemy import text
from app.db.engine import Database
db = Database(f"sqlite+aiosqlite:///{sys.argv[1]}")
async def main():
    async with db.transaction() as s:
        await s.execute(text("CREATE TABLE t (n INTEGER)"))
asyncio.run(main())
print("done", flush=True)
"""


def test_a_connection_never_closed_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    """A script that forgets dispose() (or a connection dropped after an error, left as garbage) still
    exits: the interpreter joins non-daemon threads before it frees the pool, and aiosqlite's own thread
    is one, so without the daemon flag this process waits forever."""
    backend = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _NEVER_DISPOSED, str(tmp_path / "left-open.db")], cwd=backend,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr[-2000:]


async def _count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int((await s.execute(text("SELECT count(*) FROM t"))).scalar_one())
