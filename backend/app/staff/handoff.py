"""The handoff state machine: bot -> waiting -> assigned -> resolved, and back to bot from any of them.

Every change is one transaction that updates the conversation, writes an activity row (who, when, from,
to) and queues its webhook; after commit the customer's sockets get a `handoff` frame plus a stored
notice, the staff sockets get an event, and the webhook sender is woken. Messages (staff replies,
notices) are written through the same repository as every other message of the conversation.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.chat import frames as chat_frames
from app.chat.schemas import AuthorInfo, HandoffStatus
from app.config import Settings
from app.db.engine import Database
from app.db.enums import MessageRole
from app.db.models import ChatSession, Escalation, HandoffActivity, Message, Rating, StaffUser, utcnow
from app.db.repository import MessageRepository
from app.errors import Conflict, NotFound
from app.observability import metrics
from app.security.api_keys import Forbidden
from app.staff import frames
from app.staff.enums import HUMAN_STATES, Actor, HandoffState, StaffRole
from app.staff.packet import build_packet, ticket_id
from app.staff.webhooks import Webhooks

log = logging.getLogger("app.staff.handoff")
Publish = Callable[[uuid.UUID | str, dict[str, Any]], None]
ALL_STATES = frozenset(HandoffState)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    """What a transition did, for the effects that run after its transaction committed."""

    session_id: uuid.UUID
    from_state: HandoffState
    to_state: HandoffState
    handoff_id: uuid.UUID | None
    assignee: StaffUser | None = None


class HandoffService:
    def __init__(self, db: Database, repo: MessageRepository, settings: Settings, publish: Publish,
                 webhooks: Webhooks) -> None:
        self.db = db
        self.repo = repo
        self.settings = settings
        self.publish = publish
        self.webhooks = webhooks

    # --- the customer's side (called from the chat turn, under the session's turn lock) -----------

    async def state(self, session_id: uuid.UUID) -> HandoffState:
        async with self.db.sessionmaker() as s:
            value = await s.scalar(select(ChatSession.handoff_state).where(ChatSession.id == session_id))
        return HandoffState(value or HandoffState.BOT)

    async def route_customer_message(self, session_id: uuid.UUID, message: Message,
                                     state: HandoffState) -> HandoffState:
        """Who answers this stored customer message, given the state read when it was stored: a human
        (waiting/assigned: the staff hear of it, the assistant stays quiet) or the assistant (bot; a
        resolved conversation goes back to bot)."""
        if state == HandoffState.RESOLVED:
            await self.return_to_bot(session_id, None, actor_type=Actor.CUSTOMER, announce=False)
            return HandoffState.BOT
        if state in HUMAN_STATES:
            async with self.db.transaction() as s:
                self.webhooks.enqueue(s, "message.created", {"session_id": str(session_id), "role": "user",
                                                             "message_id": str(message.id),
                                                             "content": message.content})
            self.webhooks.wake()
            self.publish(frames.STAFF_CHANNEL, frames.staff_event(
                "message.created", session_id, message=_thread_message(message), state=state.value))
        return state

    async def open(self, session_id: uuid.UUID, escalation: dict[str, Any]) -> int | None:
        """The assistant handed over (its reply and Escalation row are stored): queue the conversation.
        Returns the customer's place in line, or None when a handoff was already open (no second ticket)."""
        handoff_id: uuid.UUID = escalation["id"]
        packet = await build_packet(self.db, self.repo, session_id, escalation)
        async with self.db.transaction() as s:
            session = await self._session(s, session_id)
            if HandoffState(session.handoff_state) in HUMAN_STATES:
                return None
            row = await s.get(Escalation, handoff_id)
            if row is not None:
                row.packet = packet
            now = utcnow()
            self._move(s, session, HandoffState.WAITING, Actor.ASSISTANT, None,
                       {"reason": escalation["reason"], "priority": escalation["priority"]})
            session.handoff_id, session.handoff_since, session.assignee_id = handoff_id, now, None
            await s.flush()
            position = await self._position(s, now)
            self.webhooks.enqueue(s, "conversation.handoff", {
                "session_id": str(session_id), "ticket_id": ticket_id(handoff_id), "reason": escalation["reason"],
                "priority": escalation["priority"], "summary": escalation.get("summary", ""), "position": position})
        metrics.HANDOFFS.labels(reason=escalation["reason"]).inc()
        await self._announce(Change(session_id, HandoffState.BOT, HandoffState.WAITING, handoff_id),
                             f"You are number {position} in line for a member of our support team. They will "
                             "reply here and can read this conversation. You can go back to the assistant "
                             "at any time.", position=position)
        self.publish(frames.STAFF_CHANNEL, frames.staff_event(
            "handoff.created", session_id, state="waiting", reason=escalation["reason"],
            priority=escalation["priority"], summary=escalation.get("summary", ""), ticket_id=ticket_id(handoff_id),
            waiting_since=utcnow().isoformat(), position=position))
        await self.refresh_gauges()
        return position

    async def customer_typing(self, session_id: uuid.UUID, typing: bool) -> None:
        if await self.state(session_id) in HUMAN_STATES:
            self.publish(frames.STAFF_CHANNEL, frames.staff_event("typing", session_id, who="customer",
                                                                 typing=typing))

    async def customer_view(self, session_id: uuid.UUID) -> HandoffStatus:
        """What the customer's widget shows after a reload: state, place in line, who joined, rating."""
        async with self.db.sessionmaker() as s:
            session = await s.get(ChatSession, session_id)
            if session is None:
                return HandoffStatus()
            state = HandoffState(session.handoff_state)
            position = await self._position(s, session.handoff_since) \
                if state == HandoffState.WAITING and session.handoff_since else None
            assignee = await s.get(StaffUser, session.assignee_id) if session.assignee_id else None
            can_rate = False
            if state == HandoffState.RESOLVED and session.handoff_id:
                rated = await s.scalar(select(Rating.id).where(Rating.handoff_id == session.handoff_id))
                can_rate = rated is None
        return HandoffStatus(state=state, position=position, can_rate=can_rate,
                             assignee=AuthorInfo(name=assignee.name) if assignee and state in HUMAN_STATES else None)

    async def queue_position(self, session_id: uuid.UUID) -> int | None:
        async with self.db.sessionmaker() as s:
            session = await s.get(ChatSession, session_id)
            if session is None or session.handoff_state != HandoffState.WAITING or session.handoff_since is None:
                return None
            return await self._position(s, session.handoff_since)

    # --- staff actions --------------------------------------------------------------------------

    async def assign(self, session_id: uuid.UUID, actor: StaffUser, assignee_id: uuid.UUID | None) -> Change:
        target_id = assignee_id or actor.id
        async with self.db.transaction() as s:
            session = await self._session(s, session_id)
            state = HandoffState(session.handoff_state)
            if state == HandoffState.RESOLVED:
                raise Conflict("The conversation is resolved; return it to the bot first", code="wrong_state")
            if actor.role != StaffRole.ADMIN:
                if target_id != actor.id:
                    raise Forbidden("Only admins assign conversations to someone else", code="admin_only")
                if state == HandoffState.ASSIGNED and session.assignee_id not in (None, actor.id):
                    raise Forbidden("Another agent owns this conversation", code="not_your_conversation")
            assignee = await s.get(StaffUser, target_id)
            if assignee is None or not assignee.active:
                raise NotFound("No active staff user with that id", code="staff_not_found")
            if state == HandoffState.ASSIGNED and session.assignee_id == target_id:
                return Change(session_id, state, state, session.handoff_id, assignee)  # already theirs
            if state == HandoffState.BOT:  # a takeover: staff step into a conversation the bot is having
                session.handoff_id, session.handoff_since = None, utcnow()
            self._move(s, session, HandoffState.ASSIGNED, Actor.STAFF, actor, {"assignee_id": str(target_id)},
                       allow_same=True)
            session.assignee_id = target_id
            await self._set_escalation(s, session.handoff_id, status="assigned")
            self.webhooks.enqueue(s, "conversation.assigned", {
                "session_id": str(session_id), "ticket_id": ticket_id(session.handoff_id),
                "assignee": {"id": str(assignee.id), "name": assignee.name}})
            change = Change(session_id, state, HandoffState.ASSIGNED, session.handoff_id, assignee)
        await self._announce(change, f"{assignee.name} joined the conversation.", assignee=assignee.name)
        await self.refresh_gauges()
        return change

    async def resolve(self, session_id: uuid.UUID, actor: StaffUser) -> Change:
        async with self.db.transaction() as s:
            session = await self._session(s, session_id)
            state = self._require(session, {HandoffState.WAITING, HandoffState.ASSIGNED})
            self._check_owner(session, actor)
            self._move(s, session, HandoffState.RESOLVED, Actor.STAFF, actor, {})
            await self._set_escalation(s, session.handoff_id, status="resolved", resolved=True)
            self.webhooks.enqueue(s, "conversation.resolved", {
                "session_id": str(session_id), "ticket_id": ticket_id(session.handoff_id),
                "resolved_by": {"id": str(actor.id), "name": actor.name}})
            change = Change(session_id, state, HandoffState.RESOLVED, session.handoff_id)
        await self._announce(change, f"{actor.name} marked this conversation as resolved. How did we do? "
                                     "Rate this conversation, or just keep typing to ask the assistant.")
        await self.refresh_gauges()
        return change

    async def return_to_bot(self, session_id: uuid.UUID, actor: StaffUser | None, *,
                            actor_type: Actor = Actor.STAFF, announce: bool = True) -> Change:
        async with self.db.transaction() as s:
            session = await self._session(s, session_id)
            state = self._require(session, {HandoffState.WAITING, HandoffState.ASSIGNED, HandoffState.RESOLVED})
            if actor is not None:
                self._check_owner(session, actor)
            self._move(s, session, HandoffState.BOT, actor_type, actor, {})
            if state in HUMAN_STATES:
                await self._set_escalation(s, session.handoff_id, status="returned", resolved=True)
            session.assignee_id = None
            self.webhooks.enqueue(s, "conversation.returned_to_bot", {
                "session_id": str(session_id), "ticket_id": ticket_id(session.handoff_id),
                "by": actor_type.value})
            change = Change(session_id, state, HandoffState.BOT, session.handoff_id)
        if announce:
            await self._announce(change, "You are chatting with the assistant again.")
        else:
            self.publish(session_id, chat_frames.handoff(HandoffState.BOT))
            self._staff_update(change)
        await self.refresh_gauges()
        return change

    # --- internals ------------------------------------------------------------------------------

    async def _session(self, s: AsyncSession, session_id: uuid.UUID) -> ChatSession:
        session = await s.get(ChatSession, session_id, with_for_update=True)
        if session is None:
            raise NotFound("Conversation not found", code="conversation_not_found")
        return session

    @staticmethod
    def _require(session: ChatSession, allowed: set[HandoffState]) -> HandoffState:
        state = HandoffState(session.handoff_state)
        if state not in allowed:
            raise Conflict(f"The conversation is in state '{state}'", code="wrong_state")
        return state

    @staticmethod
    def _check_owner(session: ChatSession, actor: StaffUser) -> None:
        if (actor.role != StaffRole.ADMIN and session.handoff_state == HandoffState.ASSIGNED
                and session.assignee_id not in (None, actor.id)):
            raise Forbidden("Another agent owns this conversation", code="not_your_conversation")

    @staticmethod
    def _move(s: AsyncSession, session: ChatSession, to: HandoffState, actor_type: Actor,
              actor: StaffUser | None, detail: dict[str, Any], allow_same: bool = False) -> None:
        from_state = HandoffState(session.handoff_state)
        if from_state == to and not allow_same:
            raise Conflict(f"The conversation is already in state '{to}'", code="wrong_state")
        session.handoff_state = to
        s.add(HandoffActivity(session_id=session.id, handoff_id=session.handoff_id, actor_type=actor_type.value,
                              actor_id=actor.id if actor else None, from_state=from_state.value,
                              to_state=to.value, detail=detail))
        metrics.HANDOFF_TRANSITIONS.labels(from_state=from_state.value, to_state=to.value).inc()
        log.info("staff.handoff.transition", extra={"from_state": from_state.value, "to_state": to.value,
                                                    "actor_type": actor_type.value})

    @staticmethod
    async def _set_escalation(s: AsyncSession, handoff_id: uuid.UUID | None, *, status: str,
                              resolved: bool = False) -> None:
        if handoff_id is None:
            return
        row = await s.get(Escalation, handoff_id)
        if row is not None:
            row.status = status
            if resolved:
                row.resolved_at = utcnow()

    @staticmethod
    async def _position(s: AsyncSession, since: datetime) -> int:
        ahead = await s.scalar(select(func.count()).select_from(ChatSession).where(
            ChatSession.handoff_state == HandoffState.WAITING, ChatSession.handoff_since < since))
        return int(ahead or 0) + 1

    async def _announce(self, change: Change, text: str, *, position: int | None = None,
                        assignee: str | None = None) -> None:
        """Tell the customer (a stored notice, so a reload shows it too) and the staff sockets."""
        notice = await self.repo.add_message(change.session_id, MessageRole.SYSTEM, text,
                                             metadata={"handoff_state": change.to_state.value})
        self.publish(change.session_id, chat_frames.handoff(change.to_state, position=position, assignee=assignee,
                                                       ticket_id=ticket_id(change.handoff_id)))
        self.publish(change.session_id, chat_frames.notice(notice))
        self.webhooks.wake()
        self._staff_update(change)

    def _staff_update(self, change: Change) -> None:
        assignee = {"id": str(change.assignee.id), "name": change.assignee.name} if change.assignee else None
        self.publish(frames.STAFF_CHANNEL, frames.staff_event(
            "conversation.updated", change.session_id, state=change.to_state.value,
            from_state=change.from_state.value, assignee=assignee))

    async def refresh_gauges(self) -> None:
        """Waiting conversations and the longest wait, from SQL (every instance reports the same)."""
        async with self.db.sessionmaker() as s:
            count, oldest = (await s.execute(select(func.count(), func.min(ChatSession.handoff_since)).where(
                ChatSession.handoff_state == HandoffState.WAITING))).one()
        metrics.HANDOFF_WAITING.set(int(count or 0))
        metrics.HANDOFF_OLDEST_WAITING.set((utcnow() - aware(oldest)).total_seconds() if oldest else 0)


def _thread_message(m: Message) -> dict[str, Any]:
    return {"id": str(m.id), "role": m.role, "content": m.content,
            "created_at": aware(m.created_at).isoformat()}
