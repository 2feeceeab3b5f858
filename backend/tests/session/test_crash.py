"""`kill -9` of one of two instances mid-answer: no acknowledged message is lost, every question is answered.

Two real `python -m app` processes share PostgreSQL and Redis and talk to a real OpenAI-compatible HTTP
model (tests/agents/openai_server.py). The model is held while customers' questions are in flight on
instance A, over REST and over WebSocket; A is killed with SIGKILL while every one of those turns waits
for the model. Then:
- every message the server acknowledged (a REST 200, a WebSocket `ack` frame) is in the database;
- each customer retries on instance B as the protocol says (REST: the same `client_id`; WebSocket:
  reconnect with `last_message_id`, resend the same `client_id`), and every question gets its answer,
  with no user message stored twice.
No step waits a fixed time: each waits for its condition, with deadlines generous for a loaded machine.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.agents.openai_server import FakeOpenAI
from tests.session.test_two_instances import Instance, assert_pairs_alternate, cluster, history

CUSTOMERS = 3  # per transport
DEADLINE = 180.0  # seconds for any one condition; generous for a busy 2-core machine


class HeldModel(FakeOpenAI):
    """While `gate` is clear, every chat-completions request waits for it; the questions waiting are noted."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting: set[str] = set()

    async def _completions(self, request: Request) -> Response:
        body = json.loads(await request.body())  # read now: the caller may be dead when the gate opens
        if not self.gate.is_set():
            users = [m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user"]
            self.waiting.add(users[-1] if users else "")
            await self.gate.wait()
        return await super()._completions(request)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)  # the conditions are other processes' progress: nothing to await on


