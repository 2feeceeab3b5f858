"""The turn service: store the user's message first, run the agent, store the reply."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.agents.chat_agent import AgentReply, CustomerSupportAgent
from app.agents.turn_loader import load_turn_input
from app.chat.attachments import PendingAttachment, remove_files, write_files
from app.config import Settings
from app.db.engine import Database
from app.db.models import Attachment, ChatSession, Escalation, Message, utcnow
from app.errors import Conflict, ServiceUnavailable
from app.observability import metrics
from app.security.session_tokens import hash_token, new_token
from app.session.manager import SessionManager

log = logging.getLogger("app.chat")


@dataclass
class TurnResult:
    user_message: Message
    assistant_message: Message
    attachments: list[Attachment]
    reply: AgentReply


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

    async def create_session(self, user_id: str | None, metadata: dict[str, Any]) -> tuple[ChatSession, str]:
        token = new_token()
        async with self.db.transaction() as db:
            session = ChatSession(user_id=user_id, metadata_=metadata, token_hash=hash_token(token))
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
            if current is None or current.status != "active":
                raise Conflict("Session is already closed", code="session_closed")
            current.status = "closed"
            current.closed_at = utcnow()
        if self.sessions is not None:
            await self.sessions.on_closed(session.id)
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
                          channel: str = "rest") -> TurnResult:
        lock = self._locks.get(session.id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[session.id] = lock
        async with lock:
            if self.sessions is None:
                return await self._turn(session, text, pending, channel)
            async with self.sessions.turn(session):
                result = await self._turn(session, text, pending, channel)
                await self.sessions.record_turn(session.id, text, result.reply.message)
                return result

    async def _turn(self, session: ChatSession, text: str, pending: list[PendingAttachment],
                    channel: str) -> TurnResult:
        start = time.perf_counter()
        user_message, attachments = await self._store_user_message(session, text, pending)
        metrics.CHAT_MESSAGES.labels(role="user", channel=channel).inc()
        for _ in attachments:
            metrics.ATTACHMENT_PROCESSING.labels(status="stored").inc()

        try:
            turn_input = await load_turn_input(self.db, session, text, user_message, attachments, channel)
            reply = await self.agent.respond(turn_input)
        except Exception as exc:
            # The question is already stored; the caller gets a clear 503 and can retry.
            log.exception("chat.turn.failed")
            raise ServiceUnavailable("The assistant could not answer right now; your message was saved.",
                                     code="agent_unavailable") from exc

        assistant = await self._store_reply(session, text, reply)
        metrics.CHAT_MESSAGES.labels(role="assistant", channel=channel).inc()
        if reply.requires_escalation and reply.escalation:
            metrics.CHAT_ESCALATIONS.labels(reason=reply.escalation["reason"]).inc()
        metrics.CHAT_MESSAGE_DURATION.labels(channel=channel).observe(time.perf_counter() - start)
        log.info("chat.turn.completed", extra={
            "sources": len(reply.sources), "escalated": reply.requires_escalation,
            "attachments": len(attachments), "duration_ms": round((time.perf_counter() - start) * 1000, 2)})
        return TurnResult(user_message, assistant, attachments, reply)

    async def _store_user_message(self, session: ChatSession, text: str,
                                  pending: list[PendingAttachment]) -> tuple[Message, list[Attachment]]:
        directory = self.settings.attachments_dir / session.id.hex
        written: list[Path] = write_files(pending, directory) if pending else []
        try:
            async def add(db: AsyncSession, seq: int) -> tuple[Message, list[Attachment]]:
                current = await db.get(ChatSession, session.id)
                if current is None or current.status != "active":
                    raise Conflict("Session is closed", code="session_closed")
                message = Message(session_id=session.id, seq=seq, role="user", content=text)
                db.add(message)
                await db.flush()
                rows = [Attachment(id=p.id, session_id=session.id, message_id=message.id, filename=p.filename,
                                   content_type=p.content_type, size_bytes=len(p.data), sha256=p.sha256,
                                   storage_path=str(path))
                        for p, path in zip(pending, written, strict=True)]
                db.add_all(rows)
                current.last_activity_at = utcnow()
                return message, rows

            return await self._with_next_seq(session.id, add)
        except BaseException:
            remove_files(written)
            raise

    async def _store_reply(self, session: ChatSession, text: str, reply: AgentReply) -> Message:
        async def add(db: AsyncSession, seq: int) -> Message:
            message = Message(session_id=session.id, seq=seq, role="assistant", content=reply.message,
                              sources=reply.sources, tool_calls=reply.tool_calls,
                              metadata_={"confidence": reply.confidence, "degraded": reply.degraded,
                                         "requires_escalation": reply.requires_escalation,
                                         "answered": reply.answered, "provider": reply.provider,
                                         "notices": reply.notices})
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
