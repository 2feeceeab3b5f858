"""Per-process L1 cache of session states, kept coherent across instances over Redis pub/sub.

Every write in the Redis store publishes `<instance>:<session id>` on one channel (inside its Lua
script); each instance listens and drops its copy. Two guards close the gaps a plain TTL cache leaves:
- an epoch that every invalidation bumps: a value read from Redis is only cached if no invalidation
  arrived while it was being read (otherwise a stale read could land after the message);
- while the subscription is down, messages may be missed, so the cache is cleared and bypassed until the
  listener is subscribed again.
The TTL bounds staleness if everything else fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.observability import metrics
from app.session.models import SessionState

log = logging.getLogger("app.session")


class L1Cache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.epoch = 0
        # Off until the invalidation listener is subscribed: a cache nobody invalidates is not coherent.
        self.enabled = False
        self._data: OrderedDict[str, tuple[float, SessionState]] = OrderedDict()

    def get(self, key: str) -> SessionState | None:
        entry = self._data.get(key) if self.enabled else None
        if entry is not None:
            cached_until, state = entry
            now = time.monotonic()
            if now < cached_until and state.expires_at_ms > time.time() * 1000:
                metrics.SESSION_CACHE_HITS.inc()
                return state
            self._data.pop(key, None)
        metrics.SESSION_CACHE_MISSES.inc()
        return None

    def put(self, key: str, state: SessionState, epoch: int) -> None:
        """Cache a value read when `epoch` was current, unless an invalidation came in meanwhile."""
        if not self.enabled or epoch != self.epoch or self.ttl <= 0:
            return
        self._data[key] = (time.monotonic() + self.ttl, state)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def invalidate(self, key: str) -> None:
        self.epoch += 1
        self._data.pop(key, None)

    def clear(self) -> None:
        self.epoch += 1
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class InvalidationListener:
    """Background task: subscribe to the invalidation channel, resubscribe after Redis comes back."""

    def __init__(self, redis: Redis, channel: str, instance_id: str, cache: L1Cache) -> None:
        self.redis = redis
        self.channel = channel
        self.instance_id = instance_id
        self.cache = cache
        self.subscribed = asyncio.Event()
        self.disconnected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-l1-invalidation")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay = 0.1
        warned = False
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while (confirm := await pubsub.get_message(timeout=1.0)) is None or confirm["type"] != "subscribe":
                    pass
                self.cache.clear()
                self.cache.enabled = True
                self.disconnected.clear()
                self.subscribed.set()
                if warned:
                    log.info("session.l1.resubscribed")
                delay, warned = 0.1, False
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._handle(message)
            except (RedisError, OSError) as exc:
                self.cache.enabled = False
                self.cache.clear()
                self.subscribed.clear()
                self.disconnected.set()
                if not warned:
                    log.warning("session.l1.unsubscribed", extra={"error_type": type(exc).__name__,
                                                                  "effect": "L1 cache bypassed until Redis is back"})
                    warned = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                await _quietly_close(pubsub)

    def _handle(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        text = data.decode() if isinstance(data, bytes) else str(data)
        origin, _, session_id = text.partition(":")
        if origin != self.instance_id:
            self.cache.invalidate(session_id)


async def _quietly_close(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except (RedisError, OSError):
        pass
