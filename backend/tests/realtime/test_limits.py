"""Bad input and limits over a real socket: every error frame and close code of the protocol."""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.conftest import LiveServer, new_session, open_socket, recv, recv_until, ws_url

TIGHT = {"ws_max_frame_bytes": 8192, "ws_send_queue_size": 8, "ws_heartbeat_seconds": 0.2,
         "ws_idle_timeout_seconds": 1.0, "ws_auth_timeout_seconds": 0.5, "ws_rate_limit_per_second": 1.0,
         "ws_rate_limit_burst": 30, "max_message_chars": 6000,
         # The padded questions go unanswered; without the escalation tool the conversation stays with the
         # assistant (two misses would otherwise hand it to a person, and the assistant would go quiet).
         "enabled_tools": ["rag_search", "memory", "attachment"]}
PADDING = " I have read the help pages already, please explain it step by step." * 70  # bigger frames
QUESTIONS = ["How do I reset my password?", "How do I change my plan?", "What is your refund policy?"]


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory, seeded_chroma: Path) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("tight")
    shutil.copytree(seeded_chroma, data / "chroma")
    with LiveServer(data, send_buffer=4096, **TIGHT) as live:
        yield live


async def close_code(url: str, *frames: str | bytes) -> int:
    """Connect, send `frames`, and return the close code the server ends with."""
    async with connect(url) as ws:
        for frame in frames:
            await ws.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await recv(ws, limit=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_who_may_connect(tight: LiveServer) -> None:
    session = await new_session(tight)
    assert await close_code(ws_url(tight, session, "wrong-token")) == 4401
    assert await close_code(ws_url(tight, session)) == 4401  # no token and no auth frame in time
    assert await close_code(ws_url(tight, session), json.dumps({"type": "ping"})) == 4401
    assert await close_code(ws_url(tight, session), "not json") == 4401
    assert await close_code(ws_url(tight, str(uuid.uuid4()), session.token)) == 4404
    assert await close_code(ws_url(tight, "not-a-uuid", session.token)) == 4404
    assert await close_code(f"{tight.ws}?token={session.token}") == 4404

    # The auth frame works in place of the query parameter.
    async with connect(ws_url(tight, session)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": session.token}))
        assert (await recv(ws))["type"] == "connected"
        await ws.send(json.dumps({"type": "auth", "token": session.token}))  # only once
        assert (await recv(ws))["code"] == "unknown_frame_type"

    # Closed: refused at connect, and a socket open when the session closes gets 4409 on its next message.
    async with open_socket(tight, session) as ws:
        assert (await session.rest("DELETE")).status_code == 200
        await ws.send(json.dumps({"type": "message", "content": "hello?", "client_id": "late"}))
        error = await recv(ws)
        assert error["type"] == "error" and error["code"] == "session_closed" and error["client_id"] == "late"
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
    assert await close_code(ws_url(tight, session, session.token)) == 4409


async def test_bad_frames_get_an_error_and_the_socket_stays_open(tight: LiveServer) -> None:
    session = await new_session(tight)
    bad = [("not json", "malformed_json"), ("[1, 2]", "malformed_json"), (b"\x00\x01", "malformed_json"),
           ('{"type": "shout"}', "unknown_frame_type"), ('{"content": "no type"}', "unknown_frame_type"),
           ('{"type": "message", "content": 42}', "invalid_frame"),
           ('{"type": "message", "content": "hi", "client_id": "has space"}', "invalid_frame"),
           ('{"type": "message", "content": "   "}', "message_empty"),
           (json.dumps({"type": "message", "content": "x" * 6001}), "message_too_long")]
    async with open_socket(tight, session) as ws:
        for frame, code in bad:
            await ws.send(frame)
            error = await recv(ws)
            assert (error["type"], error["code"]) == ("error", code), frame
            await ws.send(json.dumps({"type": "ping"}))  # still open and answering
            assert await recv(ws) == {"type": "pong"}
    assert await session.history() == []  # nothing stored for any of them


async def test_oversized_frame_closes_1009(tight: LiveServer) -> None:
    session = await new_session(tight)
    frame = json.dumps({"type": "message", "content": "é" * 4100})  # under 8192 characters, over 8192 bytes
    assert await close_code(ws_url(tight, session, session.token), frame) == 1009
    assert await session.history() == []


async def test_rate_limit_then_close(tight: LiveServer) -> None:
    session = await new_session(tight)
    async with open_socket(tight, session) as ws:
        for _ in range(30):  # the burst
            await ws.send(json.dumps({"type": "ping"}))
            assert await recv(ws) == {"type": "pong"}
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws))["code"] == "rate_limited"
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(40):  # ignoring the error frames: closed after more than a burst of them
                await ws.send(json.dumps({"type": "ping"}))
            while True:
                await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429


