"""One contract, every store: the in-memory and the Redis store must behave the same."""

from __future__ import annotations

import asyncio

import pytest

from app.session.models import SessionExists, SessionNotFound, SessionStore, VersionConflict


async def test_create_get_and_refuse_a_second_create(store: SessionStore) -> None:
    created = await store.create("s1", metadata={"user_id": "alice", "tags": ["a"]})
    assert (created.status, created.version, dict(created.metadata)) == ("active", 0, {"user_id": "alice",
                                                                                       "tags": ["a"]})
    assert created.expires_at_ms - created.updated_at_ms == 60_000
    loaded = await store.get("s1")
    assert loaded is not None and dict(loaded.metadata) == dict(created.metadata)
    with pytest.raises(SessionExists):
        await store.create("s1", metadata={})
    replaced = await store.create("s1", metadata={"fresh": True}, replace=True)
    assert dict(replaced.metadata) == {"fresh": True}
    assert await store.get("missing") is None


async def test_states_are_read_only(store: SessionStore) -> None:
    await store.create("s1", metadata={"a": 1})
    state = await store.get("s1")
    assert state is not None
    with pytest.raises(TypeError):
        state.metadata["a"] = 2  # type: ignore[index]


async def test_update_is_compare_and_set(store: SessionStore) -> None:
    await store.create("s1", metadata={"n": 0})
    first = await store.update("s1", 0, metadata={"n": 1})
    assert first.version == 1 and first.metadata["n"] == 1
    with pytest.raises(VersionConflict) as conflict:
        await store.update("s1", 0, metadata={"n": 99})
    assert conflict.value.actual == 1
    second = await store.update("s1", 1, status="closed")
    assert (second.version, second.status, second.metadata["n"]) == (2, "closed", 1)
    loaded = await store.get("s1")
    assert loaded is not None and (loaded.version, loaded.status) == (2, "closed")
    with pytest.raises(SessionNotFound):
        await store.update("nope", 0, status="closed")


async def test_touch_extends_and_expiry_hides_the_session(store: SessionStore) -> None:
    await store.create("short", metadata={}, ttl_seconds=0.2)
    await store.create("long", metadata={})
    assert await store.touch("short", ttl_seconds=30)
    touched = await store.get("short")
    assert touched is not None and touched.expires_at_ms - touched.created_at_ms >= 29_000
    await store.create("gone", metadata={}, ttl_seconds=0.05)
    await asyncio.sleep(0.1)  # waiting out a TTL is the behaviour under test
    assert await store.get("gone") is None
    assert not await store.touch("gone")
    assert not await store.touch("never")


async def test_list_active_and_expire_idle(store: SessionStore) -> None:
    await store.create("a", metadata={})
    await store.create("b", metadata={})
    await store.create("idle", metadata={}, ttl_seconds=0.05)
    b = await store.get("b")
    assert b is not None
    await store.update("b", b.version, status="closed")
    await asyncio.sleep(0.1)
    assert sorted(await store.list_active()) == ["a"]
    assert "idle" in await store.expire_idle()
    assert await store.expire_idle() == []
    assert await store.get("a") is not None


async def test_counters_and_delete(store: SessionStore) -> None:
    await store.create("s1", metadata={})
    assert await store.incr("s1", "messages") == 1
    assert await store.incr("s1", "messages", 5) == 6
    state = await store.get("s1")
    assert state is not None and state.counters == {"messages": 6} and state.version == 0
    with pytest.raises(SessionNotFound):
        await store.incr("nope", "messages")
    assert await store.delete("s1")
    assert not await store.delete("s1")
    assert await store.get("s1") is None


async def test_history_window_is_bounded(store: SessionStore) -> None:
    await store.create("s1", metadata={})
    for i in range(5):
        await store.append_history("s1", [{"role": "user", "content": f"q{i}"},
                                          {"role": "assistant", "content": f"a{i}"}], max_len=4)
    assert [e["content"] for e in await store.recent_history("s1")] == ["q3", "a3", "q4", "a4"]
    with pytest.raises(SessionNotFound):
        await store.append_history("nope", [{"x": 1}], max_len=4)
    await store.create("s1", metadata={}, replace=True)
    assert await store.recent_history("s1") == []


async def test_concurrent_counter_increments_are_not_lost(store: SessionStore) -> None:
    await store.create("s1", metadata={})
    await asyncio.gather(*(store.incr("s1", "hits") for _ in range(100)))
    state = await store.get("s1")
    assert state is not None and state.counters["hits"] == 100
