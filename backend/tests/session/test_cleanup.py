"""Idle-session expiry: store and SQL agree, one instance sweeps at a time, the task stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from cryptography.fernet import Fernet

from app.config import Settings
from app.db import migrate
from app.db.engine import Database
from app.db.models import ChatSession, utcnow
from app.errors import Conflict
from app.observability import metrics
from app.redis_client import build_redis
from app.session.cleanup import SessionCleanup
from app.session.manager import SessionManager, build_session_manager
from tests.session.conftest import TEST_REDIS_URL, fresh_postgres_database

TTL = 600


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
        await anyio.to_thread.run_sync(migrate.upgrade, url)
        db = Database(url)
        yield db
        await db.dispose()
        return
    async with fresh_postgres_database() as plain_url:
        settings = Settings(_env_file=None, database_url=plain_url)  # type: ignore[call-arg]
        await anyio.to_thread.run_sync(migrate.upgrade, settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        yield db
        await db.dispose()


async def instance(db: Database, prefix: str) -> SessionManager:
    settings = Settings(_env_file=None, environment="test", session_store="redis",  # type: ignore[call-arg]
                        redis_url=TEST_REDIS_URL, redis_key_prefix=prefix, session_ttl_seconds=TTL,
                        session_unused_ttl_seconds=TTL * 10, session_encryption_keys=KEY)
    return await build_session_manager(settings, db, build_redis(settings))


async def shut(manager: SessionManager) -> None:
    """What the lifespan does: stop the manager, then close the Redis client it was handed."""
    await manager.close()
    assert manager.redis is not None
    await manager.redis.aclose()


KEY = Fernet.generate_key().decode()


async def add_session(db: Database, idle_seconds: float) -> ChatSession:
    async with db.transaction() as tx:
        row = ChatSession(token_hash="x" * 64, last_activity_at=utcnow() - timedelta(seconds=idle_seconds))
        tx.add(row)
    return row


async def status(db: Database, session_id: uuid.UUID) -> str:
    async with db.sessionmaker() as tx:
        row = await tx.get(ChatSession, session_id)
        assert row is not None
        return row.status


async def test_sweep_closes_idle_sessions_once_across_instances(database: Database, prefix: str) -> None:
    a, b = await instance(database, prefix), await instance(database, prefix)
    try:
        live = await add_session(database, idle_seconds=5)
        await a.on_created(live)
        expired_in_store = await add_session(database, idle_seconds=5)
        await a.store.create(str(expired_in_store.id), metadata={}, ttl_seconds=0.05)
        lost_by_redis = await add_session(database, idle_seconds=TTL + 60)  # idle in SQL, not in the store
        touched_elsewhere = await add_session(database, idle_seconds=TTL + 60)  # idle in SQL, live in store
        await b.on_created(touched_elsewhere)
        await asyncio.sleep(0.1)  # let the short store TTL run out

        reports = await asyncio.gather(SessionCleanup(a, 60).run_once(), SessionCleanup(b, 60).run_once())
        assert sorted(r is None for r in reports) == [False, True], "exactly one instance sweeps"
        report = next(r for r in reports if r is not None)
        assert report["closed"] == 2

        assert await status(database, live.id) == "active"
        assert await status(database, touched_elsewhere.id) == "active"
        assert await status(database, expired_in_store.id) == "closed"
        assert await status(database, lost_by_redis.id) == "closed"
        assert metrics.ACTIVE_SESSIONS._value.get() == 2
        assert await a.store.get(str(expired_in_store.id)) is None
    finally:
        await shut(a)
        await shut(b)


async def test_a_turn_restores_lost_state_or_expires_the_session(database: Database, prefix: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    manager = await instance(database, prefix)
    try:
        recent = await add_session(database, idle_seconds=30)
        with caplog.at_level(logging.INFO, logger="app.session"):
            async with manager.turn(recent) as state:
                assert state.status == "active"
        assert "session.state.restored" in caplog.messages
        # Rebuilt with the time the session had left, not a fresh TTL.
        assert TTL * 1000 - 40_000 < state.expires_at_ms - state.created_at_ms <= TTL * 1000 - 30_000

        stale = await add_session(database, idle_seconds=TTL + 1)
        with pytest.raises(Conflict) as expired:
            async with manager.turn(stale):
                pass
        assert expired.value.code == "session_expired"
        assert await status(database, stale.id) == "closed"
    finally:
        await shut(manager)


async def test_the_cleanup_task_stops_promptly(database: Database, prefix: str) -> None:
    manager = await instance(database, prefix)
    cleanup = SessionCleanup(manager, interval_seconds=3600)
    try:
        cleanup.start()
        await asyncio.wait_for(cleanup.stop(), timeout=10)
        assert cleanup._task is None
    finally:
        await shut(manager)
