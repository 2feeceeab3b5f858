import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import Attachment, Escalation, Message
from tests.conftest import ChatSessionHandle


async def _count(app: FastAPI, model: type, session_id: str) -> int:
    async with app.state.services.db.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)
                                   .where(model.session_id == uuid.UUID(session_id))))


async def test_password_question_is_answered_from_the_article_with_a_source(new_session) -> None:
    session: ChatSessionHandle = await new_session()
    response = await session.send("How do I reset my password?")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["requires_escalation"] is False
    assert body["sources"], body
    top = body["sources"][0]
    assert top["metadata"]["source"] == "account-password-reset.md"
    assert set(top) >= {"id", "content", "metadata", "distance"}
    assert 0 <= top["distance"] < 1
    # The reply quotes the article's own steps, not a paraphrase.
    assert "Forgot password?" in body["message"]
    assert top["content"].strip() in body["message"]
    assert body["grounded"] is True
    uuid.UUID(body["message_id"])


async def test_json_body_is_accepted_like_multipart(client: httpx.AsyncClient, new_session) -> None:
    session = await new_session()
    response = await client.post(f"/chat/sessions/{session.id}/messages",
                                 json={"message": "How long do I have to return an item?"}, headers=session.headers)
    assert response.status_code == 200
    assert response.json()["sources"][0]["metadata"]["source"] == "returns-policy.md"


async def test_question_outside_the_help_center_is_declined_with_an_offer_of_a_human(new_session) -> None:
    session = await new_session()
    body = (await session.send("What is the capital of Mongolia?")).json()
    assert body["sources"] == []
    assert "human" in body["message"].lower()
    assert body["requires_escalation"] is False
    assert body["grounded"] is False


async def test_explicit_request_for_a_human_escalates_and_is_recorded(app_client, new_session) -> None:
    app, _ = app_client
    session = await new_session()
    body = (await session.send("I want to talk to a real person please")).json()
    assert body["requires_escalation"] is True
    assert body["escalation"]["ticket_id"] in body["message"]
    assert body["grounded"] is False
    assert await _count(app, Escalation, session.id) == 1
    history = (await session.client.get(f"/chat/sessions/{session.id}/history", headers=session.headers)).json()
    assert history["messages"][1]["escalation"] == body["escalation"]  # a reload can show the notice again
    assert history["messages"][0]["escalation"] is None
    calm = (await session.send("How do I track my order?")).json()
    assert calm["requires_escalation"] is False


async def test_greeting_gets_a_greeting(new_session) -> None:
    session = await new_session()
    body = (await session.send("Hello!")).json()
    assert body["sources"] == [] and "hello" in body["message"].lower()
    assert body["grounded"] is False


async def test_attachments_are_validated_and_stored(app_client, new_session) -> None:
    app, client = app_client
    session = await new_session()
    files = [("attachments", ("receipt.txt", b"Order TH-1234, paid $120", "text/plain")),
             ("attachments", ("screen.png", b"\x89PNG\r\n\x1a\nfake", "image/png"))]
    response = await client.post(f"/chat/sessions/{session.id}/messages", data={"message": "Here is my receipt"},
                                 files=files, headers=session.headers)
    assert response.status_code == 200, response.text
    stored = response.json()["attachments"]
    assert [a["filename"] for a in stored] == ["receipt.txt", "screen.png"]
    async with app.state.services.db.sessionmaker() as db:
        rows = list(await db.scalars(select(Attachment).where(Attachment.session_id == uuid.UUID(session.id))))
    assert len(rows) == 2
    assert all(Path(r.storage_path).is_file() for r in rows)
    assert Path(rows[0].storage_path).read_bytes() in (b"Order TH-1234, paid $120", b"\x89PNG\r\n\x1a\nfake")
    history = (await client.get(f"/chat/sessions/{session.id}/history", headers=session.headers)).json()
    assert len(history["messages"][0]["attachments"]) == 2


