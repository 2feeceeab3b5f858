"""What staff read and write: the queue, a whole thread, replies and private notes, drafts, CSAT."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from app.agents.chat_agent import CustomerSupportAgent
from app.agents.turn import TurnInput
from app.chat import frames as chat_frames
from app.db.engine import Database
from app.db.enums import MessageRole, SessionStatus
from app.db.models import (
    ChatSession,
    Escalation,
    HandoffActivity,
    Message,
    Rating,
    StaffNote,
    StaffUser,
    utcnow,
)
from app.db.repository import MessageRepository
from app.errors import Conflict, NotFound, Unprocessable
from app.observability import metrics
from app.security.api_keys import Forbidden
from app.staff import frames
from app.staff.enums import HandoffState, StaffRole
from app.staff.handoff import HandoffService, aware
from app.staff.packet import ticket_id
from app.staff.schemas import (
    Activity,
    ConversationDetail,
    ConversationItem,
    Draft,
    LastMessage,
    StaffMessageCreated,
    StaffRef,
    ThreadEntry,
)

PREVIEW_CHARS = 200
THREAD_LIMIT = 1000  # messages shown with a conversation; longer ones keep their newest


class Inbox:
    def __init__(self, db: Database, repo: MessageRepository, handoff: HandoffService,
                 agent: CustomerSupportAgent, max_message_chars: int) -> None:
        self.db = db
        self.repo = repo
        self.handoff = handoff
        self.agent = agent
        self.max_message_chars = max_message_chars

    async def list(self, viewer: StaffUser, state: HandoffState | None, assignee: str | None,
                   limit: int, offset: int) -> tuple[list[ConversationItem], int]:
        query = select(ChatSession)
        if state is not None:
            query = query.where(ChatSession.handoff_state == state)
        else:  # everything a human was ever involved in
            query = query.where(ChatSession.handoff_since.is_not(None))
        if assignee is not None:
            query = query.where(ChatSession.assignee_id == (viewer.id if assignee == "me" else _uuid(assignee)))
        async with self.db.sessionmaker() as s:
            total = int(await s.scalar(select(func.count()).select_from(query.subquery())) or 0)
            rows = list(await s.scalars(query.order_by(ChatSession.handoff_since.asc().nulls_last(),
                                                       ChatSession.created_at).limit(limit).offset(offset)))
            return [await self._item(s, row) for row in rows], total

    async def detail(self, viewer: StaffUser, session_id: uuid.UUID) -> ConversationDetail:
        messages = await self.repo.latest(session_id, THREAD_LIMIT)
        async with self.db.transaction() as s:
            session = await s.get(ChatSession, session_id)
            if session is None:
                raise NotFound("Conversation not found", code="conversation_not_found")
            item = await self._item(s, session)
            notes = list(await s.scalars(select(StaffNote).where(StaffNote.session_id == session_id)))
            activities = list(await s.scalars(select(HandoffActivity).where(HandoffActivity.session_id == session_id)
                                              .order_by(HandoffActivity.created_at)))
            names = await _names(s, {a.actor_id for a in activities if a.actor_id})
            escalation = await s.get(Escalation, session.handoff_id) if session.handoff_id else None
            rating = await s.scalar(select(Rating).where(Rating.handoff_id == session.handoff_id)) \
                if session.handoff_id else None
            if messages and (session.assignee_id in (None, viewer.id)):
                session.staff_read_seq = max(session.staff_read_seq, messages[-1].seq)  # read by its owner
        thread = [_entry(m) for m in messages] + [_note_entry(n) for n in notes]
        thread.sort(key=lambda e: aware(e.created_at))
        return ConversationDetail(
            **item.model_dump(), user_id=session.user_id, status=session.status, thread=thread,
            packet=(escalation.packet or {}) if escalation else {},
            activities=[Activity(actor_type=a.actor_type, from_state=HandoffState(a.from_state),
                                 to_state=HandoffState(a.to_state), created_at=a.created_at,
                                 actor=StaffRef(id=a.actor_id, name=names.get(a.actor_id, "?")) if a.actor_id else None)
                        for a in activities],
            rating={"score": rating.score, "comment": rating.comment} if rating else None)

    async def post(self, session_id: uuid.UUID, actor: StaffUser, content: str, private: bool) -> StaffMessageCreated:
        content = content.strip()
        if not content:
            raise Unprocessable("The message is empty", code="empty_message")
        if len(content) > self.max_message_chars:
            raise Unprocessable(f"Messages may have at most {self.max_message_chars} characters",
                                code="message_too_long")
        state = await self._writable(session_id, actor, private)
        author = StaffRef(id=actor.id, name=actor.name)
        if private:
            async with self.db.transaction() as s:
                note = StaffNote(session_id=session_id, author_id=actor.id, author_name=actor.name, content=content)
                s.add(note)
            self.handoff.publish(frames.STAFF_CHANNEL, frames.staff_event(
                "note.created", session_id, note={"id": str(note.id), "content": content, "author": author.model_dump(
                    mode="json"), "created_at": aware(note.created_at).isoformat()}))
            return StaffMessageCreated(id=note.id, private=True, content=content, author=author,
                                       created_at=note.created_at, state=state)
        if state in (HandoffState.WAITING, HandoffState.BOT):  # replying takes the conversation
            state = (await self.handoff.assign(session_id, actor, None)).to_state
        message = await self.repo.add_message(session_id, MessageRole.AGENT, content,
                                              metadata={"author": {"id": str(actor.id), "name": actor.name}})
        # The customer first; the bookkeeping below (first-response time, webhook) does not delay them.
        self.handoff.publish(session_id, chat_frames.agent_message(message))
        async with self.db.transaction() as s:
            session = await s.get(ChatSession, session_id)
            escalation = await s.get(Escalation, session.handoff_id) if session and session.handoff_id else None
            if escalation is not None and escalation.first_response_at is None:
                escalation.first_response_at = utcnow()
                metrics.HANDOFF_FIRST_RESPONSE.observe(
                    (escalation.first_response_at - aware(escalation.created_at)).total_seconds())
            self.handoff.webhooks.enqueue(s, "message.created", {
                "session_id": str(session_id), "role": "agent", "message_id": str(message.id), "content": content,
                "author": {"id": str(actor.id), "name": actor.name}})
        self.handoff.webhooks.wake()
        self.handoff.publish(frames.STAFF_CHANNEL, frames.staff_event(
            "message.created", session_id, message=_entry(message).model_dump(mode="json"), state=state.value))
        metrics.CHAT_MESSAGES.labels(role="agent", channel="staff").inc()
        return StaffMessageCreated(id=message.id, private=False, content=content, author=author,
                                   created_at=message.created_at, state=state)

    async def draft(self, session_id: uuid.UUID) -> Draft:
        """A reply drafted from the knowledge base for the newest customer question it can answer."""
        async with self.db.sessionmaker() as s:
            if await s.get(ChatSession, session_id) is None:
                raise NotFound("Conversation not found", code="conversation_not_found")
        asked = await self.repo.texts_of(session_id, MessageRole.USER, 5)
        for text in asked:
            # No session id: the draft reads no memory and writes none; nothing is stored or sent.
            reply = await self.agent.respond(TurnInput(text=text, channel="draft"))
            if not reply.requires_escalation and reply.answered and reply.sources:
                return Draft(content=reply.message, sources=reply.sources, grounded=True)
        return Draft(content="", sources=[], grounded=False)

    async def rate(self, session: ChatSession, score: int, comment: str | None) -> Rating:
        async with self.db.transaction() as s:
            current = await s.get(ChatSession, session.id)
            handoff_id = current.handoff_id if current else None
            escalation = await s.get(Escalation, handoff_id) if handoff_id else None
            if escalation is None or escalation.status != "resolved":
                raise Conflict("Only a conversation a person resolved can be rated", code="nothing_to_rate")
            if await s.scalar(select(Rating.id).where(Rating.handoff_id == handoff_id)) is not None:
                raise Conflict("This conversation was rated already", code="already_rated")
            rating = Rating(session_id=session.id, handoff_id=handoff_id, score=score, comment=comment)
            s.add(rating)
            self.handoff.webhooks.enqueue(s, "conversation.rated", {
                "session_id": str(session.id), "ticket_id": ticket_id(handoff_id), "score": score, "comment": comment})
        self.handoff.webhooks.wake()
        metrics.CSAT_RATINGS.labels(score=str(score)).inc()
        metrics.CSAT_SCORE.observe(score)
        self.handoff.publish(frames.STAFF_CHANNEL, frames.staff_event("conversation.rated", session.id, score=score))
        return rating

    async def _writable(self, session_id: uuid.UUID, actor: StaffUser, private: bool) -> HandoffState:
        async with self.db.sessionmaker() as s:
            session = await s.get(ChatSession, session_id)
        if session is None:
            raise NotFound("Conversation not found", code="conversation_not_found")
        state = HandoffState(session.handoff_state)
        if private:
            return state
        if session.status != SessionStatus.ACTIVE:
            raise Conflict("The customer closed this conversation", code="session_closed")
        if state == HandoffState.RESOLVED:
            raise Conflict("The conversation is in state 'resolved'; assign it to reply", code="wrong_state")
        if (state == HandoffState.ASSIGNED and session.assignee_id not in (None, actor.id)
                and actor.role != StaffRole.ADMIN):
            raise Forbidden("Another agent owns this conversation", code="not_your_conversation")
        return state

    async def _item(self, s: Any, session: ChatSession) -> ConversationItem:
        escalation = await s.get(Escalation, session.handoff_id) if session.handoff_id else None
        assignee = await s.get(StaffUser, session.assignee_id) if session.assignee_id else None
        newest = await self.repo.latest(session.id, 1, db=s)
        last = newest[0] if newest else None
        unread = await self.repo.count_after(session.id, MessageRole.USER, session.staff_read_seq, db=s)
        return ConversationItem(
            session_id=session.id, state=HandoffState(session.handoff_state),
            reason=escalation.reason if escalation else None, priority=escalation.priority if escalation else None,
            summary=escalation.summary if escalation else None, ticket_id=ticket_id(session.handoff_id),
            waiting_since=session.handoff_since,
            assignee=StaffRef(id=assignee.id, name=assignee.name) if assignee else None,
            last_message=LastMessage(role=last.role, content=last.content[:PREVIEW_CHARS],
                                     created_at=last.created_at) if last else None,
            unread=int(unread or 0))


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Unprocessable("assignee must be `me` or a staff id", code="invalid_assignee") from exc


async def _names(s: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {u.id: u.name for u in await s.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}


def _entry(m: Message) -> ThreadEntry:
    author = (m.metadata_ or {}).get("author")
    return ThreadEntry(id=m.id, kind="message", role=m.role, content=m.content, sources=m.sources or [],
                       author=StaffRef(**author) if author else None, created_at=m.created_at,
                       attachments=[{"id": str(a.id), "filename": a.filename, "content_type": a.content_type,
                                     "size_bytes": a.size_bytes} for a in m.__dict__.get("attachments") or []])


def _note_entry(n: StaffNote) -> ThreadEntry:
    return ThreadEntry(id=n.id, kind="note", role="note", content=n.content, private=True,
                       author=StaffRef(id=n.author_id, name=n.author_name), created_at=n.created_at)
