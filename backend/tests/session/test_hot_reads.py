"""Authorising a request to a session is served by the L1 cache, and stays right across two instances.

Two apps in one process share one SQLite file and one Redis key prefix, like two instances behind a load
balancer; each has its own Redis store, L1 cache and invalidation listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import update

from app.db.models import ChatSession, utcnow
from app.observability import metrics
from app.session.redis_store import RedisSessionStore
from tests.conftest import make_settings, running_app
from tests.session.conftest import TEST_REDIS_URL


class Instance:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.store: RedisSessionStore = app.state.services.sessions.store
        self.seen: asyncio.Queue[str] = asyncio.Queue()
        self.store.listener.observers.append(self.seen.put_nowait)

    async def invalidated(self, session_id: str) -> None:
        """Wait for another instance's invalidation of this session to reach this one."""
        async def until() -> None:
            while await self.seen.get() != session_id:
                pass

        await asyncio.wait_for(until(), 5)


@contextlib.asynccontextmanager
async def instance(data_dir: Path, prefix: str, key: str, **overrides: Any) -> AsyncIterator[Instance]:
    settings = make_settings(data_dir, session_store="redis", redis_url=TEST_REDIS_URL, redis_key_prefix=prefix,
                             session_encryption_keys=key, **overrides)
    async with running_app(settings) as (app, client):
        node = Instance(app, client)
        await asyncio.wait_for(node.store.listener.subscribed.wait(), 10)
        yield node


@pytest.fixture
async def two(data_dir: Path, prefix: str, redis_client: Redis) -> AsyncIterator[tuple[Instance, Instance]]:
    key = Fernet.generate_key().decode()
    async with instance(data_dir, prefix, key) as a, instance(data_dir, prefix, key) as b:
        yield a, b


def counts() -> tuple[float, float]:
    return metrics.SESSION_CACHE_HITS._value.get(), metrics.SESSION_CACHE_MISSES._value.get()


async def create(node: Instance, **body: Any) -> tuple[str, dict[str, str]]:
    created = await node.client.post("/chat/sessions", json=body or {"user_id": "u1", "metadata": {"tier": "gold"}})
    assert created.status_code == 201, created.text
    return created.json()["session_id"], {"Authorization": f"Bearer {created.json()['session_token']}"}


async def test_repeated_requests_on_one_session_are_l1_hits(two: tuple[Instance, Instance]) -> None:
    a, _ = two
    sid, headers = await create(a)
    hits, misses = counts()
    for _ in range(3):
        info = await a.client.get(f"/chat/sessions/{sid}", headers=headers)
        assert info.status_code == 200
        assert info.json()["metadata"] == {"tier": "gold"} and info.json()["status"] == "active"
    for n in range(3):
        sent = await a.client.post(f"/chat/sessions/{sid}/messages", data={"message": f"Reset my password? {n}"},
                                   headers=headers)
        assert sent.status_code == 200, sent.text
    assert (await a.client.get(f"/chat/sessions/{sid}/history", headers=headers)).json()["total"] == 6
    # The creation left the state in a's L1, and every turn's own writes (counter, expiry) keep it there:
    # 3 info reads + 3 x (authorise + turn) + 1 history read, and not one trip to Redis for them.
    after_hits, after_misses = counts()
    assert (after_hits - hits, after_misses - misses) == (10, 0)
    info = (await a.client.get(f"/chat/sessions/{sid}", headers=headers)).json()
    assert info["message_count"] == 6 and info["user_id"] == "u1"


