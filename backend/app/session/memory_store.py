"""The embedded default: session state in this process, same semantics as the Redis store."""

from __future__ import annotations

import asyncio
import copy
import time
from collections import deque
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from app.db.enums import SessionStatus
from app.session.models import SessionExists, SessionNotFound, SessionState, VersionConflict


def _now_ms() -> int:
    return int(time.time() * 1000)


def _frozen(metadata: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(copy.deepcopy(dict(metadata)))


class InMemorySessionStore:
    """For one instance only: nothing here is visible to another process."""

    def __init__(self, default_ttl_seconds: float) -> None:
        self.default_ttl_ms = int(default_ttl_seconds * 1000)
        self._states: dict[str, SessionState] = {}
        self._history: dict[str, deque[dict[str, Any]]] = {}
        # Every operation is a few dict steps with no await inside, so it is atomic on the event loop;
        # the lock only guards against future awaits creeping in.
        self._lock = asyncio.Lock()

    @property
    def confidential(self) -> bool:
        return True  # nothing leaves the process

    @property
    def reachable(self) -> bool:
        return True

    def _live(self, session_id: str, now: int) -> SessionState | None:
        state = self._states.get(session_id)
        if state is None:
            return None
        if state.expires_at_ms <= now:
            self._drop(session_id)
            return None
        return state

    def _drop(self, session_id: str) -> bool:
        self._history.pop(session_id, None)
        return self._states.pop(session_id, None) is not None

    async def create(self, session_id: str, *, metadata: dict[str, Any], ttl_seconds: float | None = None,
                     replace: bool = False) -> SessionState:
        now = _now_ms()
        async with self._lock:
            if not replace and self._live(session_id, now) is not None:
                raise SessionExists("Session state already exists")
            ttl = int(ttl_seconds * 1000) if ttl_seconds else self.default_ttl_ms
            state = SessionState(session_id=session_id, status=SessionStatus.ACTIVE, version=0, created_at_ms=now,
                                 updated_at_ms=now, expires_at_ms=now + ttl, ttl_ms=ttl,
                                 metadata=_frozen(metadata))
            self._states[session_id] = state
            self._history.pop(session_id, None)
            return state

    async def get(self, session_id: str) -> SessionState | None:
        # States are read-only (mapping proxies over private copies), so sharing them is safe.
        return self._live(session_id, _now_ms())

    async def update(self, session_id: str, expected_version: int, *, status: str | None = None,
                     metadata: dict[str, Any] | None = None) -> SessionState:
        now = _now_ms()
        async with self._lock:
            state = self._live(session_id, now)
            if state is None:
                raise SessionNotFound("Session state not found")
            if state.version != expected_version:
                raise VersionConflict(session_id, expected_version, state.version)
            state = replace(state, version=state.version + 1, updated_at_ms=now,
                            status=status if status is not None else state.status,
                            metadata=_frozen(metadata) if metadata is not None else state.metadata)
            self._states[session_id] = state
            return state

    async def touch(self, session_id: str, ttl_seconds: float | None = None) -> bool:
        now = _now_ms()
        state = self._live(session_id, now)
        if state is None:
            return False
        ttl = int(ttl_seconds * 1000) if ttl_seconds else state.ttl_ms
        self._states[session_id] = replace(state, expires_at_ms=now + ttl)
        return True

    async def delete(self, session_id: str) -> bool:
        return self._drop(session_id)

    async def list_active(self, limit: int = 1000) -> list[str]:
        now = _now_ms()
        return [sid for sid, s in list(self._states.items())
                if s.status == SessionStatus.ACTIVE and s.expires_at_ms > now][:limit]

    async def incr(self, session_id: str, counter: str, amount: int = 1) -> int:
        state = self._live(session_id, _now_ms())
        if state is None:
            raise SessionNotFound("Session state not found")
        counters = {**state.counters, counter: state.counters.get(counter, 0) + amount}
        self._states[session_id] = replace(state, counters=MappingProxyType(counters))
        return counters[counter]

    async def append_history(self, session_id: str, entries: list[dict[str, Any]], max_len: int) -> int:
        if self._live(session_id, _now_ms()) is None:
            raise SessionNotFound("Session state not found")
        window = self._history.get(session_id)
        if window is None or window.maxlen != max_len:
            window = deque(window or (), maxlen=max_len)
            self._history[session_id] = window
        window.extend(copy.deepcopy(entries))
        return len(window)

    async def recent_history(self, session_id: str) -> list[dict[str, Any]]:
        if self._live(session_id, _now_ms()) is None:
            return []
        return copy.deepcopy(list(self._history.get(session_id, ())))

    async def expire_idle(self, limit: int = 500) -> list[str]:
        now = _now_ms()
        expired = [sid for sid, s in list(self._states.items()) if s.expires_at_ms <= now][:limit]
        for sid in expired:
            self._drop(sid)
        return expired

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
