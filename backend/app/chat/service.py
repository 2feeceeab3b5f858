"""The turn service: store the user's message first, run the agent, store the reply, publish frames.

Every message of a conversation, whoever writes it, is stored and published through this service
(`append_message`); transports (REST, WebSocket) only carry its frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio

from app.agents.chat_agent import AgentReply, CustomerSupportAgent
from app.agents.events import TurnComplete
from app.agents.turn_loader import HISTORY_MESSAGES, customer, turn_input
from app.chat import frames
from app.chat.attachments import PendingAttachment, new_files, remove_files, write_files
from app.chat.frames import Frame
from app.config import Settings
from app.db.enums import HUMAN_STATES, HandoffState, MessageRole
from app.db.models import Attachment, ChatSession, Message
from app.db.repository import MessageRepository, PreloadFailed, StoredMessage
from app.errors import AppError, Conflict, ServiceUnavailable
from app.observability import metrics
from app.security.session_tokens import hash_token, new_token
from app.session.manager import SessionManager

log = logging.getLogger("app.chat")


@dataclass
class TurnResult:
    user_message: Message
    # None when a person handles the conversation: the message went to them and the assistant stayed quiet.
    assistant_message: Message | None
    attachments: list[Attachment]
    reply: AgentReply | None
    handoff_state: HandoffState = HandoffState.BOT
    queue_position: int | None = None

    @property
    def handled_by(self) -> str:
        return "human" if self.reply is None else "bot"


class HandoffGate(Protocol):
    """Who answers a conversation (app/staff/handoff.py implements it); chat never imports the staff side."""

    async def route_customer_message(self, session_id: uuid.UUID, message: Message,
                                     state: HandoffState) -> HandoffState: ...

    async def open(self, session_id: uuid.UUID, escalation: dict[str, Any]) -> int | None: ...


class DuplicateMessage(Exception):
    """A message whose client_id the session already has: nothing stored, no turn (a resend). `reply` is
    its stored reply; None when a person handles the conversation or it moved on past the question."""

    def __init__(self, user_message: Message, attachments: list[Attachment], reply: Message | None,
                 handoff_state: HandoffState = HandoffState.BOT) -> None:
        super().__init__("duplicate client_id")
        self.user_message, self.attachments, self.reply = user_message, attachments, reply
        self.handoff_state = handoff_state


class AgentUnavailable(ServiceUnavailable):
    """The assistant failed mid-turn; its `error` frame has been published to every socket already."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="agent_unavailable")


Publish = Callable[[uuid.UUID, Frame], None]


