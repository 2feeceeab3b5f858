"""Redis-only behaviour: atomic CAS under contention, a coherent L1 across instances, encryption at rest."""

from __future__ import annotations

import asyncio
import logging

import pytest
from cryptography.fernet import Fernet
from redis.asyncio import Redis

from app.observability import metrics
from app.session.encryption import PayloadCodec
from app.session.models import VersionConflict
from app.session.redis_store import RedisSessionStore
from tests.session.conftest import redis_store


async def cas_increment(store: RedisSessionStore, session_id: str) -> int:
    """Read, add one, write back with compare-and-set; retry when another writer won. Returns attempts."""
    attempts = 0
    while True:
        attempts += 1
        state = await store.get(session_id)
        assert state is not None
        try:
            await store.update(session_id, state.version, metadata={"n": state.metadata["n"] + 1})
            return attempts
        except VersionConflict:
            continue


async def test_one_hundred_concurrent_updaters_lose_nothing(prefix: str) -> None:
    # Two "instances" (own clients, own L1 caches) racing on one session.
    a, b = await redis_store(prefix), await redis_store(prefix)
    from_b: asyncio.Queue[str] = asyncio.Queue()
    a.listener.observers.append(from_b.put_nowait)
    try:
        await a.create("hot", metadata={"n": 0})
        attempts = await asyncio.gather(*(cas_increment(a if i % 2 else b, "hot") for i in range(100)))
        # Invalidations travel over pub/sub: a may answer from its own L1 until all 50 of b's arrived.
        for _ in range(50):
            await asyncio.wait_for(from_b.get(), 5)
        final = await a.get("hot")
        assert final is not None
        assert final.version == 100
        assert final.metadata["n"] == 100
        assert sum(attempts) > 100, "the updaters never actually raced"
    finally:
        await a.close()
        await b.close()


async def test_a_write_on_one_instance_drops_the_copy_cached_by_another(prefix: str) -> None:
    a, b = await redis_store(prefix), await redis_store(prefix)
    invalidated = asyncio.Event()
    original = b.cache.invalidate

    def spy(key: str) -> None:
        original(key)
        invalidated.set()

    b.cache.invalidate = spy  # type: ignore[method-assign]
    try:
        await a.create("s", metadata={"plan": "free"})
        await asyncio.wait_for(invalidated.wait(), 5)  # b has seen the creation; its reads may be cached now
        invalidated.clear()
        hits = metrics.SESSION_CACHE_HITS._value.get()
        assert (await b.get("s")).metadata["plan"] == "free"  # type: ignore[union-attr]
        assert (await b.get("s")).metadata["plan"] == "free"  # type: ignore[union-attr]
        assert metrics.SESSION_CACHE_HITS._value.get() == hits + 1
        assert len(b.cache) == 1

        await a.update("s", 0, metadata={"plan": "pro"})
        await asyncio.wait_for(invalidated.wait(), 5)
        assert len(b.cache) == 0
        assert (await b.get("s")).metadata["plan"] == "pro"  # type: ignore[union-attr]
    finally:
        await a.close()
        await b.close()


async def test_payloads_are_encrypted_at_rest(prefix: str, redis_client: Redis) -> None:
    store = await redis_store(prefix, PayloadCodec([Fernet.generate_key().decode()]))
    try:
        await store.create("s", metadata={"email": "alice@example.com"})
        await store.append_history("s", [{"role": "user", "content": "my card is 4111"}], max_len=5)
        raw = await redis_client.hgetall(f"{prefix}s:s")
        assert b"alice" not in raw[b"p"]
        assert raw[b"v"] == b"0"  # what Lua needs stays in clear
        history = await redis_client.lrange(f"{prefix}s:s:h", 0, -1)
        assert all(b"4111" not in item for item in history)
        assert (await store.get("s")).metadata["email"] == "alice@example.com"  # type: ignore[union-attr]
        assert (await store.recent_history("s"))[0]["content"] == "my card is 4111"
    finally:
        await store.close()


async def test_old_data_stays_readable_after_key_rotation(prefix: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = await redis_store(prefix, PayloadCodec([old]))
    await before.create("s", metadata={"v": "written with the old key"})
    await before.close()

    after = await redis_store(prefix, PayloadCodec([new, old]))
    only_new = await redis_store(prefix, PayloadCodec([new]))
    try:
        state = await after.get("s")
        assert state is not None and state.metadata["v"] == "written with the old key"
        # A write re-encrypts with the first key, after which the old key is no longer needed.
        await after.update("s", state.version, metadata={"v": "rewritten"})
        assert (await only_new.get("s")).metadata["v"] == "rewritten"  # type: ignore[union-attr]
    finally:
        await after.close()
        await only_new.close()


async def test_wrong_key_reads_as_expired_with_a_warning(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    writer = await redis_store(prefix, PayloadCodec([Fernet.generate_key().decode()]))
    reader = await redis_store(prefix, PayloadCodec([Fernet.generate_key().decode()]))
    try:
        await writer.create("s", metadata={"secret": 1})
        await writer.append_history("s", [{"role": "user", "content": "hi"}], max_len=5)
        with caplog.at_level(logging.WARNING, logger="app.session"):
            assert await reader.get("s") is None
            assert await reader.recent_history("s") == []
        assert "session.payload.unreadable" in caplog.messages
        assert "session.history.unreadable" in caplog.messages
    finally:
        await writer.close()
        await reader.close()
