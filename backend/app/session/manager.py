"""What the chat service needs from sessions: state in the store, a lock per turn, restore and expiry.

SQL stays the durable record (messages, status, token hash). The store holds the shared, fast-changing
state (status, version, counters, expiry, a recent-history window, metadata) and, when its payloads are
confidential (encrypted, or in this process), a copy of what authorising a request needs (token hash,
status), so the hot reads of a session are served by the L1 cache or one Redis read instead of SQL. If
the store has lost a session (Redis restarted empty, or the payload cannot be decrypted) the state is
rebuilt from SQL, unless the session has been idle past its TTL, in which case it is closed as expired.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import delete, exists, func, select, update

from app.config import Settings
from app.db.engine import Database
from app.db.enums import SessionStatus
from app.db.models import Attachment, ChatSession, Message, utcnow
from app.errors import Conflict
from app.observability import metrics
from app.session.distributed_lock import LocalLocks, RedisLocks
from app.session.encryption import PayloadCodec, derived_development_key, parse_keys
from app.session.memory_store import InMemorySessionStore
from app.session.models import (
    SessionExists,
    SessionNotFound,
    SessionState,
    SessionStore,
    SessionStoreUnavailable,
    VersionConflict,
)
from app.session.redis_store import RedisSessionStore

log = logging.getLogger("app.session")

HISTORY_ENTRY_CHARS = 2000
# What a state must carry to stand in for the SQL row when authorising (older states lack some).
_VIEW_KEYS = frozenset({"token_hash", "created_at", "thread_id"})


class SessionManager:
    def __init__(self, store: SessionStore, locks: RedisLocks | LocalLocks, db: Database, settings: Settings,
                 redis: Redis | None = None) -> None:
        self.store = store
        self.locks = locks
        self.db = db
        self.settings = settings
        self.redis = redis
        self.ttl_seconds = settings.session_ttl_seconds
        # Until its first message a session lives only this long (record_turn extends it to the full TTL).
        self.unused_ttl_seconds = settings.session_unused_ttl_seconds

    @property
    def distributed(self) -> bool:
        return self.redis is not None

    async def on_created(self, session: ChatSession) -> SessionState:
        return await self.store.create(str(session.id), metadata=self._shared_metadata(session),
                                       ttl_seconds=min(self.unused_ttl_seconds, self.ttl_seconds), replace=True)

    async def on_closed(self, session_id: uuid.UUID, closed_at: datetime | None = None) -> None:
        """Mark the state closed so every instance sees it at once (CAS, retried if a write raced us)."""
        closed = _aware(closed_at or utcnow()).isoformat()
        for _ in range(5):
            state = await self.store.get(str(session_id))
            if state is None or state.status == SessionStatus.CLOSED:
                return
            try:
                await self.store.update(str(session_id), state.version, status=SessionStatus.CLOSED,
                                        metadata={**state.metadata, "closed_at": closed})
                return
            except VersionConflict:
                continue

    async def lookup(self, session_id: uuid.UUID) -> ChatSession | None:
        """The session for authorising a request: L1, then the store, then SQL (restoring the state).

        A session served from the store is a detached ChatSession built from its state: read it, never
        add it to a database session. SQL answers when the store cannot hold the token hash confidentially,
        is down, or has a state written by an older version.
        """
        if not self.store.confidential or not self.store.reachable:
            return await self._row(session_id)
        try:
            state = await self.store.get(str(session_id))
            if state is None:
                row = await self._row(session_id)
                if row is None or row.status != SessionStatus.ACTIVE or await self._expired(row):
                    return row  # closed (or about to be, by the sweep or the next turn): SQL has it all
                state = await self._restore(row)
                if state is None:
                    return await self._row(session_id)  # it was closed meanwhile
            view = _view(session_id, state, self.ttl_seconds)
        except SessionStoreUnavailable:
            return await self._row(session_id)
        return view if view is not None else await self._row(session_id)

    @contextlib.asynccontextmanager
    async def turn(self, session: ChatSession) -> AsyncIterator[SessionState]:
        """Hold the session's lock (across instances when Redis is on) for the whole turn."""
        async with self.locks.hold(f"session:{session.id}"):
            yield await self._ensure_state(session.id)

    async def record_turn(self, session_id: uuid.UUID, user_text: str, reply_text: str) -> None:
        """Update the shared state after a turn. Both messages are already in SQL, so a failure here is
        logged rather than returned: a retry by the customer would only duplicate the question."""
        sid = str(session_id)
        try:
            await self.store.append_history(
                sid, [{"role": "user", "content": user_text[:HISTORY_ENTRY_CHARS]},
                      {"role": "assistant", "content": reply_text[:HISTORY_ENTRY_CHARS]}],
                self.settings.session_history_window)
            await self.store.incr(sid, "messages", 2)
            # The full TTL, not the state's own: a restored state was created with only what was left.
            await self.store.touch(sid, self.ttl_seconds)
        except (SessionStoreUnavailable, SessionNotFound) as exc:
            log.warning("session.state.record_failed", extra={"error_type": type(exc).__name__})

    async def recent_history(self, session_id: uuid.UUID) -> list[dict[str, Any]]:
        return await self.store.recent_history(str(session_id))

    async def _ensure_state(self, session_id: uuid.UUID) -> SessionState:
        state = await self.store.get(str(session_id))
        if state is None:
            row = await self._row(session_id)
            if row is None or row.status != SessionStatus.ACTIVE:
                raise Conflict("Session is closed", code="session_closed")
            if await self._expired(row):
                await self.close_expired([session_id])
                raise Conflict("Session expired after inactivity", code="session_expired")
            state = await self._restore(row)
        if state is None or state.status != SessionStatus.ACTIVE:
            raise Conflict("Session is closed", code="session_closed")
        return state

    async def _expired(self, row: ChatSession) -> bool:
        idle = _idle_seconds(row)
        if idle >= self.ttl_seconds:
            return True
        if idle < self.unused_ttl_seconds:
            return False
        async with self.db.sessionmaker() as db:
            return await db.scalar(select(Message.id).where(Message.session_id == row.id).limit(1)) is None

    async def purge_unused(self) -> int:
        """Delete sessions that never got a message nor a file and are past the unused TTL: a client
        opening sessions it never uses cannot grow SQL beyond what the creation rate limit lets through
        in one unused TTL."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.unused_ttl_seconds)
        async with self.db.transaction() as db:
            ids = list(await db.scalars(select(ChatSession.id).where(
                ChatSession.last_activity_at < cutoff,
                ~exists().where(Message.session_id == ChatSession.id),
                ~exists().where(Attachment.session_id == ChatSession.id)).limit(1000)))
            if ids:
                await db.execute(delete(ChatSession).where(ChatSession.id.in_(ids)))
        for sid in ids:  # usually expired there already; a live copy must not keep authorising it
            await self.store.delete(str(sid))
        if ids:
            log.info("session.unused.deleted", extra={"count": len(ids)})
        return len(ids)

    async def _row(self, session_id: uuid.UUID) -> ChatSession | None:
        async with self.db.sessionmaker() as db:
            return await db.get(ChatSession, session_id)

    async def _restore(self, row: ChatSession) -> SessionState | None:
        """Rebuild a lost state from the SQL row, expiring when the idle session would have; None if the
        session turned out to be closed in SQL meanwhile."""
        sid, idle = str(row.id), _idle_seconds(row)
        metadata, ttl = self._shared_metadata(row), self.ttl_seconds - idle
        try:
            # Never replace a state that exists: another request may have restored it and run turns since.
            state = await self.store.create(sid, metadata=metadata, ttl_seconds=ttl)
            log.info("session.state.restored", extra={"idle_seconds": round(idle, 1)})
        except SessionExists:
            # Restored by someone else first, or there but unreadable (a key mix-up): then replace it.
            state = await self.store.get(sid) or await self.store.create(sid, metadata=metadata, ttl_seconds=ttl,
                                                                         replace=True)
        # A close that committed in SQL before our create found no state to mark closed: look again. A
        # close committing after this read finds our state and marks it (on_closed).
        async with self.db.sessionmaker() as db:
            now = (await db.execute(select(ChatSession.status, ChatSession.closed_at)
                                    .where(ChatSession.id == row.id))).one_or_none()
        if now is None or now.status != SessionStatus.ACTIVE:
            await self.on_closed(row.id, now.closed_at if now is not None else None)
            return None
        return state

    def _shared_metadata(self, session: ChatSession) -> dict[str, Any]:
        metadata = {"user_id": session.user_id, "user_verified": bool(session.user_verified),
                    "thread_id": str(session.thread_id),
                    "metadata": session.metadata_ or {}, "created_at": _aware(session.created_at).isoformat()}
        if self.store.confidential:  # the token hash never goes to Redis in clear
            metadata["token_hash"] = session.token_hash
        return metadata

    async def close_expired(self, session_ids: list[uuid.UUID]) -> int:
        """Close sessions in SQL that are still active; returns how many were closed."""
        if not session_ids:
            return 0
        async with self.db.transaction() as db:
            result = await db.execute(
                update(ChatSession).where(ChatSession.id.in_(session_ids), ChatSession.status == SessionStatus.ACTIVE)
                .values(status=SessionStatus.CLOSED, closed_at=utcnow()))
        closed = int(getattr(result, "rowcount", 0) or 0)
        if closed:
            log.info("session.expired", extra={"count": closed})
        return closed

    async def sweep(self) -> dict[str, int]:
        """Expire idle sessions in the store and in SQL, close them, refresh the active_sessions gauge."""
        started = time.perf_counter()
        from_store = [uuid.UUID(i) for i in await self.store.expire_idle()]
        cutoff = datetime.now(UTC) - timedelta(seconds=self.ttl_seconds)
        async with self.db.sessionmaker() as db:
            idle_in_sql = list(await db.scalars(select(ChatSession.id).where(
                ChatSession.status == SessionStatus.ACTIVE, ChatSession.last_activity_at < cutoff).limit(500)))
        # SQL's activity time can lag the store's (the store is touched on each turn): trust a live state.
        stale = [sid for sid in idle_in_sql if await self.store.get(str(sid)) is None]
        closed = await self.close_expired(sorted(set(from_store) | set(stale)))
        deleted = await self.purge_unused()
        async with self.db.sessionmaker() as db:
            active = int(await db.scalar(select(func.count()).where(ChatSession.status == SessionStatus.ACTIVE)) or 0)
        metrics.ACTIVE_SESSIONS.set(active)
        report = {"expired_in_store": len(from_store), "idle_in_sql": len(stale), "closed": closed,
                  "deleted_unused": deleted, "active": active}
        log.info("session.cleanup.completed",
                 extra={**report, "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
        return report

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        await self.store.close()


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _idle_seconds(row: ChatSession) -> float:
    return (utcnow() - _aware(row.last_activity_at)).total_seconds()


def _view(session_id: uuid.UUID, state: SessionState, ttl_seconds: float) -> ChatSession | None:
    """A detached ChatSession from a state, or None when the state lacks what authorising needs."""
    shared = state.metadata
    if not _VIEW_KEYS <= shared.keys():
        return None
    created = datetime.fromisoformat(shared["created_at"])
    # Creation, restore and every turn push the expiry a full TTL past the activity (restore: past the
    # last activity SQL had), so the expiry tells when the session was last active.
    active_ms = max(state.expires_at_ms - int(ttl_seconds * 1000), int(created.timestamp() * 1000))
    closed = shared.get("closed_at")
    return ChatSession(
        id=session_id, thread_id=uuid.UUID(shared["thread_id"]), user_id=shared.get("user_id"),
        user_verified=bool(shared.get("user_verified", False)),
        token_hash=shared["token_hash"], status=state.status,
        # A deep copy: the state is shared by every reader of the L1 cache.
        metadata_=copy.deepcopy(dict(shared.get("metadata") or {})), created_at=created,
        updated_at=datetime.fromtimestamp(state.updated_at_ms / 1000, UTC),
        last_activity_at=datetime.fromtimestamp(active_ms / 1000, UTC),
        closed_at=datetime.fromisoformat(closed) if closed else None)


def encryption_keys(settings: Settings) -> list[str] | None:
    if not settings.session_encryption:
        return None
    keys = parse_keys(settings.session_encryption_keys)
    if keys:
        return keys
    # Settings refuse this outside development/test; here a key shared by every instance is derived.
    log.warning("session.encryption.derived_key",
                extra={"hint": "set SESSION_ENCRYPTION_KEYS; the key derived from SECRET_KEY is for development"})
    return [derived_development_key(settings.secret_key)]


async def build_session_manager(settings: Settings, db: Database, redis: Redis | None) -> SessionManager:
    """The store and locks the settings ask for, on the app's Redis client when SESSION_STORE=redis.
    Redis being down is logged, not fatal: readiness says so."""
    if settings.session_store == "memory":
        store = InMemorySessionStore(settings.session_ttl_seconds)
        return SessionManager(store, LocalLocks(settings.session_lock_wait_seconds), db, settings)
    if redis is None:
        raise ValueError("SESSION_STORE=redis needs REDIS_URL")
    redis_store = RedisSessionStore(redis, prefix=settings.redis_key_prefix,
                                    codec=PayloadCodec(encryption_keys(settings)),
                                    default_ttl_seconds=settings.session_ttl_seconds,
                                    l1_ttl_seconds=settings.session_l1_ttl_seconds)
    redis_store.start()
    locks = RedisLocks(redis, settings.redis_key_prefix, settings.session_lock_ttl_seconds,
                       settings.session_lock_wait_seconds)
    manager = SessionManager(redis_store, locks, db, settings, redis=redis)
    try:
        await manager.ping()
        log.info("session.redis.connected", extra={"url": _safe_url(settings.redis_url),
                                                   "encrypted": redis_store.codec.encrypted})
    except Exception as exc:
        log.error("session.redis.unreachable", extra={
            "url": _safe_url(settings.redis_url), "error_type": type(exc).__name__,
            "effect": "readiness is false and session requests answer 503 until Redis is reachable"})
    return manager


def _safe_url(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
