"""Async engine and the one-transaction-per-unit-of-work session scope."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
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

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        # aiosqlite's worker thread is not a daemon, so a connection dropped without close() (a connect
        # event that raised, a task cancelled after its loop closed) keeps the process alive as long as
        # it is uncollected garbage: the interpreter waits for non-daemon threads before its last garbage
        # collection, so it never exits (CI hung after "551 passed"). The thread only runs the connect,
        # COMMIT and stop()'s close; cut off at exit, SQLite rolls an unfinished COMMIT back from the WAL.
        self._thread.daemon = True
        self._in_thread: asyncio.Future[Any] | None = None

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # A COMMIT whose caller was cancelled goes on in the thread, and the pool then invalidates and
        # closes the connection: sqlite3's objects used from two threads at once crash the process (a
        # segfault within a few hundred cancelled transactions), so nothing runs beside a COMMIT. The
        # COMMIT is awaited through a plain future the thread resolves, not a task, so cancelling every
        # task (a loop shutting down) does not end the wait early either.
        await self._thread_idle()
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if fn == self._connection.commit:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._in_thread = done
            done.add_done_callback(self._thread_done)
            self._tx.put_nowait((done, partial(fn, *args, **kwargs)))
            return await asyncio.shield(done)  # a cancelled caller does not stop the COMMIT itself
        return fn(*args, **kwargs)

    async def _thread_idle(self) -> None:
        while self._in_thread is not None:
            await asyncio.wait({self._in_thread})

    def _thread_done(self, done: asyncio.Future[Any]) -> None:
        if self._in_thread is done:
            self._in_thread = None
        if not done.cancelled():
            done.exception()  # read, so the error of a commit whose caller left is not logged as unretrieved

    async def close(self) -> None:
        """Close on the loop once the thread is idle. After stop() (SQLAlchemy's terminate on a second
        cancellation) the thread closes the connection itself and has exited: nothing left to do here."""
        await self._thread_idle()
        if not self._running or self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            connection.close()
        finally:
            stopped = self.stop()  # the thread ends (also when close raised); its close step finds nothing
            if stopped is not None:
                await stopped


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
