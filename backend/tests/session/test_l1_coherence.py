"""The L1 cache on two real store instances: own writes keep it warm, other instances' writes drop it,
and a read or write that raced an invalidation is never cached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from types import MappingProxyType

import pytest

from app.observability import metrics
from app.session.models import SessionState
from app.session.redis_store import RedisSessionStore
from tests.session.conftest import redis_store


def hits() -> float:
    return metrics.SESSION_CACHE_HITS._value.get()


def misses() -> float:
    return metrics.SESSION_CACHE_MISSES._value.get()


class Seen:
    """The invalidations one instance receives from the others, to await instead of sleeping."""

    def __init__(self, store: RedisSessionStore) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        store.listener.observers.append(self.queue.put_nowait)

    async def wait_for(self, session_id: str, count: int = 1) -> None:
        async def until() -> None:
            left = count
            while left:
                left -= await self.queue.get() == session_id

        await asyncio.wait_for(until(), 5)


@pytest.fixture
async def pair(prefix: str) -> AsyncIterator[tuple[RedisSessionStore, RedisSessionStore]]:
    a, b = await redis_store(prefix), await redis_store(prefix)
    yield a, b
    await a.close()
    await b.close()


async def test_own_writes_keep_the_writer_warm(pair: tuple[RedisSessionStore, RedisSessionStore]) -> None:
    a, _ = pair
    created = await a.create("s", metadata={"plan": "free"})
    before_hits, before_misses = hits(), misses()
    assert await a.get("s") == created

    updated = await a.update("s", 0, metadata={"plan": "pro"})
    state = await a.get("s")
    assert state == updated and state is not None and state.metadata["plan"] == "pro"

    assert await a.incr("s", "messages", 2) == 2
    state = await a.get("s")
    assert state is not None and state.counters["messages"] == 2 and state.metadata["plan"] == "pro"

    assert await a.touch("s", 120)
    state = await a.get("s")
    assert state is not None and state.ttl_ms == updated.ttl_ms and state.expires_at_ms > updated.expires_at_ms

    closed = await a.update("s", 1, status="closed")  # payload kept: the reply carries it back
    state = await a.get("s")
    assert state == closed and state is not None and state.status == "closed" and state.metadata["plan"] == "pro"
    assert (hits() - before_hits, misses() - before_misses) == (5, 0)

    assert await a.delete("s")
    assert await a.get("s") is None


async def test_another_instances_write_drops_the_copy(pair: tuple[RedisSessionStore, RedisSessionStore]) -> None:
    a, b = pair
    seen_by_a = Seen(a)
    await b.create("s", metadata={"plan": "free"})
    await seen_by_a.wait_for("s")
    await a.get("s")
    before = hits()
    assert (await a.get("s")).metadata["plan"] == "free"  # type: ignore[union-attr]
    assert hits() == before + 1

    for write in (lambda: b.update("s", 0, metadata={"plan": "pro"}), lambda: b.incr("s", "messages"),
                  lambda: b.touch("s"), lambda: b.update("s", 1, status="closed")):
        await write()
        await seen_by_a.wait_for("s")
        assert "s" not in a.cache
        assert await a.get("s") == await b.get("s")  # b's own copy is the newest: the two agree
    state = await a.get("s")
    assert state is not None and state.status == "closed" and state.counters["messages"] == 1


async def stale_and_token(a: RedisSessionStore, b: RedisSessionStore) -> tuple[SessionState, tuple[int, int]]:
    """A read of "s" that began (token taken) and finished before a write: its value is now stale."""
    token = a.cache.token("s")
    stale = b.cache.get("s") or await b.get("s")
    assert stale is not None
    return stale, token


async def test_a_read_that_raced_a_write_is_never_cached(pair: tuple[RedisSessionStore, RedisSessionStore]) -> None:
    a, b = pair
    seen_by_a = Seen(a)
    await a.create("s", metadata={"n": 0})

    # The write came from another instance, and its message arrived before the read's reply.
    stale, token = await stale_and_token(a, b)
    await b.update("s", stale.version, metadata={"n": 1})
    await seen_by_a.wait_for("s")
    a.cache.put("s", stale, token)
    assert "s" not in a.cache
    assert (await a.get("s")).metadata["n"] == 1  # type: ignore[union-attr]

    # The write was this instance's own (no message comes back): its reply still outdates the read.
    stale, token = await stale_and_token(a, b)
    await a.update("s", stale.version, metadata={"n": 2})
    a.cache.put("s", stale, token)
    assert (await a.get("s")).metadata["n"] == 2  # type: ignore[union-attr]


async def test_an_own_write_outrun_by_another_instances_write_is_not_cached(
        pair: tuple[RedisSessionStore, RedisSessionStore]) -> None:
    a, b = pair
    seen_by_a = Seen(a)
    await a.create("s", metadata={"n": 0})
    # a's write reply is "late": b wrote after it and b's message reached a first.
    token = a.cache.begin_write("s")
    mine = await a.get("s")
    assert mine is not None
    await b.update("s", mine.version, metadata={"n": 1})
    await seen_by_a.wait_for("s")
    a.cache.end_write("s", token, mine)
    assert "s" not in a.cache
    assert (await a.get("s")).metadata["n"] == 1  # type: ignore[union-attr]


async def test_concurrent_reads_and_writes_on_one_instance_end_on_the_newest(
        pair: tuple[RedisSessionStore, RedisSessionStore]) -> None:
    a, b = pair
    seen_by_a = Seen(a)
    await a.create("s", metadata={"n": 0})

    async def writer(store: RedisSessionStore, rounds: int) -> None:
        for _ in range(rounds):
            await store.incr("s", "n")

    async def reader() -> None:
        for _ in range(100):
            await a.get("s")

    await asyncio.gather(writer(a, 50), writer(b, 50), reader(), reader())
    await seen_by_a.wait_for("s", 50)  # every invalidation b sent has reached a
    state = await a.get("s")  # from the cache or not, it must be the final state
    assert state is not None and state.counters["n"] == 100


async def test_a_read_begun_during_an_own_write_cannot_overwrite_its_result(
        pair: tuple[RedisSessionStore, RedisSessionStore]) -> None:
    a, _ = pair
    older = await a.create("s", metadata={"n": 0})
    write = a.cache.begin_write("s")
    read = a.cache.token("s")  # a read starts while the write is in flight; Redis may serve it first
    newest = replace(older, version=1, metadata=MappingProxyType({"n": 1}))
    a.cache.end_write("s", write, newest)  # the write's reply is handled first...
    a.cache.put("s", older, read)  # ...then the read's, carrying the value from before the write
    assert a.cache.get("s") == newest
