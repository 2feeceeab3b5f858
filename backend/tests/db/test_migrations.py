"""The Alembic migrations on SQLite and on the machine's PostgreSQL, up and down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import normalise_database_url
from app.db import migrate
from app.db.models import Base
from tests.conftest import TEST_DATABASE_URL, make_settings, running_app, service_missing

TABLES = {"chat_sessions", "messages", "attachments", "memories", "escalations", "alembic_version"}


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names


async def _upgrade_downgrade(url: str) -> None:
    await anyio.to_thread.run_sync(migrate.upgrade, url)
    assert await _tables(url) >= TABLES
    engine = create_async_engine(url)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    await engine.dispose()
    await anyio.to_thread.run_sync(migrate.downgrade, url, "base")
    assert await _tables(url) <= {"alembic_version"}
    await anyio.to_thread.run_sync(migrate.upgrade, url)
    assert await _tables(url) >= TABLES


async def test_migrations_on_sqlite(tmp_path: Path) -> None:
    # The folder does not exist yet, as on a fresh checkout before `make migrate`.
    await _upgrade_downgrade(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'm.db'}")


async def test_models_match_the_migrations(tmp_path: Path) -> None:
    """A model change without a migration fails here (autogenerate finds nothing to do at head)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite+aiosqlite:///{tmp_path / 'diff.db'}"
    await anyio.to_thread.run_sync(migrate.upgrade, url)
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    await engine.dispose()
    assert diff == []


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, throw-away database on the test PostgreSQL server."""
    admin_url = normalise_database_url(TEST_DATABASE_URL)
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"support_test_{uuid.uuid4().hex[:10]}"
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        await admin.dispose()
        service_missing("database", f"{type(exc).__name__}: {exc}")
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.dispose()


async def test_migrations_on_postgresql(postgres_url: str) -> None:
    await _upgrade_downgrade(postgres_url)


async def test_chat_on_postgresql(postgres_url: str, data_dir: Path) -> None:
    settings = make_settings(data_dir, database_url=postgres_url)
    async with running_app(settings) as (app, client):
        assert app.state.services.db.engine.dialect.name == "postgresql"
        created = (await client.post("/chat/sessions", json={"user_id": "pg"})).json()
        headers = {"Authorization": f"Bearer {created['session_token']}"}
        url = f"/chat/sessions/{created['session_id']}/messages"
        replies = await asyncio.gather(*[client.post(url, json={"message": f"question {i}: how do refunds work?"},
                                                     headers=headers) for i in range(6)])
        assert all(r.status_code == 200 for r in replies)
        history = (await client.get(f"/chat/sessions/{created['session_id']}/history", headers=headers)).json()
        assert history["total"] == 12
        roles = [m["role"] for m in history["messages"]]
        assert roles == ["user", "assistant"] * 6
        assert (await client.get("/health/readiness")).status_code == 200
