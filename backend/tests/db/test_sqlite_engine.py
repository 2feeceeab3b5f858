"""The SQLite engine: one connection that transactions queue for, statements on the loop, COMMIT in
aiosqlite's thread, and a cancelled transaction that gives the connection back."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from app.db.engine import Database


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


async def _count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int((await s.execute(text("SELECT count(*) FROM t"))).scalar_one())