async def test_heartbeats_then_idle_timeout(tight: LiveServer) -> None:
    session = await new_session(tight)
    async with connect(ws_url(tight, session, session.token)) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        assert json.loads(await ws.recv()) == {"type": "heartbeat"}
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()  # heartbeats keep coming, but the client says nothing
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_attachments_uploaded_for_a_message(tight: LiveServer) -> None:
    session = await new_session(tight)
    files = {"attachments": ("order.txt", b"Order 1234: two tents, shipped Monday.", "text/plain")}
    uploaded = await session.rest("POST", "/attachments", files=files)
    assert uploaded.status_code == 201, uploaded.text
    [info] = uploaded.json()["attachments"]
    assert info["filename"] == "order.txt" and info["size_bytes"] == 38

    refused = await session.rest("POST", "/attachments", files={"attachments": ("x.exe", b"MZ", "x/y")})
    assert refused.status_code == 415 and refused.json()["code"] == "attachment_type_not_allowed"
    empty = await session.rest("POST", "/attachments", files={"attachments": ("e.txt", b"", "text/plain")})
    assert empty.status_code == 422 and empty.json()["code"] == "attachment_empty"
    assert (await session.rest("POST", "/attachments", json={"a": 1})).status_code == 415

    async with open_socket(tight, session) as ws:
        await ws.send(json.dumps({"type": "message", "content": "What is in my file?", "attachment_ids": [info["id"]]}))
        frames = await recv_until(ws, "complete")
        assert frames[0]["type"] == "ack" and frames[0]["attachments"] == [info]
        assert "1234" in frames[-1]["content"]
        # An id is used once; an unknown one is refused; nothing is stored either time.
        for ids in ([info["id"]], [str(uuid.uuid4())]):
            await ws.send(json.dumps({"type": "message", "content": "again", "attachment_ids": ids}))
            assert (await recv(ws))["code"] == "attachment_not_found"
    history = await session.history()
    assert len(history) == 2 and history[0]["attachments"] == [info]


@pytest.fixture(scope="module")
def tight_patient(tmp_path_factory: pytest.TempPathFactory, seeded_chroma: Path) -> Iterator[LiveServer]:
    """TIGHT, but a client may stay quiet while a turn runs: on a loaded machine a padded REST turn can
    take longer than TIGHT's one-second idle timeout, which would close the sockets as idle (4408)."""
    data = tmp_path_factory.mktemp("tight-patient")
    shutil.copytree(seeded_chroma, data / "chroma")
    with LiveServer(data, send_buffer=4096, **{**TIGHT, "ws_idle_timeout_seconds": 60.0}) as live:
        yield live


async def test_a_slow_reader_is_disconnected(tight_patient: LiveServer) -> None:
    tight = tight_patient
    session = await new_session(tight)
    hub = tight.services.realtime
    assert hub is not None
    before = hub.closes[4413]
    # A client that reads nothing: a tiny receive buffer and no reading from the socket.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", tight.port))
    async with connect(ws_url(tight, session, session.token), sock=sock, max_queue=1) as ws:
        async with open_socket(tight, session) as healthy:
            for i in range(100):
                for sender in (ws, healthy):  # both write (so neither is idle); one never reads
                    await sender.send(json.dumps({"type": "ping"}))
                response = await session.rest("POST", "/messages", data={"message": QUESTIONS[i % 3] + PADDING})
                assert response.status_code == 200
                await recv_until(healthy, "complete")  # a reader that keeps up is unaffected
                if hub.closes[4413] > before:
                    break
            assert hub.closes[4413] == before + 1
        with pytest.raises(ConnectionClosed):
            while True:
                await ws.recv()
