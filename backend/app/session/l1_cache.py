"""Per-process L1 cache of session states, kept coherent across instances over Redis pub/sub.

Every write in the Redis store publishes `<instance>:<session id>` on one channel (inside its Lua
script); every OTHER instance drops its copy. The writer ignores its own message and keeps the state its
write returned (the newest there is), so a session's next read in that process is a hit. Guards:
- generations that every invalidation (and every own write) bumps: a value is only cached if its key's
  generation did not move while it was being read or written. A read that raced a write, here or on
  another instance, is never cached, whichever of the reply and the pub/sub message arrives first;
- while the subscription is down, messages may be missed, so the cache is cleared and bypassed until the
  listener is subscribed again.
The TTL bounds staleness if everything else fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.observability import metrics
from app.session.models import SessionState

log = logging.getLogger("app.session")


# Generations live in a fixed ring of buckets (a key maps to one by hash): memory stays bounded, and two
# keys sharing a bucket only cost a spurious miss, never a stale hit.
_BUCKETS = 4096

Token = tuple[int, int]


class L1Cache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.epoch = 0  # bumped by clear(): invalidates every token handed out before
        # Off until the invalidation listener is subscribed: a cache nobody invalidates is not coherent.
        self.enabled = False
        self._generations = [0] * _BUCKETS
        self._data: OrderedDict[str, tuple[float, SessionState]] = OrderedDict()

    def token(self, key: str) -> Token:
        """Taken before reading `key` from Redis; put() refuses the value if the key changed meanwhile."""
        return self.epoch, self._generations[hash(key) % _BUCKETS]

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

    def put(self, key: str, state: SessionState, token: Token) -> None:
        """Cache a value read under `token`, unless an invalidation of that key came in meanwhile."""
        if not self.enabled or token != self.token(key) or self.ttl <= 0:
            return
        self._data[key] = (time.monotonic() + self.ttl, state)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def begin_write(self, key: str) -> Token:
        """Before this process writes `key`: drop the copy, return the token to hand to end_write()."""
        self.invalidate(key)
        return self.token(key)

    def end_write(self, key: str, token: Token, state: SessionState | None) -> None:
        """After the write's reply: keep `state` (None: the write failed or removed the key) if nothing
        invalidated the key meanwhile. Either way the generation moves, so a read that was in flight
        during the write (it may have seen the older value) cannot be cached after this."""
        unchanged = token == self.token(key)
        self.invalidate(key)
        if state is not None and unchanged:
            self.put(key, state, self.token(key))

    def invalidate(self, key: str) -> None:
        self._generations[hash(key) % _BUCKETS] += 1
        self._data.pop(key, None)

    def clear(self) -> None:
        self.epoch += 1
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data


class InvalidationListener:
    """Background task: subscribe to the invalidation channel, resubscribe after Redis comes back."""

    def __init__(self, redis: Redis, channel: str, instance_id: str, cache: L1Cache) -> None:
        self.redis = redis
        self.channel = channel
        self.instance_id = instance_id
        self.cache = cache
        self.subscribed = asyncio.Event()
        self.disconnected = asyncio.Event()
        # Called with the session id of each invalidation from another instance (tests await these).
        self.observers: list[Callable[[str], None]] = []
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
        # Our own writes already left the cache right (end_write); only other instances' writes drop a copy.
        if origin != self.instance_id:
            self.cache.invalidate(session_id)
            for observer in self.observers:
                observer(session_id)


async def _quietly_close(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except (RedisError, OSError):
        pass
