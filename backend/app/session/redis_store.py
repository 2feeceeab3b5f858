"""SessionStore on Redis: atomic Lua scripts, encrypted payloads, a coherent per-process L1 cache."""

from __future__ import annotations

import copy
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.session import lua
from app.session.encryption import PayloadCodec, UnreadablePayload
from app.session.l1_cache import InvalidationListener, L1Cache
from app.session.models import SessionExists, SessionNotFound, SessionState, SessionStoreUnavailable, VersionConflict

log = logging.getLogger("app.session")

P = ParamSpec("P")
T = TypeVar("T")


def unavailable_on_redis_errors(func: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Redis down or too slow becomes a 503 the caller can retry, never a hang or a 500."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("session.redis.unavailable", extra={"error_type": type(exc).__name__})
            raise SessionStoreUnavailable("Session storage is unavailable, please retry shortly") from exc

    return wrapper


class RedisSessionStore:
    def __init__(self, redis: Redis, *, prefix: str, codec: PayloadCodec, default_ttl_seconds: float,
                 l1_ttl_seconds: float = 5.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.codec = codec
        self.default_ttl_ms = int(default_ttl_seconds * 1000)
        self.instance_id = uuid.uuid4().hex[:12]
        self.channel = f"{prefix}invalidate"
        self.cache = L1Cache(l1_ttl_seconds)
        self.listener = InvalidationListener(redis, self.channel, self.instance_id, self.cache)
        self._active = f"{prefix}active"
        self._create = redis.register_script(lua.CREATE)
        self._update = redis.register_script(lua.UPDATE)
        self._touch = redis.register_script(lua.TOUCH)
        self._incr = redis.register_script(lua.INCR)
        self._append = redis.register_script(lua.APPEND_HISTORY)
        self._delete = redis.register_script(lua.DELETE)
        self._list_active = redis.register_script(lua.LIST_ACTIVE)
        self._expire = redis.register_script(lua.EXPIRE_IDLE)

    @property
    def confidential(self) -> bool:
        """Whether payloads are encrypted at rest (only then may they carry a token hash)."""
        return self.codec.encrypted

    @property
    def reachable(self) -> bool:
        """False while the invalidation listener has lost Redis: callers with a fallback can skip us."""
        return not self.listener.disconnected.is_set()

    def start(self) -> None:
        """Start listening for other instances' writes (the L1 cache stays off until subscribed)."""
        self.listener.start()

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}s:{session_id}"

    def _history_key(self, session_id: str) -> str:
        return f"{self.prefix}s:{session_id}:h"

    def _message(self, session_id: str) -> str:
        return f"{self.instance_id}:{session_id}"

    def _state(self, session_id: str, fields: dict[str, Any], payload: bytes | None,
               metadata: dict[str, Any] | None = None) -> SessionState | None:
        """Build a state from the hash fields (str keys) and either the known metadata or the payload."""
        if not fields:
            return None
        if metadata is None:
            try:
                metadata = self.codec.decode(payload or b"")
            except UnreadablePayload:
                # A key mix-up must not become a 500: the session reads as expired, loudly.
                log.warning("session.payload.unreadable", extra={"hint": "check SESSION_ENCRYPTION_KEYS"})
                return None
        else:
            # The caller's dict (nested ones too) must not alias a state the L1 cache shares.
            metadata = copy.deepcopy(metadata)
        counters = {k[2:]: int(v) for k, v in fields.items() if k.startswith("c:")}
        return SessionState(session_id=session_id, status=str(fields["st"]), version=int(fields["v"]),
                            created_at_ms=int(fields["ca"]), updated_at_ms=int(fields["ua"]),
                            expires_at_ms=int(fields["ea"]), ttl_ms=int(fields["ttl"]),
                            metadata=MappingProxyType(dict(metadata or {})), counters=MappingProxyType(counters))

    def _from_script(self, session_id: str, result: list[Any],
                     metadata: dict[str, Any] | None = None) -> SessionState | None:
        """A script's {1, state json[, payload]} reply as a state (metadata known or decoded)."""
        payload: bytes | None = result[2] if len(result) > 2 else None
        return self._state(session_id, json.loads(result[1]), payload, metadata)

    async def _write(self, session_id: str, script: Awaitable[list[Any]],
                     metadata: dict[str, Any] | None = None) -> tuple[list[Any], SessionState | None]:
        """Run a write script and keep the state it returns in this process's L1 (see L1Cache.end_write).

        Every reply shaped {1, state json, ...} carries the newest state; anything else (missing, lost
        CAS) or an error leaves the key uncached.
        """
        token = self.cache.begin_write(session_id)
        state: SessionState | None = None
        try:
            result = await script  # created by the caller, started only here
            if result and result[0] == 1 and len(result) > 1:
                state = self._from_script(session_id, result, metadata)
            return result, state
        finally:
            self.cache.end_write(session_id, token, state)

    @unavailable_on_redis_errors
    async def create(self, session_id: str, *, metadata: dict[str, Any], ttl_seconds: float | None = None,
                     replace: bool = False) -> SessionState:
        ttl = int(ttl_seconds * 1000) if ttl_seconds else self.default_ttl_ms
        result, state = await self._write(session_id, self._create(
            keys=[self._key(session_id), self._history_key(session_id), self._active],
            args=[ttl, self.codec.encode(metadata), "1" if replace else "0", session_id, self.channel,
                  self._message(session_id)]), metadata)
        if result[0] == 0:
            raise SessionExists("Session state already exists")
        assert state is not None
        return state

    @unavailable_on_redis_errors
    async def get(self, session_id: str) -> SessionState | None:
        cached = self.cache.get(session_id)
        if cached is not None:
            return cached
        token = self.cache.token(session_id)
        raw: dict[bytes, bytes] = await self.redis.hgetall(self._key(session_id))  # type: ignore[assignment]
        payload = raw.pop(b"p", None)
        state = self._state(session_id, {k.decode(): v.decode() for k, v in raw.items()}, payload)
        if state is not None:
            self.cache.put(session_id, state, token)
        return state

    @unavailable_on_redis_errors
    async def update(self, session_id: str, expected_version: int, *, status: str | None = None,
                     metadata: dict[str, Any] | None = None) -> SessionState:
        payload = self.codec.encode(metadata) if metadata is not None else b""
        result, state = await self._write(session_id, self._update(
            keys=[self._key(session_id), self._active],
            args=[expected_version, status or "", payload, session_id, self.channel, self._message(session_id)]),
            metadata)
        if result[0] == -1:
            raise SessionNotFound("Session state not found")
        if result[0] == -2:
            raise VersionConflict(session_id, expected_version, int(result[1]))
        if state is None:
            raise SessionNotFound("Session state is unreadable")
        return state

    @unavailable_on_redis_errors
    async def touch(self, session_id: str, ttl_seconds: float | None = None) -> bool:
        ttl = int(ttl_seconds * 1000) if ttl_seconds else 0
        result, _ = await self._write(session_id, self._touch(
            keys=[self._key(session_id), self._history_key(session_id), self._active],
            args=[ttl, session_id, self.channel, self._message(session_id)]))
        return bool(result[0] == 1)

    @unavailable_on_redis_errors
    async def delete(self, session_id: str) -> bool:
        token = self.cache.begin_write(session_id)
        try:
            removed = await self._delete(keys=[self._key(session_id), self._history_key(session_id), self._active],
                                         args=[session_id, self.channel, self._message(session_id)])
        finally:
            self.cache.end_write(session_id, token, None)
        return bool(removed)

    @unavailable_on_redis_errors
    async def list_active(self, limit: int = 1000) -> list[str]:
        ids = await self._list_active(keys=[self._active], args=[limit])
        return [i.decode() for i in ids]

    @unavailable_on_redis_errors
    async def incr(self, session_id: str, counter: str, amount: int = 1) -> int:
        result, _ = await self._write(session_id, self._incr(
            keys=[self._key(session_id)], args=[counter, amount, self.channel, self._message(session_id)]))
        if result[0] == 0:
            raise SessionNotFound("Session state not found")
        return int(json.loads(result[1])[f"c:{counter}"])

    @unavailable_on_redis_errors
    async def append_history(self, session_id: str, entries: list[dict[str, Any]], max_len: int) -> int:
        if not entries:
            return len(await self.recent_history(session_id))
        length = await self._append(keys=[self._key(session_id), self._history_key(session_id)],
                                    args=[max_len, *(self.codec.encode(e) for e in entries)])
        if length < 0:
            raise SessionNotFound("Session state not found")
        return int(length)

    @unavailable_on_redis_errors
    async def recent_history(self, session_id: str) -> list[dict[str, Any]]:
        entries = []
        for blob in await self.redis.lrange(self._history_key(session_id), 0, -1):
            try:
                entries.append(self.codec.decode(blob))
            except UnreadablePayload:
                log.warning("session.history.unreadable", extra={"hint": "check SESSION_ENCRYPTION_KEYS"})
                return []
        return entries

    @unavailable_on_redis_errors
    async def expire_idle(self, limit: int = 500) -> list[str]:
        ids = await self._expire(keys=[self._active], args=[f"{self.prefix}s:", limit, self.channel,
                                                             self.instance_id])
        for i in ids:
            self.cache.invalidate(i.decode())
        return [i.decode() for i in ids]

    @unavailable_on_redis_errors
    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        """Stop listening; the client belongs to whoever built it (the lifespan) and stays open."""
        await self.listener.stop()