class Customer:
    def __init__(self, n: int, transport: str, body: dict[str, Any]) -> None:
        self.name = f"{transport}{n}"
        self.session_id: str = body["session_id"]
        self.token: str = body["session_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.path = f"/chat/sessions/{self.session_id}"
        self.acked: set[str] = set()  # ids of every message the server acknowledged to this customer

    def question(self, k: int) -> str:
        return f"Customer {self.name} asks, question {k}: how do I change my plan?"

    async def post(self, client: httpx.AsyncClient, base: str, k: int) -> httpx.Response:
        return await client.post(f"{base}{self.path}/messages", headers=self.headers,
                                 json={"message": self.question(k), "client_id": f"{self.name}-{k}"})

    def ws_url(self, instance: Instance, last_message_id: str | None = None) -> str:
        url = f"ws://127.0.0.1:{instance.port}/ws?session_id={self.session_id}&token={self.token}"
        return url + (f"&last_message_id={last_message_id}" if last_message_id else "")

    async def send_frame(self, ws: ClientConnection, k: int) -> None:
        await ws.send(json.dumps({"type": "message", "content": self.question(k), "client_id": f"{self.name}-{k}"}))


async def recv_until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
        if frame["type"] == "heartbeat":
            continue
        assert frame["type"] != "error", frame
        frames.append(frame)
        if frame["type"] == kind:
            return frames


async def stored_messages(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url, timeout=30)
    try:
        return list(await conn.fetch("SELECT id, session_id, seq, role, client_id FROM messages "
                                     "ORDER BY session_id, seq"))
    finally:
        await conn.close()


async def test_kill_9_mid_answer_loses_no_acknowledged_message(tmp_path: Path) -> None:
    async with HeldModel() as model, cluster(
            tmp_path, LLM_PROVIDER="openai", OPENAI_BASE_URL=model.url, OPENAI_API_KEY="test-key",
            LLM_STARTUP_CHECK="false", OPENAI_TIMEOUT_SECONDS="300", OPENAI_MAX_RETRIES="0",
            SESSION_LOCK_WAIT_SECONDS="120", PARSE_WORKER_PRESTART="false",
            HEALTH_PROBE_INTERVAL_SECONDS="0") as (a, b, client):
        async def customer(n: int, transport: str) -> Customer:
            created = await client.post(f"{a.url}/chat/sessions", json={"user_id": f"crash-{transport}{n}"})
            assert created.status_code == 201, created.text
            return Customer(n, transport, created.json())

        rest = [await customer(n, "rest") for n in range(CUSTOMERS)]
        sockets = [await customer(n, "ws") for n in range(CUSTOMERS)]

        # Before the crash: one answered question each, on A.
        for c in rest:
            answered = await c.post(client, a.url, 1)
            assert answered.status_code == 200, answered.text
            c.acked |= {answered.json()["user_message_id"], answered.json()["message_id"]}
        live: dict[str, ClientConnection] = {}
        for c in sockets:
            ws = await connect(c.ws_url(a))
            live[c.name] = ws
            assert (await recv_until(ws, "connected"))[-1]["type"] == "connected"
            await c.send_frame(ws, 1)
            turn = await recv_until(ws, "complete")
            c.acked |= {turn[0]["message_id"], turn[-1]["message_id"]}

        # The model stops answering; question 2 of every customer goes to A and waits for it.
        model.gate.clear()
        in_flight = [asyncio.create_task(c.post(client, a.url, 2)) for c in rest]
        ws_acks: dict[str, str] = {}
        for c in sockets:
            await c.send_frame(live[c.name], 2)
            ack = (await recv_until(live[c.name], "ack"))[-1]
            assert ack["client_id"] == f"{c.name}-2" and ack["duplicate"] is False
            ws_acks[c.name] = ack["message_id"]
            c.acked.add(ack["message_id"])
        everyone = rest + sockets
        await until(lambda: {c.question(2) for c in everyone} <= model.waiting,
                    "every second question to reach the model")

        a.kill()  # SIGKILL: no shutdown, no cleanup, the session locks A held are left to expire

        for outcome in await asyncio.gather(*in_flight, return_exceptions=True):
            assert isinstance(outcome, httpx.TransportError), outcome  # no REST answer came: none acknowledged
        for ws in live.values():
            with pytest.raises(ConnectionClosed):
                await recv_until(ws, "never")

        # Every acknowledged message is in the database.
        rows = await stored_messages(a.env["DATABASE_URL"])
        stored = {str(r["id"]) for r in rows}
        for c in everyone:
            assert c.acked <= stored, (c.name, c.acked - stored)

        # Recovery on B: the model answers again, each customer retries as the protocol says.
        model.gate.set()

        async def retry_rest(c: Customer) -> None:
            again = await c.post(client, b.url, 2)
            assert again.status_code == 200, again.text
            assert again.json()["message"] and again.json()["message_id"]
            c.acked |= {again.json()["user_message_id"], again.json()["message_id"]}

        async def retry_ws(c: Customer) -> None:
            async with connect(c.ws_url(b, last_message_id=ws_acks[c.name])) as ws:
                greeting = await recv_until(ws, "replay")
                assert greeting[0]["type"] == "connected" and greeting[-1]["messages"] == []
                await c.send_frame(ws, 2)
                turn = await recv_until(ws, "complete")
            assert turn[0]["type"] == "ack" and turn[0]["duplicate"] is True
            assert turn[0]["message_id"] == ws_acks[c.name] == turn[-1]["reply_to"]
            assert turn[-1]["content"]
            c.acked.add(turn[-1]["message_id"])

        await asyncio.gather(*(retry_rest(c) for c in rest), *(retry_ws(c) for c in sockets))

        # Every question answered once, right after it; no user message stored twice.
        for c in everyone:
            messages = await history(client, b.url, c.path, c.headers)
            assert_pairs_alternate(messages)
            assert [m["client_id"] for m in messages] == [f"{c.name}-1", None, f"{c.name}-2", None], c.name
            assert [m["content"] for m in messages[::2]] == [c.question(1), c.question(2)]
            assert all(m["content"] for m in messages[1::2])
            assert c.acked == {m["id"] for m in messages}, c.name
        rows = await stored_messages(a.env["DATABASE_URL"])
        assert len(rows) == 4 * len(everyone)
        assert len({(r["session_id"], r["client_id"]) for r in rows if r["role"] == "user"}) == 2 * len(everyone)
        assert {uuid.UUID(c.session_id) for c in everyone} == {r["session_id"] for r in rows}
