"""The whole handoff through the public API: escalate -> queue -> assign -> live reply -> resolve / return."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.conftest import LiveServer, Session, new_session, open_socket, recv, recv_until
from tests.staff.conftest import Staff, escalated_session, login, new_agent


async def staff_socket_frames(ws: ClientConnection, kind: str, session_id: str) -> dict[str, Any]:
    while True:
        frame = await recv(ws)
        if frame["type"] == kind and frame.get("session_id") == session_id:
            return frame


async def test_escalation_queues_the_conversation_and_the_bot_stays_quiet(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    async with connect(f"ws://127.0.0.1:{staff_server.port}/staff/ws?token={admin.token}") as staff_ws:
        assert (await recv(staff_ws))["type"] == "connected"
        session, reply = await escalated_session(staff_server)
        created = await staff_socket_frames(staff_ws, "handoff.created", session.id)
        assert created["reason"] == "customer_request" and created["position"] >= 1

    queue = (await admin.call("GET", "/staff/conversations", params={"state": "waiting"})).json()
    item = next(i for i in queue["items"] if i["session_id"] == session.id)
    assert item["state"] == "waiting" and item["reason"] == "customer_request" and item["waiting_since"]
    assert item["summary"] and item["ticket_id"] == reply["escalation"]["ticket_id"]
    assert item["assignee"] is None and item["last_message"]["role"] == "system"

    # The customer was told where they stand, once; later messages get no bot reply and no new ticket.
    history = await session.history()
    notices = [m for m in history if m["role"] == "system"]
    assert len(notices) == 1 and "in line" in notices[0]["content"]
    follow_up = await session.rest("POST", "/messages", json={"message": "Hello? I still need help, agent please"})
    assert follow_up.status_code == 200, follow_up.text
    body = follow_up.json()
    assert body["handled_by"] == "human" and body["requires_escalation"] is False and body["message"] == ""
    assert body["message_id"] is None and body["user_message_id"]
    after = await session.history()
    assert [m["role"] for m in after[len(history):]] == ["user"]
    detail = (await admin.call("GET", f"/staff/conversations/{session.id}")).json()
    assert [a["to_state"] for a in detail["activities"]] == ["waiting"]
    assert detail["packet"]["reason"] == "customer_request" and detail["packet"]["customer_asked"]
    assert detail["thread"][-1]["content"].startswith("Hello? I still need help")


async def test_a_human_reply_reaches_the_customer_socket_and_notes_stay_private(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    sam, _ = await new_agent(admin, "Sam")
    session, _ = await escalated_session(staff_server)
    async with open_socket(staff_server, session) as customer:
        assigned = await sam.call("POST", f"/staff/conversations/{session.id}/assign")
        assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
        joined = await _next(customer, "handoff")
        assert joined["state"] == "assigned" and joined["assignee"] == {"name": "Sam"}

        note = await sam.call("POST", f"/staff/conversations/{session.id}/messages",
                              json={"content": "Customer sounds upset; check order 1234", "private": True})
        assert note.status_code == 201 and note.json()["private"] is True
        sent = await sam.call("POST", f"/staff/conversations/{session.id}/messages",
                              json={"content": "Hi, I'm Sam. Let me look at this for you."})
        assert sent.status_code == 201, sent.text
        frame = await _next(customer, "agent_message")
        assert frame["content"] == "Hi, I'm Sam. Let me look at this for you."
        assert frame["author"] == {"name": "Sam"} and frame["message_id"] == sent.json()["id"]

        # The customer writes back: stored and forwarded, no bot turn.
        await customer.send(json.dumps({"type": "message", "content": "Thanks Sam!", "client_id": "c-1"}))
        ack = await _next(customer, "ack")
        assert ack["client_id"] == "c-1"

    history = await session.history()
    assert all("upset" not in m["content"] for m in history)  # the note never reaches the customer
    agent_rows = [m for m in history if m["role"] == "agent"]
    assert agent_rows[0]["author"]["name"] == "Sam"
    assert history[-1]["role"] == "user" and history[-1]["content"] == "Thanks Sam!"
    thread = (await sam.call("GET", f"/staff/conversations/{session.id}")).json()["thread"]
    assert any(e["kind"] == "note" and e["private"] for e in thread)


async def test_return_to_bot_and_the_assistant_answers_again(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    session, _ = await escalated_session(staff_server)
    await admin.call("POST", f"/staff/conversations/{session.id}/messages",
                     json={"content": "Your refund was issued today."})
    back = await admin.call("POST", f"/staff/conversations/{session.id}/return-to-bot")
    assert back.status_code == 200 and back.json()["state"] == "bot"
    answer = await session.rest("POST", "/messages", json={"message": "How do I reset my password?"})
    body = answer.json()
    assert body["handled_by"] == "bot" and body["message_id"] and body["sources"]
    activities = (await admin.call("GET", f"/staff/conversations/{session.id}")).json()["activities"]
    assert [(a["from_state"], a["to_state"]) for a in activities] == [
        ("bot", "waiting"), ("waiting", "assigned"), ("assigned", "bot")]


async def test_resolve_then_rate_once(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    session, _ = await escalated_session(staff_server)
    early = await session.rest("POST", "/rating", json={"score": 5})
    assert early.status_code == 409 and early.json()["code"] == "nothing_to_rate"
    await admin.call("POST", f"/staff/conversations/{session.id}/assign")
    resolved = await admin.call("POST", f"/staff/conversations/{session.id}/resolve")
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    bad = await session.rest("POST", "/rating", json={"score": 6})
    assert bad.status_code == 422
    rated = await session.rest("POST", "/rating", json={"score": 4, "comment": "Quick and kind"})
    assert rated.status_code == 201 and rated.json()["score"] == 4
    again = await session.rest("POST", "/rating", json={"score": 1})
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    detail = (await admin.call("GET", f"/staff/conversations/{session.id}")).json()
    assert detail["rating"] == {"score": 4, "comment": "Quick and kind"}
    # After a resolve, the customer's next message goes to the assistant.
    answer = await session.rest("POST", "/messages", json={"message": "How do I reset my password?"})
    assert answer.json()["handled_by"] == "bot"


async def test_the_customer_can_go_back_to_the_assistant(staff_server: LiveServer) -> None:
    session, _ = await escalated_session(staff_server)
    back = await session.rest("POST", "/return-to-bot")
    assert back.status_code == 200 and back.json()["state"] == "bot"
    again = await session.rest("POST", "/return-to-bot")
    assert again.status_code == 409 and "bot" in str(again.json()["detail"])


async def test_bad_staff_requests(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    ann, _ = await new_agent(admin, "Ann")
    bob, _ = await new_agent(admin, "Bob")
    session, _ = await escalated_session(staff_server)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await ann.call("GET", f"/staff/conversations/{unknown}")).status_code == 404
    assert (await ann.call("POST", f"/staff/conversations/{unknown}/assign")).status_code == 404
    bot_session = await new_session(staff_server)
    wrong = await ann.call("POST", f"/staff/conversations/{bot_session.id}/resolve")
    assert wrong.status_code == 409 and "bot" in wrong.json()["detail"]
    assert (await ann.call("POST", f"/staff/conversations/{session.id}/assign")).status_code == 200
    # Bob may not act on Ann's conversation; an admin may.
    for path, body in (("/assign", None), ("/resolve", None), ("/return-to-bot", None),
                       ("/messages", {"content": "hi"})):
        response = await bob.call("POST", f"/staff/conversations/{session.id}{path}", json=body)
        assert response.status_code == 403, (path, response.text)
    assert (await bob.call("POST", f"/staff/conversations/{session.id}/assign",
                           json={"assignee_id": unknown})).status_code == 403
    for content in ("", "   ", "x" * 4001):
        response = await ann.call("POST", f"/staff/conversations/{session.id}/messages", json={"content": content})
        assert response.status_code == 422, content[:10]
    assert (await ann.call("POST", f"/staff/conversations/{session.id}/messages",
                           json={"content": "a\x00b"})).status_code == 422
    assert (await ann.call("GET", "/staff/conversations", params={"state": "nonsense"})).status_code == 422
    assert (await admin.call("POST", f"/staff/conversations/{session.id}/resolve")).status_code == 200


async def test_draft_and_canned_replies(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    session = await new_session(staff_server)
    await session.rest("POST", "/messages", json={"message": "How do I reset my password?"})
    await session.rest("POST", "/messages", json={"message": "Actually I want to talk to a human"})
    before = await session.history()
    draft = await admin.call("POST", f"/staff/conversations/{session.id}/draft")
    # The newest question asks for a person; the draft answers the newest one the help center covers.
    assert draft.status_code == 200 and draft.json()["grounded"] is True
    assert draft.json()["sources"] and "password" in draft.json()["content"].lower()
    # Nothing was stored or sent.
    assert await session.history() == before

    created = await admin.call("POST", "/staff/canned-replies", json={"short_code": "thanks",
                                                                     "content": "Thanks for your patience!"})
    assert created.status_code == 201
    assert (await admin.call("POST", "/staff/canned-replies", json={"short_code": "thanks",
                                                                    "content": "dup"})).status_code == 409
    sam, _ = await new_agent(admin, "Sammy")
    listed = (await sam.call("GET", "/staff/canned-replies")).json()["items"]
    assert any(r["short_code"] == "thanks" for r in listed)
    assert (await sam.call("DELETE", f"/staff/canned-replies/{created.json()['id']}")).status_code == 403
    edited = await admin.call("PATCH", f"/staff/canned-replies/{created.json()['id']}", json={"content": "Thank you!"})
    assert edited.status_code == 200 and edited.json()["content"] == "Thank you!"
    assert (await admin.call("DELETE", f"/staff/canned-replies/{created.json()['id']}")).status_code == 204


async def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    frames = await recv_until(ws, kind)
    return frames[-1]


__all__ = ["Session", "Staff"]


async def test_typing_both_ways_and_a_disabled_staff_socket_is_cut_off(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    tess, tess_id = await new_agent(admin, "Tess")
    session, _ = await escalated_session(staff_server)
    assert (await tess.call("POST", f"/staff/conversations/{session.id}/assign")).status_code == 200
    async with open_socket(staff_server, session) as customer, \
            connect(f"ws://127.0.0.1:{staff_server.port}/staff/ws") as staff_ws:
        await staff_ws.send(json.dumps({"type": "auth", "token": tess.token}))
        assert (await recv(staff_ws))["type"] == "connected"
        await staff_ws.send(json.dumps({"type": "typing", "session_id": session.id, "typing": True}))
        typing = await _next(customer, "agent_typing")
        assert typing["author"] == {"name": "Tess"} and typing["typing"] is True
        await customer.send(json.dumps({"type": "typing"}))
        heard = await staff_socket_frames(staff_ws, "typing", session.id)
        if heard["who"] == "agent":  # our own typing, echoed to every staff socket first
            heard = await staff_socket_frames(staff_ws, "typing", session.id)
        assert heard["who"] == "customer"
        # Disabled while connected: the next frame from that socket closes it with 4401.
        assert (await admin.call("PATCH", f"/staff/users/{tess_id}", json={"active": False})).status_code == 200
        await staff_ws.send(json.dumps({"type": "ping"}))
        try:
            while True:
                await recv(staff_ws, 10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
    async with connect(f"ws://127.0.0.1:{staff_server.port}/staff/ws?token=not-a-token") as refused:
        frame = await recv(refused)
        assert frame["code"] == "invalid_staff_token"
        with pytest.raises(ConnectionClosed):
            await recv(refused, 10)
