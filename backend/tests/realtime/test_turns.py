"""Turns over a real socket: streaming order, resume, idempotent resend, several sockets, REST turns."""

from __future__ import annotations

import json
import uuid

from tests.realtime.conftest import LiveServer, Session, new_session, open_socket, recv, recv_until

QUESTION = "How do I reset my password?"


async def test_a_turn_streams_ack_start_deltas_complete(server: LiveServer, session: Session) -> None:
    async with open_socket(server, session) as ws:
        await ws.send(json.dumps({"type": "message", "content": f"  {QUESTION} ", "client_id": "c-1"}))
        frames = await recv_until(ws, "complete")

    kinds = [f["type"] for f in frames]
    assert kinds[0] == "ack" and kinds[1] == "start" and kinds[-1] == "complete", kinds
    assert set(kinds[2:-1]) <= {"tool", "sources", "text", "escalation"}, kinds
    ack, start, complete = frames[0], frames[1], frames[-1]
    assert ack["client_id"] == "c-1" and ack["content"] == QUESTION and ack["duplicate"] is False
    assert start["reply_to"] == ack["message_id"] == complete["reply_to"]
    assert {f["message_id"] for f in frames[1:]} == {start["message_id"]}
    deltas = [f["delta"] for f in frames if f["type"] == "text"]
    # The answer streams block by block as it is composed, not as one frame at the end.
    assert len(deltas) >= 3 and "".join(deltas).strip() == complete["content"]
    assert "password" in complete["content"].lower()
    # The sources frame arrives before the text that cites them, and the reply keeps them.
    assert kinds.index("sources") < kinds.index("text")
    assert complete["sources"] and complete["sources"][0]["metadata"]["source"]
    assert complete["grounded"] is True

    history = await session.history()
    assert [(m["id"], m["role"]) for m in history] == [(ack["message_id"], "user"),
                                                      (complete["message_id"], "assistant")]
    assert history[1]["content"] == complete["content"]


async def test_ping_typing_and_connected_fields(server: LiveServer, session: Session) -> None:
    async with open_socket(server, session) as ws:
        await ws.send(json.dumps({"type": "typing"}))
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv(ws) == {"type": "pong"}  # typing gets no reply
    settings = server.services.settings
    async with open_socket(server, session) as ws:
        pass
    from websockets.asyncio.client import connect

    from tests.realtime.conftest import ws_url
    async with connect(ws_url(server, session, session.token)) as ws:
        connected = await recv(ws)
    assert connected == {"type": "connected", "session_id": session.id, "connection_id": connected["connection_id"],
                         "last_message_id": None, "heartbeat_seconds": settings.ws_heartbeat_seconds,
                         "idle_timeout_seconds": settings.ws_idle_timeout_seconds,
                         "max_frame_bytes": settings.ws_max_frame_bytes}


async def test_resume_after_a_dropped_connection_replays_from_sql(server: LiveServer, session: Session) -> None:
    async with open_socket(server, session) as ws:
        await ws.send(json.dumps({"type": "message", "content": QUESTION, "client_id": "first"}))
        seen = (await recv_until(ws, "complete"))[-1]["message_id"]
        # Drop the socket right after the next question is stored; the turn goes on without it.
        await ws.send(json.dumps({"type": "message", "content": "How do I change my plan?", "client_id": "second"}))
        ack = await recv(ws)
        assert ack["type"] == "ack"
    # While away, a REST message is answered too.
    assert (await session.rest("POST", "/messages", data={"message": "Thanks!"})).status_code == 200

    async with open_socket(server, session, last_message_id=seen) as ws:
        replay = await recv(ws)
        assert replay["type"] == "replay" and replay["has_more"] is False
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv(ws) == {"type": "pong"}  # nothing else was queued: no duplicate live frames

    history = await session.history()
    assert [m["id"] for m in replay["messages"]] == [m["id"] for m in history[2:]]
    assert [m["role"] for m in replay["messages"]] == ["user", "assistant", "user", "assistant"]
    assert replay["messages"][0]["id"] == ack["message_id"] and replay["messages"][0]["client_id"] == "second"
    assert replay["messages"][2]["content"] == "Thanks!" and replay["messages"][2]["client_id"] is None