async def test_bad_input_gets_a_clear_4xx_and_writes_nothing(app_client, new_session, tmp_path: Path) -> None:
    app, client = app_client
    session = await new_session()
    url = f"/chat/sessions/{session.id}/messages"
    h = session.headers
    limits = app.state.settings
    cases = [
        ("empty", dict(data={"message": "   "}), 422, "message_empty"),
        ("missing field", dict(data={"text": "hi"}), 422, "validation_error"),
        ("too long", dict(data={"message": "a" * (limits.max_message_chars + 1)}), 422, "message_too_long"),
        ("attachment too large", dict(data={"message": "see file"},
                                      files=[("attachments", ("big.txt", b"x" * (limits.max_attachment_bytes + 1),
                                                              "text/plain"))]), 413, "attachment_too_large"),
        ("type not allowed", dict(data={"message": "see file"},
                                  files=[("attachments", ("run.exe", b"MZ", "application/octet-stream"))]),
         415, "attachment_type_not_allowed"),
        ("one good one bad file", dict(data={"message": "see files"},
                                       files=[("attachments", ("ok.txt", b"fine", "text/plain")),
                                              ("attachments", ("bad.sh", b"#!", "text/x-sh"))]),
         415, "attachment_type_not_allowed"),
        ("empty file", dict(data={"message": "see file"}, files=[("attachments", ("e.txt", b"", "text/plain"))]),
         422, "attachment_empty"),
        ("too many files", dict(data={"message": "files"},
                                files=[("attachments", (f"f{i}.txt", b"x", "text/plain"))
                                       for i in range(limits.max_attachments_per_message + 1)]),
         422, "too_many_attachments"),
        ("malformed multipart", dict(content=b"--xyz\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi",
                                     headers={**h, "content-type": "multipart/form-data; boundary=abc"}),
         400, "bad_request"),
        ("malformed json", dict(content=b'{"message": ', headers={**h, "content-type": "application/json"}),
         400, "malformed_json"),
        ("json wrong shape", dict(json={"message": ["a"]}), 422, "validation_error"),
        ("json not an object", dict(json=["hello"]), 422, "validation_error"),
        ("nul character", dict(data={"message": "hello\x00there"}), 422, "message_invalid"),
        ("unsupported content type", dict(content=b"hi", headers={**h, "content-type": "text/plain"}),
         415, "unsupported_content_type"),
    ]
    for name, kwargs, status, code in cases:
        kwargs.setdefault("headers", h)
        response = await client.post(url, **kwargs)
        assert response.status_code == status, (name, response.text)
        body = response.json()
        assert body["code"] == code, (name, body)
        assert body["request_id"], name
        assert "Traceback" not in response.text
    assert await _count(app, Message, session.id) == 0
    assert await _count(app, Attachment, session.id) == 0
    assert not (app.state.settings.attachments_dir / uuid.UUID(session.id).hex).exists() or not any(
        (app.state.settings.attachments_dir / uuid.UUID(session.id).hex).iterdir())


async def test_request_body_over_the_limit_is_refused_before_it_is_read(data_dir: Path) -> None:
    from tests.conftest import make_settings, running_app

    settings = make_settings(data_dir, max_attachment_bytes=1000, max_attachments_per_message=1)
    async with running_app(settings) as (_, client):
        created = (await client.post("/chat/sessions", json={})).json()
        response = await client.post(f"/chat/sessions/{created['session_id']}/messages",
                                     headers={"Authorization": f"Bearer {created['session_token']}"},
                                     files=[("attachments", ("a.txt", b"x" * (settings.max_request_bytes + 10),
                                                             "text/plain"))], data={"message": "hi"})
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"


async def test_user_message_is_kept_when_the_agent_fails(app_client, new_session) -> None:
    app, _ = app_client
    session = await new_session()
    agent = app.state.services.chat.agent

    class Boom(Exception):
        pass

    async def failing(*_a, **_k):  # the turn service streams the agent (REST turns publish frames too)
        raise Boom("model crashed")
        yield

    original = agent.stream
    agent.stream = failing
    try:
        response = await session.send("How do I reset my password?")
    finally:
        agent.stream = original
    assert response.status_code == 503
    assert response.json()["code"] == "agent_unavailable"
    assert "model crashed" not in response.text
    assert await _count(app, Message, session.id) == 1