async def test_wrong_token_and_unknown_session_are_still_refused(two: tuple[Instance, Instance],
                                                                 redis_client: Redis, prefix: str) -> None:
    a, _ = two
    sid, headers = await create(a)
    assert (await a.client.get(f"/chat/sessions/{sid}", headers=headers)).status_code == 200
    hits, _ = counts()
    for bad in ({}, {"Authorization": "Bearer nope"}, {"X-Session-Token": headers["Authorization"][7:] + "x"}):
        refused = await a.client.get(f"/chat/sessions/{sid}", headers=bad)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_session_token"
        sent = await a.client.post(f"/chat/sessions/{sid}/messages", data={"message": "hi"}, headers=bad)
        assert sent.status_code == 401
    assert counts()[0] > hits, "the wrong tokens were checked against the cached state"
    _, other = await create(a)
    assert (await a.client.get(f"/chat/sessions/{sid}/history", headers=other)).status_code == 401

    unknown = str(uuid.uuid4())
    missing = await a.client.get(f"/chat/sessions/{unknown}", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "session_not_found"
    assert not await redis_client.exists(f"{prefix}s:{unknown}"), "an unknown id must not create state"


async def test_a_close_on_one_instance_is_seen_by_the_other(two: tuple[Instance, Instance]) -> None:
    a, b = two
    sid, headers = await create(a)
    await b.invalidated(sid)  # b heard of the creation; from now on its reads may be cached
    assert (await b.client.get(f"/chat/sessions/{sid}", headers=headers)).json()["status"] == "active"
    assert sid in b.store.cache and sid in a.store.cache

    # A turn on a (an update of counters and expiry) drops b's copy; b then reads the new state.
    assert (await a.client.post(f"/chat/sessions/{sid}/messages", data={"message": "hello"},
                                headers=headers)).status_code == 200
    await b.invalidated(sid)
    assert sid not in b.store.cache
    assert (await b.client.get(f"/chat/sessions/{sid}", headers=headers)).json()["message_count"] == 2
    state = b.store.cache.get(sid)
    assert state is not None and state.counters["messages"] == 2

    closed = await b.client.delete(f"/chat/sessions/{sid}", headers=headers)
    assert closed.status_code == 200
    await a.invalidated(sid)
    info = (await a.client.get(f"/chat/sessions/{sid}", headers=headers)).json()
    assert info["status"] == "closed" and info["closed_at"]
    refused = await a.client.post(f"/chat/sessions/{sid}/messages", data={"message": "still there?"},
                                  headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "session_closed"
    assert (await a.client.delete(f"/chat/sessions/{sid}", headers=headers)).status_code == 409


async def test_the_token_hash_is_stored_encrypted_only(data_dir: Path, prefix: str, redis_client: Redis) -> None:
    async with instance(data_dir, prefix, Fernet.generate_key().decode()) as a:
        sid, headers = await create(a)
        async with a.app.state.services.db.sessionmaker() as db:
            token_hash = (await db.get(ChatSession, uuid.UUID(sid))).token_hash  # type: ignore[union-attr]
        raw = await redis_client.hgetall(f"{prefix}s:{sid}")
        assert raw and not any(token_hash.encode() in v for v in raw.values())
        assert a.store.cache.get(sid).metadata["token_hash"] == token_hash  # type: ignore[union-attr]

    # Without encryption the hash stays out of Redis, and requests are authorised from SQL.
    async with instance(data_dir, f"{prefix}plain:", "", session_encryption=False) as plain:
        sid, headers = await create(plain)
        raw = await redis_client.hgetall(f"{prefix}plain:s:{sid}")
        assert b"token_hash" not in raw[b"p"] and b"u1" in raw[b"p"]
        hits, misses = counts()
        assert (await plain.client.get(f"/chat/sessions/{sid}", headers=headers)).status_code == 200
        assert (await plain.client.get(f"/chat/sessions/{sid}", headers={})).status_code == 401
        assert counts() == (hits, misses)


async def test_a_lost_state_is_restored_with_the_full_ttl_after_a_turn(two: tuple[Instance, Instance],
                                                                        redis_client: Redis, prefix: str) -> None:
    a, b = two
    sid, headers = await create(a)
    # A conversation (a session that never got a message expires after SESSION_UNUSED_TTL_SECONDS instead).
    assert (await a.client.post(f"/chat/sessions/{sid}/messages", data={"message": "hello"},
                                headers=headers)).status_code == 200
    # Redis lost the state (b removes it, so a's copy goes too), and the session was idle for a while.
    await b.store.delete(sid)
    await a.invalidated(sid)
    ttl = a.app.state.services.settings.session_ttl_seconds
    async with a.app.state.services.db.transaction() as db:
        await db.execute(update(ChatSession).where(ChatSession.id == uuid.UUID(sid))
                         .values(last_activity_at=utcnow() - timedelta(seconds=ttl - 60)))
    info = await a.client.get(f"/chat/sessions/{sid}", headers=headers)
    assert info.status_code == 200 and info.json()["status"] == "active"
    restored = await a.store.get(sid)
    assert restored is not None and restored.expires_at_ms - time.time() * 1000 < 61_000
    assert (await a.client.post(f"/chat/sessions/{sid}/messages", data={"message": "back again"},
                                headers=headers)).status_code == 200
    after = await b.store.get(sid)
    assert after is not None and after.expires_at_ms - time.time() * 1000 > (ttl - 60) * 1000