async def test_resume_with_an_unknown_message_id_says_so(server: LiveServer, session: Session) -> None:
    async with open_socket(server, session, last_message_id=str(uuid.uuid4())) as ws:
        error = await recv(ws)
    assert error["type"] == "error" and error["code"] == "unknown_message_id"


async def test_a_resent_client_id_is_stored_once(server: LiveServer, session: Session) -> None:
    frame = json.dumps({"type": "message", "content": QUESTION, "client_id": "same-id"})
    async with open_socket(server, session) as ws:
        await ws.send(frame)
        first = await recv_until(ws, "complete")
    async with open_socket(server, session) as ws:  # a reconnect, resending what it was not sure about
        await ws.send(frame)
        ack, complete = await recv(ws), await recv(ws)
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv(ws) == {"type": "pong"}  # no turn ran: no start, no deltas
    assert ack["type"] == "ack" and ack["duplicate"] is True and ack["message_id"] == first[0]["message_id"]
    assert complete["type"] == "complete" and complete["message_id"] == first[-1]["message_id"]
    assert complete["content"] == first[-1]["content"] and complete["sources"] == first[-1]["sources"]
    assert complete["grounded"] is first[-1]["grounded"] is True  # the resend reads it from the stored row
    assert len(await session.history()) == 2


async def test_every_socket_of_a_session_gets_every_turn(server: LiveServer, session: Session) -> None:
    other = await new_session(server)
    async with open_socket(server, session) as one, open_socket(server, session) as two, \
            open_socket(server, other) as elsewhere:
        await one.send(json.dumps({"type": "message", "content": QUESTION, "client_id": "tab-1"}))
        on_one, on_two = await recv_until(one, "complete"), await recv_until(two, "complete")
        assert on_one == on_two and on_two[0]["client_id"] == "tab-1"

        # A REST message on the session streams to both sockets as well.
        response = await session.rest("POST", "/messages", data={"message": "How do I change my plan?"})
        assert response.status_code == 200
        for ws in (one, two):
            frames = await recv_until(ws, "complete")
            assert frames[0]["type"] == "ack" and frames[0]["message_id"] == response.json()["user_message_id"]
            assert frames[-1]["message_id"] == response.json()["message_id"]
            assert frames[-1]["content"] == response.json()["message"]
        # The socket of another session got nothing.
        await elsewhere.send(json.dumps({"type": "ping"}))
        assert await recv(elsewhere) == {"type": "pong"}


async def test_a_reconnect_replays_a_missed_handover_with_its_escalation(server: LiveServer, session: Session) -> None:
    async with open_socket(server, session) as ws:
        await ws.send(json.dumps({"type": "message", "content": QUESTION, "client_id": "before"}))
        seen = (await recv_until(ws, "complete"))[-1]["message_id"]
    # Offline meanwhile: the customer asks for a person over REST (another tab) and is handed over.
    handover = await session.rest("POST", "/messages", json={"message": "I want to talk to a human agent please"})
    assert handover.status_code == 200, handover.text
    escalation = handover.json()["escalation"]
    assert escalation is not None and escalation["ticket_id"] and escalation["reason"]

    async with open_socket(server, session, last_message_id=seen) as ws:
        replay = await recv(ws)
    assert replay["type"] == "replay"
    # The question, the reply that handed over, and the stored notice of the customer's place in line.
    user, reply, notice = replay["messages"]
    assert notice["role"] == "system" and "in line" in notice["content"]
    assert user["role"] == "user" and user["escalation"] is None
    assert reply["id"] == handover.json()["message_id"] and reply["escalation"] == escalation
    # One converter: the replayed messages are exactly what REST history says about them.
    assert replay["messages"] == (await session.history())[2:]
