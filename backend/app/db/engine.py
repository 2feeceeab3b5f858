"""Async engine and the one-transaction-per-unit-of-work session scope."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder; a fresh checkout has no data/ yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def build_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    ensure_sqlite_dir(url)
    if parsed.get_backend_name() == "sqlite":
        # No pre-ping: a file connection does not go stale, and each ping is one more statement on
        # every checkout (several per turn).
        kwargs["connect_args"] = {"timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            # One connection, so transactions queue in order in the pool. SQLite has one writer:
            # with several connections they contend for the file lock, and SQLite's busy handler
            # sleeps (1 ms growing to 100 ms per retry), which at 32 concurrent turns put 5 s tails
            # on messages (p95 2.4 s vs 1.0 s, and fewer messages/s, measured with bench_api.py).
            # A second process on the same file still waits through the busy timeout above.
            kwargs.update(pool_size=1, max_overflow=0)
            kwargs["connect_args"]["async_creator_fn"] = _inline_sqlite
    else:
        # A server may have closed an idle connection (restart, failover, idle timeout).
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _InlineSQLite(aiosqlite.Connection):
    """aiosqlite's connection, with statements run where they are awaited (on the event loop) and
    only COMMIT sent to its thread.

    aiosqlite hands every call to its thread and back: four round trips through the event loop per
    statement (cursor, execute, fetch, close). Under load each one waits for the loop's turn, so a
    five-statement transaction held the one connection for 8-10 ms while the SQL took well under one,
    and the connection, not the CPU, limited messages/s (35/s vs 54/s at 32 concurrent turns, 32 vs
    21 ms of CPU per message; `scripts/bench_api.py`). A statement here is a B-tree lookup or an
    insert into a small index, written to the WAL in the OS's page cache: microseconds, like the
    ORM's own work around it. COMMIT stays in the thread: it is where SQLite checkpoints the WAL
    into the database file and may wait on the disk.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if fn == self._connection.commit:
            return await super()._execute(fn, *args, **kwargs)
        return fn(*args, **kwargs)


def _inline_sqlite(database: str, **kwargs: Any) -> aiosqlite.Connection:
    """SQLAlchemy's aiosqlite dialect calls this (`async_creator_fn`) with the arguments it would
    give `aiosqlite.connect`."""
    return _InlineSQLite(lambda: sqlite3.connect(database, **kwargs), 64)


class Database:
    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.engine = build_engine(url, pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
