"""The app against a Redis that is missing at start, or dies and comes back mid-run (a real redis-server)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.session.redis_store import RedisSessionStore
from tests.conftest import free_port, make_settings, running_app
from tests.session.conftest import RedisServer


class Collect(logging.Handler):
    """Records app.session events; the app's logging setup replaces root handlers, so caplog misses them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.events: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(record.getMessage())


@pytest.fixture
def session_events() -> Iterator[Collect]:
    handler = Collect()
    logger = logging.getLogger("app.session")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # the test settings log at WARNING; the restore event is INFO
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def redis_settings(data_dir: Path, url: str):  # type: ignore[no-untyped-def]
    return make_settings(data_dir, session_store="redis", redis_url=url, redis_socket_timeout_seconds=0.5,
                         redis_key_prefix="faults:", session_encryption_keys=Fernet.generate_key().decode())


async def test_redis_unreachable_at_start_means_not_ready(data_dir: Path, session_events: Collect) -> None:
    async with running_app(redis_settings(data_dir, f"redis://127.0.0.1:{free_port()}/0")) as (_, client):
        readiness = await client.get("/health/readiness")
        assert readiness.status_code == 503
        assert readiness.json()["checks"]["redis"] == "error"
        started = time.monotonic()
        created = await client.post("/chat/sessions", json={})
        assert created.status_code == 503
        assert created.json()["code"] == "session_store_unavailable"
        assert time.monotonic() - started < 5, "must fail fast, not hang"
    assert "session.redis.unreachable" in session_events.events


async def test_redis_lost_mid_run_fails_fast_then_recovers(data_dir: Path, redis_server: RedisServer,
                                                          session_events: Collect) -> None:
    async with running_app(redis_settings(data_dir, redis_server.url)) as (app, client):
        store: RedisSessionStore = app.state.services.sessions.store
        await asyncio.wait_for(store.listener.subscribed.wait(), 10)
        created = (await client.post("/chat/sessions", json={"user_id": "u1"})).json()
        headers = {"Authorization": f"Bearer {created['session_token']}"}
        path = f"/chat/sessions/{created['session_id']}"
        assert (await client.post(f"{path}/messages", data={"message": "How do I reset my password?"},
                                  headers=headers)).status_code == 200
        assert (await client.get("/health/readiness")).status_code == 200

        redis_server.kill()
        started = time.monotonic()
        lost = await client.post(f"{path}/messages", data={"message": "still there?"}, headers=headers)
        assert lost.status_code == 503, lost.text
        assert lost.json()["code"] == "session_store_unavailable"
        assert time.monotonic() - started < 5, "must fail fast, not hang"
        readiness = await client.get("/health/readiness")
        assert readiness.status_code == 503 and readiness.json()["checks"]["redis"] == "error"
        # History lives in SQL and stays readable while Redis is away.
        assert (await client.get(f"{path}/history", headers=headers)).json()["total"] == 2

        redis_server.start()  # same port, empty: Redis came back without its data
        await asyncio.wait_for(_resubscribed(store), 15)
        assert (await client.get("/health/readiness")).status_code == 200
        again = await client.post(f"{path}/messages", data={"message": "Can I change my plan?"}, headers=headers)
        assert again.status_code == 200, again.text
        history = (await client.get(f"{path}/history", headers=headers)).json()
        assert [m["role"] for m in history["messages"]] == ["user", "assistant"] * 2
        assert "session.state.restored" in session_events.events
        assert (await client.post("/chat/sessions", json={})).status_code == 201


async def _resubscribed(store: RedisSessionStore) -> None:
    """Wait until the listener has noticed the outage and then subscribed again."""
    await store.listener.disconnected.wait()
    await store.listener.subscribed.wait()
