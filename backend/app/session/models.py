"""The SessionStore contract: the state it keeps, the errors it raises, the operations it offers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from app.errors import Conflict, NotFound, ServiceUnavailable


@dataclass(frozen=True)
class SessionState:
    """One session's shared state. Times are epoch milliseconds (Redis server time for the Redis store).

    Read-only: the L1 cache hands the same object to every reader, so metadata and counters are mappings
    that cannot be changed in place; write through the store instead.
    """

    session_id: str
    status: str
    version: int
    created_at_ms: int
    updated_at_ms: int
    expires_at_ms: int
    ttl_ms: int
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    counters: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


class SessionNotFound(NotFound):
    code = "session_state_not_found"


class SessionExists(Conflict):
    code = "session_state_exists"


class VersionConflict(Conflict):
    """A compare-and-set lost: someone else updated the session since it was read."""

    code = "session_version_conflict"

    def __init__(self, session_id: str, expected: int, actual: int) -> None:
        super().__init__(f"Session changed (expected version {expected}, found {actual})")
        self.expected = expected
        self.actual = actual


class SessionStoreUnavailable(ServiceUnavailable):
    code = "session_store_unavailable"


class LockTimeout(ServiceUnavailable):
    code = "session_busy"


class SessionStore(Protocol):
    """Every store keeps the same semantics; tests/session/test_store_contract.py runs on each."""

    @property
    def confidential(self) -> bool:
        """True when metadata is never readable in clear outside this process (memory, or encrypted)."""
        ...

    @property
    def reachable(self) -> bool:
        """False when the store is known to be down right now (callers with a fallback skip it)."""
        ...

    async def create(self, session_id: str, *, metadata: dict[str, Any], ttl_seconds: float | None = None,
                     replace: bool = False) -> SessionState:
        """Create an active session at version 0; SessionExists unless `replace`."""
        ...

    async def get(self, session_id: str) -> SessionState | None:
        """The state, or None when missing, expired or unreadable (wrong key)."""
        ...

    async def update(self, session_id: str, expected_version: int, *, status: str | None = None,
                     metadata: dict[str, Any] | None = None) -> SessionState:
        """Compare-and-set: apply only if the version is still `expected_version`, then bump it.

        Only this operation changes the version; counters, history and touch are atomic on their own.
        """
        ...

    async def touch(self, session_id: str, ttl_seconds: float | None = None) -> bool:
        """Push the expiry out by the session's TTL (or `ttl_seconds`); False if the session is gone."""
        ...

    async def delete(self, session_id: str) -> bool: ...

    async def list_active(self, limit: int = 1000) -> list[str]:
        """Ids of sessions that are active and not expired."""
        ...

    async def incr(self, session_id: str, counter: str, amount: int = 1) -> int:
        """Add to a named counter atomically and return its new value."""
        ...

    async def append_history(self, session_id: str, entries: list[dict[str, Any]], max_len: int) -> int:
        """Append to the bounded recent-history window (oldest dropped); returns its length."""
        ...

    async def recent_history(self, session_id: str) -> list[dict[str, Any]]: ...

    async def expire_idle(self, limit: int = 500) -> list[str]:
        """Remove sessions whose expiry has passed; returns their ids (for closing them in SQL)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
