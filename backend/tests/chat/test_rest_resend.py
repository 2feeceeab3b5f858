"""REST messages with a `client_id`: a resend is stored once and answered once (docs/api.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.db.enums import HandoffState
from app.db.models import Attachment, ChatSession, Message
from tests.conftest import ChatSessionHandle


async def _messages(app: FastAPI, session_id: str) -> list[Message]:
    async with app.state.services.db.sessionmaker() as db:
        return list(await db.scalars(select(Message).where(Message.session_id == uuid.UUID(session_id))
                                     .order_by(Message.seq)))


@contextmanager
def agent_fails(app: FastAPI) -> Iterator[None]:
    """The assistant fails every turn inside the block (its model is down); the question stays stored."""
    agent = app.state.services.chat.agent

    async def failing(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("model down")
        yield

    original = agent.stream
    agent.stream = failing
    try:
        yield
    finally:
        agent.stream = original


async def _post(session: ChatSessionHandle, **body: Any) -> httpx.Response:
    return await session.client.post(f"/chat/sessions/{session.id}/messages", json=body, headers=session.headers)


async def test_a_resend_with_the_same_client_id_gets_the_stored_reply(app_client, new_session) -> None:
    app, _ = app_client
    session: ChatSessionHandle = await new_session()
    first = await _post(session, message="How do I reset my password?", client_id="q-1")
    assert first.status_code == 200, first.text
    again = await _post(session, message="How do I reset my password?", client_id="q-1")
    assert again.status_code == 200, again.text
    assert again.json()["user_message_id"] == first.json()["user_message_id"]
    assert again.json()["message_id"] == first.json()["message_id"]
    assert again.json()["message"] == first.json()["message"]
    # Multipart carries it as a form field, with the same effect.
    form = await session.send("How do I reset my password?", files={"client_id": (None, "q-1")})
    assert form.status_code == 200 and form.json()["message_id"] == first.json()["message_id"]
    stored = await _messages(app, session.id)
    assert [(m.role, m.client_id) for m in stored] == [("user", "q-1"), ("assistant", None)]


async def test_a_resend_of_a_question_the_agent_failed_is_answered_once(app_client, new_session) -> None:
    app, _ = app_client
    session: ChatSessionHandle = await new_session()
    with agent_fails(app):
        failed = await _post(session, message="How do I reset my password?", client_id="retry-1")
    assert failed.status_code == 503 and failed.json()["code"] == "agent_unavailable"
    retried = await _post(session, message="(resent)", client_id="retry-1")
    assert retried.status_code == 200, retried.text
    assert "password" in retried.json()["message"].lower()  # the stored question is answered, not the resend
    stored = await _messages(app, session.id)
    assert [(m.role, m.content) for m in stored][0] == ("user", "How do I reset my password?")
    assert [m.role for m in stored] == ["user", "assistant"]
    assert str(stored[0].id) == retried.json()["user_message_id"]


async def test_a_resend_after_the_conversation_moved_on_is_refused(app_client, new_session) -> None:
    app, _ = app_client
    session: ChatSessionHandle = await new_session()
    with agent_fails(app):
        assert (await _post(session, message="How do I reset my password?", client_id="old")).status_code == 503
    assert (await _post(session, message="How do I change my plan?", client_id="new")).status_code == 200
    late = await _post(session, message="How do I reset my password?", client_id="old")
    assert late.status_code == 409 and late.json()["code"] == "message_superseded"
    assert len(await _messages(app, session.id)) == 3


async def test_a_superseded_resend_in_a_resolved_conversation_is_refused_not_given_to_a_person(
        app_client, new_session) -> None:
    """A resolved conversation is the assistant's again: nobody will answer the old question, so the
    resend is a 409 like in a bot conversation (it was reported as handled_by "human")."""
    app, _ = app_client
    session: ChatSessionHandle = await new_session()
    with agent_fails(app):
        assert (await _post(session, message="How do I reset my password?", client_id="old")).status_code == 503
    assert (await _post(session, message="How do I change my plan?", client_id="new")).status_code == 200
    async with app.state.services.db.transaction() as db:  # staff resolved a handover meanwhile
        await db.execute(update(ChatSession).where(ChatSession.id == uuid.UUID(session.id))
                         .values(handoff_state=HandoffState.RESOLVED.value))
    late = await _post(session, message="How do I reset my password?", client_id="old")
    assert late.status_code == 409 and late.json()["code"] == "message_superseded", late.text


async def test_a_resend_with_files_stores_them_once(app_client, new_session) -> None:
    app, _ = app_client
    session: ChatSessionHandle = await new_session()
    files = {"attachments": ("note.txt", b"order 1234", "text/plain"), "client_id": (None, "with-file")}
    first = await session.send("What does my note say?", files=files)
    assert first.status_code == 200, first.text
    again = await session.send("What does my note say?", files=files)
    assert again.status_code == 200 and again.json()["user_message_id"] == first.json()["user_message_id"]
    async with app.state.services.db.sessionmaker() as db:
        rows = int(await db.scalar(select(func.count()).select_from(Attachment)
                                   .where(Attachment.session_id == uuid.UUID(session.id))) or 0)
    assert rows == 1
    folder = app.state.settings.attachments_dir / uuid.UUID(session.id).hex
    assert len(list(folder.iterdir())) == 1  # the resend's copy was not left on disk


async def test_a_malformed_client_id_is_a_422_and_stores_nothing(app_client, new_session) -> None:
    app, _ = app_client
    session: ChatSessionHandle = await new_session()
    for bad in ("", "x" * 65, "has space", "é"):
        assert (await _post(session, message="hi", client_id=bad)).status_code == 422, bad
        refused = await session.send("hi", files={"client_id": (None, bad)})
        assert refused.status_code == 422, (bad, refused.text)
    assert await _messages(app, session.id) == []
