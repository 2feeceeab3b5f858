"""Query cache for retrieval results: Redis when configured, an in-process LRU otherwise.

Keys hold the normalised query, k and the knowledge-base version, so any ingestion or deletion
(which changes the version) makes every older entry unreachable; old entries simply age out.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis

from app.observability import metrics

log = logging.getLogger("app.knowledge.cache")
_SPACE = re.compile(r"\s+")
T = TypeVar("T")


def normalise(query: str) -> str:
    return _SPACE.sub(" ", query.strip().lower()).strip(" ?!.")


def cache_key(query: str, k: int, version: str) -> str:
    digest = hashlib.sha256(f"{normalise(query)}|{k}".encode()).hexdigest()[:32]
    return f"{version}:{digest}"


class QueryCache(Protocol):
    backend: str

    def get(self, query: str, k: int, version: str) -> dict[str, Any] | None: ...

    def set(self, query: str, k: int, version: str, value: dict[str, Any]) -> None: ...


class LRUQueryCache:
    backend = "memory"

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, query: str, k: int, version: str) -> dict[str, Any] | None:
        key = cache_key(query, k, version)
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
        _count(self.backend, value is not None)
        return value

    def set(self, query: str, k: int, version: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._items[cache_key(query, k, version)] = value
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


class RedisQueryCache:
    """Shared by every instance. A Redis failure is a cache miss, never a failed answer.

    Retrieval blocks in a worker thread, while the app's one (async) Redis client lives on the event
    loop: each call hops over to `loop` and waits at most `timeout_seconds`.
    """

    backend = "redis"

    def __init__(self, client: Redis, loop: asyncio.AbstractEventLoop, prefix: str = "kbcache",
                 ttl_seconds: int = 3600, timeout_seconds: float = 1.0) -> None:
        self.client = client
        self.loop = loop
        self.prefix = prefix
        self.ttl = ttl_seconds
        self.timeout = timeout_seconds

    def run(self, call: Awaitable[T]) -> T:
        """Wait for a client call on the client's loop, from this (worker) thread."""
        async def wait() -> T:
            return await call

        coro = wait()
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:  # waiting here would block the loop the call needs: count it as a miss
            coro.close()
            if asyncio.iscoroutine(call):
                call.close()
            raise RuntimeError("the Redis query cache is called from a worker thread, not the event loop")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise

    def get(self, query: str, k: int, version: str) -> dict[str, Any] | None:
        try:
            raw: bytes | str | None = self.run(self.client.get(f"{self.prefix}:{cache_key(query, k, version)}"))
        except Exception as exc:
            log.warning("kb.cache.unavailable", extra={"error": type(exc).__name__})
            raw = None
        value = json.loads(raw) if raw else None
        _count(self.backend, value is not None)
        return value

    def set(self, query: str, k: int, version: str, value: dict[str, Any]) -> None:
        try:
            self.run(self.client.set(f"{self.prefix}:{cache_key(query, k, version)}", json.dumps(value), ex=self.ttl))
        except Exception as exc:
            log.warning("kb.cache.unavailable", extra={"error": type(exc).__name__})


def _count(backend: str, hit: bool) -> None:
    (metrics.RAG_CACHE_HITS if hit else metrics.RAG_CACHE_MISSES).labels(backend=backend).inc()
