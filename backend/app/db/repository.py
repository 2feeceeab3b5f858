"""Every query for sessions' messages and attachments, in one place (services never build SQL ad hoc).

Each method is one short unit of work on its own database session (one transaction per write), so a
WebSocket turn never holds a session for the life of its socket.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db.engine import Database
from app.db.enums import HUMAN_STATES, HandoffState, MessageRole, SessionStatus
from app.db.models import Attachment, ChatSession, Escalation, Message, utcnow
from app.errors import Conflict, ServiceUnavailable, Unprocessable

log = logging.getLogger("app.chat")
T = TypeVar("T")


@dataclass(frozen=True)
class NewFile:
    """A validated file already written to disk, to be recorded as an Attachment row."""

    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_path: Path


@dataclass(frozen=True)
class HistoryRow:
    """An earlier message as the agent reads it (no sources, no attachments)."""

    role: str
    content: str
    metadata: dict[str, Any]


@dataclass
class StoredMessage:
    message: Message
    attachments: list[Attachment] = field(default_factory=list)
    duplicate: bool = False  # the session already had this client_id: nothing was written
    # Who answers the conversation, read in the same transaction (no second query on the turn's path).
    handoff_state: HandoffState = HandoffState.BOT
    # What the turn needs, read in the same transaction when asked for (`history_limit`): the messages
    # right before this one, oldest first, and every attachment of the conversation.
    history: list[HistoryRow] = field(default_factory=list)
    session_files: list[Attachment] = field(default_factory=list)
    # What `add_user_message(..., preload=...)` read in the same transaction (the customer's memory).
    preloaded: Any = None


class PreloadFailed(Exception):
    """`add_user_message`'s `preload` raised: nothing was stored (the transaction rolled back); the
    caller stores the message again without it."""


class SessionClosedError(Conflict):
    def __init__(self) -> None:
        super().__init__("Session is closed", code="session_closed")


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- sessions -----------------------------------------------------------------------------------

    async def session(self, session_id: uuid.UUID) -> ChatSession | None:
        async with self.db.sessionmaker() as db:
            return await db.get(ChatSession, session_id)

    async def add_session(self, session: ChatSession) -> ChatSession:
        async with self.db.transaction() as db:
            db.add(session)
            await db.flush()
        return session

    async def close_session(self, session_id: uuid.UUID) -> tuple[ChatSession | None, bool]:
        """(the row, whether this call closed it); row None for an unknown session."""
        async with self.db.transaction() as db:
            current = await db.get(ChatSession, session_id, with_for_update=True)
            if current is None or current.status != SessionStatus.ACTIVE:
                return current, False
            current.status = SessionStatus.CLOSED
            current.closed_at = utcnow()
            return current, True

    async def active_session_count(self) -> int:
        async with self.db.sessionmaker() as db:
            return int(await db.scalar(select(func.count()).where(ChatSession.status == SessionStatus.ACTIVE)) or 0)

    # --- reading messages ---------------------------------------------------------------------------

    async def count(self, session_id: uuid.UUID) -> int:
        async with self.db.sessionmaker() as db:
            return int(await db.scalar(select(func.count()).where(Message.session_id == session_id)) or 0)

    async def page(self, session_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Message], int]:
        """Messages in conversation order with their attachments loaded, and the total count."""
        async with self.db.sessionmaker() as db:
            total = int(await db.scalar(select(func.count()).where(Message.session_id == session_id)) or 0)
            rows = await db.scalars(select(Message).where(Message.session_id == session_id)
                                    .options(selectinload(Message.attachments))
                                    .order_by(Message.seq).limit(limit).offset(offset))
            return list(rows), total

    async def newest_id(self, session_id: uuid.UUID) -> uuid.UUID | None:
        async with self.db.sessionmaker() as db:
            return await db.scalar(select(Message.id).where(Message.session_id == session_id)
                                   .order_by(Message.seq.desc()).limit(1))

    async def after(self, session_id: uuid.UUID, message_id: uuid.UUID, limit: int) -> list[Message] | None:
        """Up to `limit` messages stored after `message_id` (attachments loaded); None if it is unknown."""
        async with self.db.sessionmaker() as db:
            seq = await db.scalar(select(Message.seq).where(Message.session_id == session_id,
                                                            Message.id == message_id))
            if seq is None:
                return None
            return list(await db.scalars(select(Message).where(Message.session_id == session_id, Message.seq > seq)
                                         .options(selectinload(Message.attachments))
                                         .order_by(Message.seq).limit(limit)))

    async def before(self, session_id: uuid.UUID, seq: int, limit: int) -> list[Message]:
        """The `limit` messages right before position `seq`, oldest first."""
        async with self.db.sessionmaker() as db:
            rows = list(await db.scalars(select(Message).where(Message.session_id == session_id, Message.seq < seq)
                                         .order_by(Message.seq.desc()).limit(limit)))
        return rows[::-1]

    async def latest(self, session_id: uuid.UUID, limit: int, db: AsyncSession | None = None) -> list[Message]:
        """The newest `limit` messages, oldest first, attachments loaded (on `db` if the caller holds one)."""
        async with self._reading(db) as db:
            rows = list(await db.scalars(select(Message).where(Message.session_id == session_id)
                                         .options(selectinload(Message.attachments))
                                         .order_by(Message.seq.desc()).limit(limit)))
        return rows[::-1]

    async def texts_of(self, session_id: uuid.UUID, role: MessageRole, limit: int) -> list[str]:
        """The newest `limit` messages of one role, newest first (their text only)."""
        async with self.db.sessionmaker() as db:
            return list(await db.scalars(select(Message.content).where(
                Message.session_id == session_id, Message.role == role).order_by(Message.seq.desc()).limit(limit)))

    async def count_after(self, session_id: uuid.UUID, role: MessageRole, seq: int,
                          db: AsyncSession | None = None) -> int:
        """Messages of `role` stored after position `seq` (e.g. customer messages staff have not read)."""
        async with self._reading(db) as db:
            return int(await db.scalar(select(func.count()).select_from(Message).where(
                Message.session_id == session_id, Message.role == role, Message.seq > seq)) or 0)

    async def next_after(self, message: Message) -> Message | None:
        """The first message stored after `message`, if any."""
        async with self.db.sessionmaker() as db:
            return await db.scalar(select(Message).where(Message.session_id == message.session_id,
                                                         Message.seq > message.seq)
                                   .order_by(Message.seq).limit(1))

    # --- writing messages ---------------------------------------------------------------------------

    async def add_user_message(self, session_id: uuid.UUID, text: str, files: Sequence[NewFile],
                               client_id: str | None = None, attachment_ids: Sequence[uuid.UUID] = (),
                               history_limit: int = 0,
                               preload: Callable[[AsyncSession], Awaitable[Any]] | None = None) -> StoredMessage:
        """The customer's message with its files, and earlier uploads (`attachment_ids`) linked to it.
        A client_id the session already has returns that message, marked duplicate, and writes nothing.
        With `history_limit`, the turn's context (history, the conversation's files) is read in the same
        transaction, and `preload(db)` (the customer's memory) with it, into `preloaded`: one trip to the
        database for everything before the agent runs."""
        async def add(db: AsyncSession, seq: int) -> StoredMessage:
            state = await self._active_state(db, session_id)
            if client_id is not None:
                earlier = await db.scalar(select(Message).where(Message.session_id == session_id,
                                                                Message.client_id == client_id))
                if earlier is not None:
                    linked = await db.scalars(select(Attachment).where(Attachment.message_id == earlier.id))
                    stored = StoredMessage(earlier, list(linked), duplicate=True, handoff_state=state)
                    return await self._with_context(db, stored, history_limit)  # a resend: rarely answered
            now = utcnow()
            message = await _insert_message(db, Message(session_id=session_id, seq=seq, role=MessageRole.USER,
                                                        content=text, client_id=client_id, created_at=now))
            sessions: Table = ChatSession.__table__  # type: ignore[assignment]
            await db.execute(update(sessions).where(sessions.c.id == session_id)
                             .values(last_activity_at=now, updated_at=now))
            rows = _attachment_rows(session_id, message.id, files)
            db.add_all(rows)
            if attachment_ids:
                uploaded = list(await db.scalars(select(Attachment).where(
                    Attachment.id.in_(set(attachment_ids)), Attachment.session_id == session_id,
                    Attachment.message_id.is_(None))))
                if len(uploaded) != len(set(attachment_ids)):
                    raise Unprocessable("An attachment id is unknown or already used", code="attachment_not_found")
                for upload in uploaded:
                    upload.message_id = message.id
                rows += uploaded
            stored = StoredMessage(message, rows, handoff_state=state)
            # A person answers a conversation they have taken over: the assistant reads no memory.
            return await self._with_context(db, stored, history_limit,
                                            None if state in HUMAN_STATES else preload)

        return await self._with_next_seq(session_id, add)

    @staticmethod
    async def _with_context(db: AsyncSession, stored: StoredMessage, history_limit: int,
                            preload: Callable[[AsyncSession], Awaitable[Any]] | None = None) -> StoredMessage:
        if preload is not None:
            try:
                stored.preloaded = await preload(db)
            except Exception as exc:
                # The read is a help (memory); the message is not: it must not be lost with the read. The
                # transaction is rolled back (on PostgreSQL a failed statement ends it anyway) and the
                # caller stores the message again without the read.
                raise PreloadFailed(type(exc).__name__) from exc
        if history_limit <= 0:
            return stored
        message = stored.message
        # Only what the agent reads of a message: decoding every reply's sources would cost more than the query.
        rows = (await db.execute(select(Message.role, Message.content, Message.metadata_)
                                 .where(Message.session_id == message.session_id, Message.seq < message.seq)
                                 .order_by(Message.seq.desc()).limit(history_limit))).all()
        stored.history = [HistoryRow(row.role, row.content, row.metadata_ or {}) for row in reversed(rows)]
        stored.session_files = list(await db.scalars(select(Attachment).where(
            Attachment.session_id == message.session_id).order_by(Attachment.created_at)))
        return stored

    async def add_message(self, session_id: uuid.UUID, role: MessageRole, content: str, *,
                          message_id: uuid.UUID | None = None, sources: list[Any] | None = None,
                          tool_calls: list[Any] | None = None, metadata: dict[str, Any] | None = None,
                          escalation: dict[str, Any] | None = None, expected_seq: int | None = None) -> Message:
        """A message of any role at the next position (an assistant reply, a staff reply, a notice);
        `escalation` ({id, reason, priority, summary}) records the handover this message announces.
        `expected_seq` is the position the caller knows is next (a reply right after its question): it is
        tried without asking the database, and a conflict falls back to the next free position."""
        async def add(db: AsyncSession, seq: int) -> Message:
            message = await _insert_message(db, Message(
                id=message_id or uuid.uuid4(), session_id=session_id, seq=seq, role=role, content=content,
                sources=sources or [], tool_calls=tool_calls or [], metadata_=metadata or {}, created_at=utcnow()))
            if escalation:
                db.add(Escalation(id=escalation["id"], session_id=session_id, message_id=message.id,
                                  reason=escalation["reason"], priority=escalation["priority"],
                                  summary=escalation["summary"]))
            return message

        return await self._with_next_seq(session_id, add, expected_seq)

    # --- attachments --------------------------------------------------------------------------------

    async def attachments(self, session_id: uuid.UUID) -> list[Attachment]:
        async with self.db.sessionmaker() as db:
            return list(await db.scalars(select(Attachment).where(Attachment.session_id == session_id)
                                         .order_by(Attachment.created_at)))

    async def unsent_upload_count(self, session_id: uuid.UUID) -> int:
        async with self.db.sessionmaker() as db:
            return int(await db.scalar(select(func.count()).select_from(Attachment).where(
                Attachment.session_id == session_id, Attachment.message_id.is_(None))) or 0)

    async def add_uploads(self, session_id: uuid.UUID, files: Sequence[NewFile]) -> list[Attachment]:
        """Files waiting for the message that will name them (message_id NULL)."""
        async with self.db.transaction() as db:
            await self._active(db, session_id)
            rows = _attachment_rows(session_id, None, files)
            db.add_all(rows)
        return rows

    async def set_extracted(self, attachment_id: uuid.UUID, status: str, text: str | None) -> None:
        async with self.db.transaction() as db:
            await db.execute(update(Attachment).where(Attachment.id == attachment_id)
                             .values(status=status, extracted_text=text))

    # --- internals ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def _reading(self, held: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        """The caller's session if it holds one (a second checkout would wait forever on SQLite's
        one-connection pool), else a session of our own."""
        if held is not None:
            yield held
            return
        async with self.db.sessionmaker() as own:
            yield own

    @staticmethod
    async def _active_state(db: AsyncSession, session_id: uuid.UUID) -> HandoffState:
        """Who answers an active session (two columns, not the ORM row); SessionClosedError otherwise."""
        row = (await db.execute(select(ChatSession.status, ChatSession.handoff_state)
                                .where(ChatSession.id == session_id))).one_or_none()
        if row is None or row.status != SessionStatus.ACTIVE:
            raise SessionClosedError()
        return HandoffState(row.handoff_state)

    @staticmethod
    async def _active(db: AsyncSession, session_id: uuid.UUID) -> ChatSession:
        current = await db.get(ChatSession, session_id)
        if current is None or current.status != SessionStatus.ACTIVE:
            raise SessionClosedError()
        return current

    async def _with_next_seq(self, session_id: uuid.UUID, write: Callable[[AsyncSession, int], Awaitable[T]],
                             expected_seq: int | None = None) -> T:
        """Run `write(db, seq)` in one transaction with the next position in the conversation.

        Another process may take the same position first; the unique index refuses the second writer,
        which retries with the next number. `expected_seq`, when given, is tried first without a query.
        """
        for attempt in range(8):
            try:
                async with self.db.transaction() as db:
                    if attempt == 0 and expected_seq is not None:
                        return await write(db, expected_seq)
                    last = await db.scalar(select(func.max(Message.seq)).where(Message.session_id == session_id))
                    return await write(db, int(last or 0) + 1)
            except IntegrityError:
                if attempt == 0 and expected_seq is not None:
                    log.info("chat.seq.moved_on", extra={"expected": expected_seq})
                    continue  # something was stored since the caller looked: take the next free position
                log.warning("chat.seq.conflict", extra={"attempt": attempt})
                await asyncio.sleep(0.01 * (attempt + 1))
        raise ServiceUnavailable("Could not store the message, please retry", code="write_conflict")


# Attribute name -> column name (metadata_ is the "metadata" column).
_MESSAGE_COLUMNS = {name: Message.__mapper__.get_property(name).columns[0].key
                    for name in ("id", "session_id", "seq", "role", "content", "sources", "tool_calls",
                                 "metadata_", "client_id", "created_at")}
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]


async def _insert_message(db: AsyncSession, message: Message) -> Message:
    """One INSERT statement for a message on the turn's path (the ORM's unit of work costs more CPU
    than the write itself). `message` is returned as given: a detached row with every column set."""
    for name, default in (("id", uuid.uuid4), ("sources", list), ("tool_calls", list), ("metadata_", dict),
                          ("created_at", utcnow)):
        if getattr(message, name) is None:
            setattr(message, name, default())
    await db.execute(insert(_MESSAGES).values({column: getattr(message, name)
                                              for name, column in _MESSAGE_COLUMNS.items()}))
    return message


def _attachment_rows(session_id: uuid.UUID, message_id: uuid.UUID | None, files: Sequence[NewFile]) -> list[Attachment]:
    return [Attachment(id=f.id, session_id=session_id, message_id=message_id, filename=f.filename,
                       content_type=f.content_type, size_bytes=f.size_bytes, sha256=f.sha256,
                       storage_path=str(f.storage_path)) for f in files]