async def test_a_long_message_asking_for_a_human_still_opens_a_ticket(app_client, new_session) -> None:
    app, _ = app_client
    session = await new_session()
    story = "My order arrived late and the box was crushed. " * 60
    # An earlier long message goes into the ticket's summary too. (Only one: a second unanswered one would
    # hand the conversation over for repeated failure, and an open handoff opens no second ticket.)
    assert (await session.send(story)).status_code == 200
    body = (await session.send(story + " I want to talk to a human agent now.")).json()
    assert body["requires_escalation"] is True
    assert body["escalation"]["ticket_id"] in body["message"]
    async with app.state.services.db.sessionmaker() as db:
        reasons = list(await db.scalars(select(Escalation.reason)
                                        .where(Escalation.session_id == uuid.UUID(session.id))))
    assert "customer_request" in reasons


async def test_a_broad_question_gets_the_sections_main_rule(new_session) -> None:
    session = await new_session()
    body = (await session.send("What is your return policy?")).json()
    assert body["sources"][0]["metadata"]["source"] == "returns-policy.md"
    assert "within 30 days" in body["message"]  # the section's lead, not only a side remark


async def test_facts_cross_sessions_only_for_a_user_id_an_integrator_vouched_for(data_dir: Path) -> None:
    from tests.conftest import make_settings, running_app

    key = "chat-integrator-key-0123456789"
    async with running_app(make_settings(data_dir, api_keys=[f"{key}:chat"])) as (_, client):
        async def talk(body: dict, message: str, headers: dict | None = None) -> dict:
            created = (await client.post("/chat/sessions", json=body, headers=headers or {})).json()
            auth = {"Authorization": f"Bearer {created['session_token']}"}
            return (await client.post(f"/chat/sessions/{created['session_id']}/messages",
                                      json={"message": message}, headers=auth)).json()

        await talk({"user_id": "alice"}, "My email is alice.secret@example.com")
        stranger = await talk({"user_id": "alice"}, "What is my email?")
        assert "alice.secret@example.com" not in stranger["message"]  # a typed-in user_id is only a label

        vouched = {"X-API-Key": key}
        await talk({"user_id": "bob"}, "My email is bob@example.com", vouched)
        same_user = await talk({"user_id": "bob"}, "What is my email?", vouched)
        assert "bob@example.com" in same_user["message"]
        wrong_key = await client.post("/chat/sessions", json={"user_id": "bob"}, headers={"X-API-Key": "x" * 20})
        assert wrong_key.status_code == 401


async def test_uploads_waiting_for_a_message_are_capped_per_session(client, new_session) -> None:
    from app.chat.uploads import MAX_UNSENT_UPLOADS

    session = await new_session()
    url = f"/chat/sessions/{session.id}/attachments"
    for i in range(MAX_UNSENT_UPLOADS // 5):
        files = [("attachments", (f"f{i}-{j}.txt", b"x", "text/plain")) for j in range(5)]
        assert (await client.post(url, files=files, headers=session.headers)).status_code == 201
    refused = await client.post(url, files=[("attachments", ("one-more.txt", b"x", "text/plain"))],
                                headers=session.headers)
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_unsent_uploads"


async def test_a_flood_of_messages_on_one_session_is_refused_not_queued(data_dir: Path) -> None:
    import asyncio

    from tests.conftest import make_settings, running_app

    async with running_app(make_settings(data_dir, max_queued_turns_per_session=2)) as (app, client):
        created = (await client.post("/chat/sessions", json={})).json()
        headers = {"Authorization": f"Bearer {created['session_token']}"}
        agent = app.state.services.chat.agent
        release = asyncio.Event()
        original = agent.stream

        async def slow_stream(*args, **kwargs):
            await release.wait()
            async for event in original(*args, **kwargs):
                yield event

        agent.stream = slow_stream
        url = f"/chat/sessions/{created['session_id']}/messages"
        sends = [asyncio.create_task(client.post(url, json={"message": f"question {i}"}, headers=headers))
                 for i in range(5)]
        pending = set(sends)
        async with asyncio.timeout(30):  # three refused at once while two are held by the slow agent
            while len(pending) > 2:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        release.set()
        statuses = sorted(r.status_code for r in await asyncio.gather(*sends))
        agent.stream = original
        assert statuses == [200, 200, 429, 429, 429]
        # The refused ones wrote nothing: two questions, two replies (and, as neither could be answered,
        # the notice of the handoff for repeated failure).
        async with app.state.services.db.sessionmaker() as db:
            roles = list(await db.scalars(select(Message.role).where(
                Message.session_id == uuid.UUID(created["session_id"]))))
        assert sorted(r for r in roles if r != "system") == ["assistant", "assistant", "user", "user"]
