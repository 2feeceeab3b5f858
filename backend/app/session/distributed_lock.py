"""Named locks: `SET NX PX` with a random token in Redis, or asyncio locks for a single instance.

A holder renews its Redis lock while it works, so a long turn keeps it and a crashed holder loses it after
one TTL. Release and renewal are Lua compare-and-delete / compare-and-expire on the token: only the owner
can release or extend, never a process whose lock already expired and passed to someone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import weakref
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from app.session import lua
from app.session.models import LockTimeout
from app.session.redis_store import unavailable_on_redis_errors

log = logging.getLogger("app.session")


def lock_scripts(redis: Redis) -> tuple[AsyncScript, AsyncScript]:
    return redis.register_script(lua.RELEASE_LOCK), redis.register_script(lua.EXTEND_LOCK)


class DistributedLock:
    """One acquisition of one named lock; use `async with`, or acquire()/release() by hand."""

    def __init__(self, redis: Redis, key: str, ttl_seconds: float, *, renew: bool = True,
                 scripts: tuple[AsyncScript, AsyncScript] | None = None) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.renew = renew
        self.token = secrets.token_hex(16)
        self.lost = False
        self._renewal: asyncio.Task[None] | None = None
        self._release, self._extend = scripts or lock_scripts(redis)

    @unavailable_on_redis_errors
    async def try_acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def acquire(self, wait_seconds: float) -> None:
        """Wait up to `wait_seconds` (0: one attempt); LockTimeout (503 session_busy) after that."""
        deadline = time.monotonic() + wait_seconds
        delay = 0.005
        while not await self.try_acquire():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeout(f"Another request is still being processed (waited {wait_seconds:g}s)")
            # Polling with a capped backoff: cheap for Redis, and a waiter notices a release within 50 ms.
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 1.5, 0.05)
        self.lost = False
        if self.renew:
            self._renewal = asyncio.create_task(self._keep_alive(), name="lock-renewal")

    @unavailable_on_redis_errors
    async def extend(self) -> bool:
        """Reset the TTL if we still own the lock."""
        return bool(await self._extend(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> bool:
        """Delete the lock if we still own it; False if it had expired (and maybe passed on)."""
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
            self._renewal = None
        try:
            released = bool(await self._release(keys=[self.key], args=[self.token]))
        except RedisError as exc:
            # The lock will expire on its own after one TTL.
            log.warning("session.lock.release_failed", extra={"error_type": type(exc).__name__})
            return False
        if not released:
            log.warning("session.lock.expired_before_release", extra={"ttl_ms": self.ttl_ms})
        return released

    async def _keep_alive(self) -> None:
        interval = self.ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.extend():
                    self.lost = True
                    log.warning("session.lock.lost", extra={"ttl_ms": self.ttl_ms})
                    return
            except Exception as exc:  # keep trying: Redis may be back before the TTL runs out
                log.warning("session.lock.renew_failed", extra={"error_type": type(exc).__name__})

    async def __aenter__(self) -> DistributedLock:
        await self.acquire(0)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.release()


class RedisLocks:
    """Lock factory for many instances."""

    distributed = True

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: float, wait_seconds: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.wait_seconds = wait_seconds
        self._scripts = lock_scripts(redis)

    def lock(self, name: str, ttl_seconds: float | None = None, *, renew: bool = True) -> DistributedLock:
        return DistributedLock(self.redis, f"{self.prefix}lock:{name}", ttl_seconds or self.ttl_seconds,
                               renew=renew, scripts=self._scripts)

    @contextlib.asynccontextmanager
    async def hold(self, name: str, wait_seconds: float | None = None) -> AsyncIterator[None]:
        lock = self.lock(name)
        await lock.acquire(self.wait_seconds if wait_seconds is None else wait_seconds)
        try:
            yield
        finally:
            await lock.release()


class LocalLocks:
    """Lock factory for one instance: the same interface over asyncio locks."""

    distributed = False

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def hold(self, name: str, wait_seconds: float | None = None) -> AsyncIterator[None]:
        lock = self._locks.get(name)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[name] = lock
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        if wait <= 0 and lock.locked():
            raise LockTimeout("Another request is still being processed")
        try:
            await asyncio.wait_for(lock.acquire(), timeout=wait if wait > 0 else None)
        except TimeoutError as exc:
            raise LockTimeout(f"Another request is still being processed (waited {wait:g}s)") from exc
        try:
            yield
        finally:
            lock.release()