class ChatService:
    def __init__(self, repo: MessageRepository, agent: CustomerSupportAgent, settings: Settings,
                 sessions: SessionManager, publish: Publish, handoff: HandoffGate) -> None:
        self.repo = repo
        # Decides, per customer message, whether the assistant answers or a person does.
        self.handoff = handoff
        # Shared session state and the per-session lock that orders turns across instances.
        self.sessions = sessions
        self.agent = agent
        self.settings = settings
        # Every frame of every message (REST or WebSocket) goes to the event bus handed in here.
        self._publish = publish
        # Turns on one session run one at a time in this process, so replies follow their questions.
        self._locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()
        self._queued: dict[uuid.UUID, int] = {}  # turns waiting or running per session, in this process

    async def create_session(self, user_id: str | None, metadata: dict[str, Any],
                             user_verified: bool = False) -> tuple[ChatSession, str]:
        token = new_token()
        session = await self.repo.add_session(ChatSession(
            user_id=user_id, metadata_=metadata, token_hash=hash_token(token),
            user_verified=user_verified and user_id is not None))
        await self.sessions.on_created(session)
        metrics.SESSIONS_CREATED.inc()
        metrics.ACTIVE_SESSIONS.inc()
        log.info("chat.session.created", extra={"has_user_id": user_id is not None})
        return session, token

    async def close_session(self, session: ChatSession) -> ChatSession:
        current, closed_now = await self.repo.close_session(session.id)
        if current is not None:
            # Also when SQL was closed already: repairs a shared state that missed the close (store was down).
            await self.sessions.on_closed(session.id, current.closed_at)
        if current is None or not closed_now:
            raise Conflict("Session is already closed", code="session_closed")
        metrics.ACTIVE_SESSIONS.dec()
        log.info("chat.session.closed")
        return current

    async def message_count(self, session_id: uuid.UUID) -> int:
        return await self.repo.count(session_id)

    async def history(self, session_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Message], int]:
        return await self.repo.page(session_id, limit, offset)

    def publish(self, session_id: uuid.UUID, frame: Frame) -> None:
        """Send a frame to every socket of the session, on any instance."""
        self._publish(session_id, frame)

    async def append_message(self, session_id: uuid.UUID, role: MessageRole, content: str, *,
                             frame: Callable[[Message], Frame] | None = None, **fields: Any) -> Message:
        """Store a message of any role at the next position and publish `frame(message)`: the one gate
        for every producer (the assistant's reply here; a staff reply or a notice the same way).
        `fields` are MessageRepository.add_message's (message_id, sources, tool_calls, metadata, escalation)."""
        message = await self.repo.add_message(session_id, role, content, **fields)
        if frame is not None:
            self.publish(session_id, frame(message))
        return message

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
            async with lock, self.sessions.turn(session):
                result = await self._turn(session, text, pending, channel, client_id, attachment_ids)
                # The stored question: a retried resend answers that one, whatever text the resend carried.
                await self.sessions.record_turn(session.id, result.user_message.content,
                                                result.reply.message if result.reply else "")
                return result
        finally:
            self._queued[session.id] -= 1
            if not self._queued[session.id]:
                del self._queued[session.id]

    async def _turn(self, session: ChatSession, text: str, pending: list[PendingAttachment],
                    channel: str, client_id: str | None, attachment_ids: Sequence[uuid.UUID]) -> TurnResult:
        start = time.perf_counter()
        stored = await self._store_user_message(session, text, pending, client_id, attachment_ids)
        user_message, attachments = stored.message, stored.attachments
        if stored.duplicate:
            reply_row, moved_on = await self._reply_to(user_message)
            if reply_row is not None or moved_on or stored.handoff_state in HUMAN_STATES:
                raise DuplicateMessage(user_message, attachments, reply_row, stored.handoff_state)
            # The question is the newest message and has no reply: its first turn failed (503
            # agent_unavailable) or died with its instance (we hold the session's lock, so no turn is
            # running for it). The resend is the customer's retry: answer the stored question now.
            text = user_message.content
            log.info("chat.turn.retried", extra={"channel": channel})
        else:
            metrics.CHAT_MESSAGES.labels(role="user", channel=channel).inc()
            for _ in pending:
                metrics.ATTACHMENT_PROCESSING.labels(status="stored").inc()
        self.publish(session.id, frames.ack(user_message, attachments, duplicate=stored.duplicate))
        state = await self.handoff.route_customer_message(session.id, user_message, stored.handoff_state)
        if state in HUMAN_STATES:  # a person answers; they have been told of the message
            return TurnResult(user_message, None, attachments, None, handoff_state=state)
        reply_id = uuid.uuid4()  # known before the reply exists, so every frame of the turn can carry it
        self.publish(session.id, frames.start(reply_id, user_message.id))

        reply: AgentReply | None = None
        try:
            # Closed on the way out whatever happens, so the writes the turn started end with it.
            async with contextlib.aclosing(self.agent.stream(turn_input(session, text, stored, channel))) as events:
                async for event in events:
                    if isinstance(event, TurnComplete):
                        reply = event.reply
                    elif (frame := frames.turn_event(event, reply_id)) is not None:
                        self.publish(session.id, frame)
            assert reply is not None  # stream() always ends with TurnComplete
        except Exception as exc:
            # The question is already stored; the caller gets a clear 503 and can retry. The error frame
            # went to every socket of the session, so a WebSocket caller does not send it again.
            log.exception("chat.turn.failed")
            detail = "The assistant could not answer right now; your message was saved."
            self.publish(session.id, frames.error("agent_unavailable", detail, client_id, user_message.id))
            raise AgentUnavailable(detail) from exc

        assistant = await self._store_reply(session, text, reply, reply_id, user_message)
        metrics.CHAT_MESSAGES.labels(role="assistant", channel=channel).inc()
        position = None
        if reply.requires_escalation and reply.escalation:
            metrics.CHAT_ESCALATIONS.labels(reason=reply.escalation["reason"]).inc()
            # The reply announcing the handover is stored: now the conversation joins the staff queue.
            position = await self.handoff.open(session.id, reply.escalation)
            state = HandoffState.WAITING
        metrics.CHAT_MESSAGE_DURATION.labels(channel=channel).observe(time.perf_counter() - start)
        log.info("chat.turn.completed", extra={
            "sources": len(reply.sources), "escalated": reply.requires_escalation,
            "attachments": len(attachments), "duration_ms": round((time.perf_counter() - start) * 1000, 2)})
        return TurnResult(user_message, assistant, attachments, reply, handoff_state=state, queue_position=position)

    async def _store_user_message(self, session: ChatSession, text: str, pending: list[PendingAttachment],
                                  client_id: str | None, attachment_ids: Sequence[uuid.UUID]) -> StoredMessage:
        directory = self.settings.attachments_dir / session.id.hex
        written: list[Path] = await anyio.to_thread.run_sync(write_files, pending, directory) if pending else []
        files = new_files(pending, written)
        try:
            try:
                stored = await self.repo.add_user_message(session.id, text, files, client_id, attachment_ids,
                                                          history_limit=HISTORY_MESSAGES,
                                                          preload=self.agent.memory_reader(customer(session)))
            except PreloadFailed as exc:  # nothing stored: store it without the memory read (the agent
                # then loads memory through the memory tool, with its retries and breaker)
                log.warning("chat.memory.preload_failed", extra={"error": str(exc)})
                stored = await self.repo.add_user_message(session.id, text, files, client_id, attachment_ids,
                                                          history_limit=HISTORY_MESSAGES)
        except BaseException:
            remove_files(written)
            raise
        if stored.duplicate and written:
            remove_files(written)  # a resend's files: the stored message keeps the first send's
        return stored

    async def _reply_to(self, user_message: Message) -> tuple[Message | None, bool]:
        """The stored reply to `user_message` (or None), and whether anything at all was stored after it.

        An unanswered question followed by newer messages is not answered late: the reply would land
        after the newer ones, out of order.
        """
        after = await self.repo.next_after(user_message)
        if after is None:
            return None, False
        answered = after.seq == user_message.seq + 1 and after.role == MessageRole.ASSISTANT
        return (after if answered else None), True

    async def _store_reply(self, session: ChatSession, text: str, reply: AgentReply, message_id: uuid.UUID,
                           question: Message) -> Message:
        escalation = None
        if reply.escalation:
            escalation = {**reply.escalation,
                          "summary": reply.escalation.get("summary") or f"Customer wrote: {text[:500]}"}
        return await self.append_message(
            session.id, MessageRole.ASSISTANT, reply.message, message_id=message_id, sources=reply.sources,
            tool_calls=reply.tool_calls, escalation=escalation, expected_seq=question.seq + 1,
            metadata={"confidence": reply.confidence, "degraded": reply.degraded,
                      "requires_escalation": reply.requires_escalation, "answered": reply.answered,
                      "grounded": reply.grounded, "provider": reply.provider, "notices": reply.notices,
                      "escalation": frames.escalation_info(reply.escalation)},
            frame=lambda m: frames.complete(m, question.id, reply))
