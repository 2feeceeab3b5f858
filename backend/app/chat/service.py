"""The turn service: store the user's message first, run the agent, store the reply."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.agents.chat_agent import AgentReply, CustomerSupportAgent
from app.agents.events import TurnComplete
from app.agents.turn_loader import load_turn_input
from app.chat.attachments import PendingAttachment, remove_files, write_files
from app.config import Settings
from app.db.engine import Database
from app.db.models import Attachment, ChatSession, Escalation, Message, utcnow
from app.errors import AppError, Conflict, ServiceUnavailable, Unprocessable
from app.observability import metrics
from app.realtime import frames
from app.security.session_tokens import hash_token, new_token
from app.session.manager import SessionManager

log = logging.getLogger("app.chat")


@dataclass
class TurnResult:
    user_message: Message
    assistant_message: Message
    attachments: list[Attachment]
    reply: AgentReply


class DuplicateMessage(Exception):
    """A message whose client_id the session already has: nothing stored, no turn (WebSocket resend)."""

    def __init__(self, user_message: Message, attachments: list[Attachment], reply: Message | None) -> None:
        super().__init__("duplicate client_id")
        self.user_message, self.attachments, self.reply = user_message, attachments, reply


def _no_publish(session_id: uuid.UUID, frame: dict[str, Any]) -> None:
    return None


class ChatService:
    def __init__(self, db: Database, agent: CustomerSupportAgent, settings: Settings,
                 sessions: SessionManager | None = None) -> None:
        self.db = db
        # Shared session state and the per-session lock that orders turns across instances.
        self.sessions = sessions
        self.agent = agent
        self.settings = settings
        # Turns on one session run one at a time in this process, so replies follow their questions.
        self._locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()
        self._queued: dict[uuid.UUID, int] = {}  # turns waiting or running per session, in this process
        # Every frame of a turn (REST or WebSocket) goes here; main wires it to the realtime event bus.
        self.publish: Callable[[uuid.UUID, dict[str, Any]], None] = _no_publish

    async def create_session(self, user_id: str | None, metadata: dict[str, Any],
                             user_verified: bool = False) -> tuple[ChatSession, str]:
        token = new_token()
        async with self.db.transaction() as db:
            session = ChatSession(user_id=user_id, metadata_=metadata, token_hash=hash_token(token),
                                  user_verified=user_verified and user_id is not None)
            db.add(session)
            await db.flush()
        if self.sessions is not None:
            await self.sessions.on_created(session)
        metrics.SESSIONS_CREATED.inc()
        metrics.ACTIVE_SESSIONS.inc()
        log.info("chat.session.created", extra={"has_user_id": user_id is not None})
        return session, token

    async def get_session(self, session_id: uuid.UUID) -> ChatSession | None:
        async with self.db.sessionmaker() as db:
            return await db.get(ChatSession, session_id)

    async def close_session(self, session: ChatSession) -> ChatSession:
        async with self.db.transaction() as db:
            current = await db.get(ChatSession, session.id, with_for_update=True)
            already_closed = current is None or current.status != "active"
            if current is not None and not already_closed:
                current.status = "closed"
                current.closed_at = utcnow()
        if self.sessions is not None and current is not None:
            # Also when SQL was closed already: repairs a shared state that missed the close (store was down).
            await self.sessions.on_closed(session.id, current.closed_at)
        if already_closed or current is None:
            raise Conflict("Session is already closed", code="session_closed")
        metrics.ACTIVE_SESSIONS.dec()
        log.info("chat.session.closed")
        return current

    async def message_count(self, session_id: uuid.UUID) -> int:
        async with self.db.sessionmaker() as db:
            return int(await db.scalar(select(func.count()).where(Message.session_id == session_id)) or 0)

    async def history(self, session_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Message], int]:
        async with self.db.sessionmaker() as db:
            total = int(await db.scalar(select(func.count()).where(Message.session_id == session_id)) or 0)
            rows = await db.scalars(
                select(Message).where(Message.session_id == session_id)
                .options(selectinload(Message.attachments))
                .order_by(Message.seq).limit(limit).offset(offset)
            )
            return list(rows), total

    async def handle_turn(self, session: ChatSession, text: str, pending: list[PendingAttachment],
                          channel: str = "rest", client_id: str | None = None,
                          attachment_ids: Sequence[uuid.UUID] = ()) -> TurnResult:
        """One turn, published frame by frame as the agent produces it. Raises DuplicateMessage for a
        client_id already stored; `attachment_ids` are earlier uploads of this session, linked here."""
        lock = self._locks.get(session.id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[session.id] = lock
        queued = self._queued.get(session.id, 0)
        if queued >= self.settings.max_queued_turns_per_session:
            # Each waiting turn holds its request (and attachments) in memory: refuse before storing anything.
            raise AppError(f"{queued} messages of this conversation are still being answered; retry shortly",
                           code="session_busy", status_code=429)
        self._queued[session.id] = queued + 1
        try:
            return await self._locked_turn(lock, session, text, pending, channel, client_id, attachment_ids)
        finally:
            self._queued[session.id] -= 1
            if not self._queued[session.id]:
                del self._queued[session.id]

    async def _locked_turn(self, lock: asyncio.Lock, session: ChatSession, text: str,
                           pending: list[PendingAttachment], channel: str, client_id: str | None,
                           attachment_ids: Sequence[uuid.UUID]) -> TurnResult:
        async with lock:
            if self.sessions is None:
                return await self._turn(session, text, pending, channel, client_id, attachment_ids)
            async with self.sessions.turn(session):
                result = await self._turn(session, text, pending, channel, client_id, attachment_ids)
                # The stored question: a retried resend answers that one, whatever text the resend carried.
                await self.sessions.record_turn(session.id, result.user_message.content, result.reply.message)
                return result

    async def _turn(self, session: ChatSession, text: str, pending: list[PendingAttachment],
                    channel: str, client_id: str | None, attachment_ids: Sequence[uuid.UUID]) -> TurnResult:
        start = time.perf_counter()
        user_message, attachments, duplicate = await self._store_user_message(
            session, text, pending, client_id, attachment_ids)
        if duplicate:
            reply_row, moved_on = await self._reply_to(user_message)
            if reply_row is not None or moved_on:
                raise DuplicateMessage(user_message, attachments, reply_row)
            # The question is the newest message and has no reply: its first turn failed (503
            # agent_unavailable). The resend is the customer's retry, so answer the stored question now.
            text = user_message.content
            log.info("chat.turn.retried", extra={"channel": channel})
        else:
            metrics.CHAT_MESSAGES.labels(role="user", channel=channel).inc()
            for _ in pending:
                metrics.ATTACHMENT_PROCESSING.labels(status="stored").inc()
        self.publish(session.id, frames.ack(user_message, attachments, duplicate=duplicate))
        reply_id = uuid.uuid4()  # known before the reply exists, so every frame of the turn can carry it
        self.publish(session.id, frames.start(reply_id, user_message.id))

        reply: AgentReply | None = None
        try:
            turn_input = await load_turn_input(self.db, session, text, user_message, attachments, channel)
            async for event in self.agent.stream(turn_input):
                if isinstance(event, TurnComplete):
                    reply = event.reply
                elif (frame := frames.turn_event(event, reply_id)) is not None:
                    self.publish(session.id, frame)
            assert reply is not None  # stream() always ends with TurnComplete
        except Exception as exc:
            # The question is already stored; the caller gets a clear 503 and can retry.
            log.exception("chat.turn.failed")
            detail = "The assistant could not answer right now; your message was saved."
            self.publish(session.id, frames.error("agent_unavailable", detail, client_id, user_message.id))
            raise ServiceUnavailable(detail, code="agent_unavailable") from exc

        assistant = await self._store_reply(session, text, reply, reply_id)
        self.publish(session.id, frames.complete(assistant, user_message.id, reply))
        metrics.CHAT_MESSAGES.labels(role="assistant", channel=channel).inc()
        if reply.requires_escalation and reply.escalation:
            metrics.CHAT_ESCALATIONS.labels(reason=reply.escalation["reason"]).inc()
        metrics.CHAT_MESSAGE_DURATION.labels(channel=channel).observe(time.perf_counter() - start)
        log.info("chat.turn.completed", extra={
            "sources": len(reply.sources), "escalated": reply.requires_escalation,
            "attachments": len(attachments), "duration_ms": round((time.perf_counter() - start) * 1000, 2)})
        return TurnResult(user_message, assistant, attachments, reply)

    async def _store_user_message(self, session: ChatSession, text: str, pending: list[PendingAttachment],
                                  client_id: str | None = None, attachment_ids: Sequence[uuid.UUID] = (),
                                  ) -> tuple[Message, list[Attachment], bool]:
        directory = self.settings.attachments_dir / session.id.hex
        written: list[Path] = await anyio.to_thread.run_sync(write_files, pending, directory) if pending else []
        try:
            async def add(db: AsyncSession, seq: int) -> tuple[Message, list[Attachment], bool]:
                current = await db.get(ChatSession, session.id)
                if current is None or current.status != "active":
                    raise Conflict("Session is closed", code="session_closed")
                if client_id is not None:
                    earlier = await db.scalar(select(Message).where(
                        Message.session_id == session.id, Message.client_id == client_id))
                    if earlier is not None:
                        files = await db.scalars(select(Attachment).where(Attachment.message_id == earlier.id))
                        return earlier, list(files), True
                message = Message(session_id=session.id, seq=seq, role="user", content=text, client_id=client_id)
                db.add(message)
                await db.flush()
                rows = [Attachment(id=p.id, session_id=session.id, message_id=message.id, filename=p.filename,
                                   content_type=p.content_type, size_bytes=len(p.data), sha256=p.sha256,
                                   storage_path=str(path))
                        for p, path in zip(pending, written, strict=True)]
                db.add_all(rows)
                if attachment_ids:
                    uploaded = list(await db.scalars(select(Attachment).where(
                        Attachment.id.in_(set(attachment_ids)), Attachment.session_id == session.id,
                        Attachment.message_id.is_(None))))
                    if len(uploaded) != len(set(attachment_ids)):
                        raise Unprocessable("An attachment id is unknown or already used", code="attachment_not_found")
                    for upload in uploaded:
                        upload.message_id = message.id
                    rows += uploaded
                current.last_activity_at = utcnow()
                return message, rows, False

            return await self._with_next_seq(session.id, add)
        except BaseException:
            remove_files(written)
            raise

    async def _reply_to(self, user_message: Message) -> tuple[Message | None, bool]:
        """The stored reply to `user_message` (or None), and whether anything at all was stored after it.

        An unanswered question followed by newer messages is not answered late: the reply would land
        after the newer ones, out of order.
        """
        async with self.db.sessionmaker() as db:
            after = await db.scalar(select(Message).where(
                Message.session_id == user_message.session_id, Message.seq > user_message.seq)
                .order_by(Message.seq).limit(1))
        if after is None:
            return None, False
        answered = after.seq == user_message.seq + 1 and after.role == "assistant"
        return (after if answered else None), True

    async def _store_reply(self, session: ChatSession, text: str, reply: AgentReply,
                           message_id: uuid.UUID | None = None) -> Message:
        async def add(db: AsyncSession, seq: int) -> Message:
            message = Message(id=message_id or uuid.uuid4(), session_id=session.id, seq=seq, role="assistant",
                              content=reply.message,
                              sources=reply.sources, tool_calls=reply.tool_calls,
                              metadata_={"confidence": reply.confidence, "degraded": reply.degraded,
                                         "requires_escalation": reply.requires_escalation,
                                         "answered": reply.answered, "provider": reply.provider,
                                         "notices": reply.notices,
                                         "escalation": frames.escalation_info(reply.escalation)})
            db.add(message)
            await db.flush()
            if reply.escalation:
                db.add(Escalation(id=reply.escalation["id"], session_id=session.id, message_id=message.id,
                                  reason=reply.escalation["reason"], priority=reply.escalation["priority"],
                                  summary=reply.escalation.get("summary") or f"Customer wrote: {text[:500]}"))
            return message

        return await self._with_next_seq(session.id, add)

    async def _with_next_seq(self, session_id: uuid.UUID, write: Any) -> Any:
        """Run `write(db, seq)` in one transaction with the next position in the conversation.

        Another process may take the same position first; the unique index refuses the second writer,
        which retries with the next number.
        """
        for attempt in range(8):
            try:
                async with self.db.transaction() as db:
                    last = await db.scalar(select(func.max(Message.seq)).where(Message.session_id == session_id))
                    return await write(db, int(last or 0) + 1)
            except IntegrityError:
                log.warning("chat.seq.conflict", extra={"attempt": attempt})
                await asyncio.sleep(0.01 * (attempt + 1))
        raise ServiceUnavailable("Could not store the message, please retry", code="write_conflict")
