"""A resend (same client_id) of a question the agent failed to answer runs the turn it missed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from tests.realtime.conftest import LiveServer, Session, open_socket, recv, recv_until

QUESTION = "How do I reset my password?"


@contextlib.contextmanager
def agent_fails_once(live: LiveServer) -> Iterator[None]:
    """The next agent turn raises (a model outage); later turns run the real agent."""
    agent = live.services.chat.agent
    original = agent.stream
    failed = False

    async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        nonlocal failed
        if not failed:
            failed = True
            raise RuntimeError("model down")
        async for event in original(*args, **kwargs):
            yield event

    agent.stream = stream  # type: ignore[method-assign]
    try:
        yield
    finally:
        agent.stream = original  # type: ignore[method-assign]


async def test_a_resend_after_agent_unavailable_gets_its_answer(server: LiveServer, session: Session) -> None:
    frame = json.dumps({"type": "message", "content": QUESTION, "client_id": "retry-me"})
    with agent_fails_once(server):
        async with open_socket(server, session) as ws:
            await ws.send(frame)
            failed = await recv_until(ws, "error")
            assert failed[-1]["code"] == "agent_unavailable" and failed[0]["type"] == "ack"
            question_id = failed[0]["message_id"]
            assert failed[-1]["reply_to"] == question_id

            await ws.send(frame)  # the customer retries: same client_id, the question is stored once
            frames = await recv_until(ws, "complete")

    kinds = [f["type"] for f in frames]
    assert kinds[:2] == ["ack", "start"], kinds
    assert frames[0]["duplicate"] is True and frames[0]["message_id"] == question_id
    assert frames[1]["reply_to"] == question_id == frames[-1]["reply_to"]
    assert "password" in frames[-1]["content"].lower()
    history = await session.history()
    assert [(m["id"], m["role"]) for m in history] == [(question_id, "user"), (frames[-1]["message_id"], "assistant")]

    # Once answered, a resend replays the stored reply and runs no turn (unchanged behaviour).
    async with open_socket(server, session) as ws:
        await ws.send(frame)
        ack, complete = await recv(ws), await recv(ws)
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv(ws) == {"type": "pong"}
    assert ack["duplicate"] is True and complete["type"] == "complete"
    assert complete["message_id"] == frames[-1]["message_id"] and complete["content"] == frames[-1]["content"]
    assert len(await session.history()) == 2


async def test_a_resend_after_the_conversation_moved_on_runs_no_turn(server: LiveServer, session: Session) -> None:
    """An answer to an old question would land after newer ones, out of order: the resend is acked and
    the customer is told it will not be answered (like REST's 409), instead of waiting for nothing."""
    frame = json.dumps({"type": "message", "content": QUESTION, "client_id": "old"})
    with agent_fails_once(server):
        async with open_socket(server, session) as ws:
            await ws.send(frame)
            assert (await recv_until(ws, "error"))[-1]["code"] == "agent_unavailable"
    async with open_socket(server, session) as ws:
        await ws.send(json.dumps({"type": "message", "content": "How do I change my plan?", "client_id": "new"}))
        await recv_until(ws, "complete")
        await ws.send(frame)
        ack, refused = await recv(ws), await recv(ws)
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv(ws) == {"type": "pong"}
    assert ack["type"] == "ack" and ack["duplicate"] is True
    assert refused["type"] == "error" and refused["code"] == "message_superseded"
    assert refused["client_id"] == "old" and refused["reply_to"] == ack["message_id"]
    assert [m["role"] for m in await session.history()] == ["user", "user", "assistant"]
