"""DistributedLock against the real Redis: exclusion, expiry, renewal, release by the owner only."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from app.session.distributed_lock import DistributedLock, LocalLocks, RedisLocks
from app.session.models import LockTimeout


async def test_only_one_holder_at_a_time(redis_client: Redis, prefix: str) -> None:
    locks = RedisLocks(redis_client, prefix, ttl_seconds=5, wait_seconds=10)
    inside, overlaps, order = 0, 0, []

    async def work(i: int) -> None:
        nonlocal inside, overlaps
        async with locks.hold("session:x"):
            inside += 1
            overlaps += inside > 1
            await asyncio.sleep(0.005)  # widen the window in which an overlap would show
            order.append(i)
            inside -= 1

    await asyncio.gather(*(work(i) for i in range(20)))
    assert overlaps == 0
    assert sorted(order) == list(range(20))
    assert await redis_client.exists(f"{prefix}lock:session:x") == 0


async def test_waiting_is_bounded_with_a_clear_error(redis_client: Redis, prefix: str) -> None:
    locks = RedisLocks(redis_client, prefix, ttl_seconds=5, wait_seconds=0.2)
    async with locks.hold("busy"):
        with pytest.raises(LockTimeout) as timeout:
            async with locks.hold("busy"):
                pass
    assert timeout.value.status_code == 503 and timeout.value.code == "session_busy"
    async with locks.hold("busy", wait_seconds=0):  # free again after release
        pass


async def test_an_unrenewed_lock_expires_and_its_old_owner_cannot_release_it(redis_client: Redis,
                                                                               prefix: str) -> None:
    key = f"{prefix}lock:crashed"
    crashed = DistributedLock(redis_client, key, ttl_seconds=0.2, renew=False)
    await crashed.acquire(0)
    successor = DistributedLock(redis_client, key, ttl_seconds=5, renew=False)
    assert not await successor.try_acquire()
    await successor.acquire(wait_seconds=3)  # succeeds once the crashed holder's TTL runs out
    assert not await crashed.release(), "a lock that passed to someone else must not be deleted"
    assert not await crashed.extend()
    assert await redis_client.get(key) == successor.token.encode()
    assert await successor.release()
    assert await redis_client.exists(key) == 0


async def test_renewal_keeps_a_long_turn_locked(redis_client: Redis, prefix: str) -> None:
    key = f"{prefix}lock:long"
    holder = DistributedLock(redis_client, key, ttl_seconds=0.3)
    await holder.acquire(0)
    # Three TTLs later the lock is still held: the renewal task extended it every TTL/3.
    await asyncio.sleep(0.9)
    other = DistributedLock(redis_client, key, ttl_seconds=5, renew=False)
    assert not await other.try_acquire()
    assert not holder.lost
    assert await holder.release()
    assert await other.try_acquire()
    await other.release()


async def test_a_holder_notices_when_its_lock_was_lost(redis_client: Redis, prefix: str) -> None:
    key = f"{prefix}lock:stolen"
    holder = DistributedLock(redis_client, key, ttl_seconds=0.3)
    await holder.acquire(0)
    await redis_client.set(key, "someone-else")  # as if it expired and another process took it
    assert holder._renewal is not None
    await asyncio.wait_for(holder._renewal, 5)  # the renewal task ends when an extend is refused
    assert holder.lost
    assert not await holder.release()
    assert await redis_client.get(key) == b"someone-else"


async def test_local_locks_have_the_same_contract() -> None:
    locks = LocalLocks(wait_seconds=0.1)
    async with locks.hold("a"):
        with pytest.raises(LockTimeout):
            async with locks.hold("a"):
                pass
        with pytest.raises(LockTimeout):
            async with locks.hold("a", wait_seconds=0):
                pass
        async with locks.hold("b", wait_seconds=0):
            pass
