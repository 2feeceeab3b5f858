"""Customer on instance A, staff on instance B (shared PostgreSQL and Redis): the handoff still reaches both."""

from __future__ import annotations

import json
from pathlib import Path

from websockets.asyncio.client import connect

from tests.realtime.conftest import recv, recv_until
from tests.session.test_two_instances import cluster
from tests.staff.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


async def test_staff_on_b_reaches_the_customer_socket_on_a(tmp_path: Path) -> None:
    async with cluster(tmp_path, FIRST_SUPERUSER=ADMIN_EMAIL, FIRST_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
                       SECRET_KEY="two-instances-secret-key-0123456789abcdef") as (a, b, client):
        created = (await client.post(f"{a.url}/chat/sessions", json={})).json()
        sid, token = created["session_id"], created["session_token"]
        customer = {"Authorization": f"Bearer {token}"}
        login = await client.post(f"{b.url}/auth/login", json={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}

        async with connect(f"ws://127.0.0.1:{a.port}/ws?session_id={sid}&token={token}") as on_a, \
                connect(f"ws://127.0.0.1:{b.port}/staff/ws?token={login.json()['access_token']}") as staff_b:
            assert (await recv(on_a))["type"] == "connected" and (await recv(staff_b))["type"] == "connected"
            # The customer asks for a person on A; the staff socket on B hears of it.
            escalated = await client.post(f"{a.url}/chat/sessions/{sid}/messages",
                                          json={"message": "Please let me speak to a human"}, headers=customer)
            assert escalated.json()["requires_escalation"] is True
            created_event = await _event(staff_b, "handoff.created", sid)
            assert created_event["reason"] == "customer_request"

            # Staff on B takes it and replies; the customer's socket on A gets both.
            assert (await client.post(f"{b.url}/staff/conversations/{sid}/assign", headers=staff)).status_code == 200
            sent = await client.post(f"{b.url}/staff/conversations/{sid}/messages", headers=staff,
                                     json={"content": "Hello from B, I'm on it."})
            assert sent.status_code == 201
            frames = await recv_until(on_a, "agent_message")
            assert frames[-1]["content"] == "Hello from B, I'm on it." and frames[-1]["author"]["name"]
            assert any(f["type"] == "handoff" and f["state"] == "assigned" for f in frames)

            # The customer answers on A's socket: no bot turn, and B's staff socket hears the message.
            await on_a.send(json.dumps({"type": "message", "content": "Thank you!", "client_id": "x-1"}))
            forwarded = await _event(staff_b, "message.created", sid)
            while forwarded["message"]["role"] != "user":
                forwarded = await _event(staff_b, "message.created", sid)
            assert forwarded["message"]["content"] == "Thank you!"

            # Back to the bot from B: the customer's next question on A is answered by the assistant.
            assert (await client.post(f"{b.url}/staff/conversations/{sid}/return-to-bot",
                                      headers=staff)).status_code == 200
            answer = await client.post(f"{a.url}/chat/sessions/{sid}/messages",
                                       json={"message": "How do I reset my password?"}, headers=customer)
            assert answer.json()["handled_by"] == "bot" and answer.json()["sources"]


async def _event(ws, kind: str, session_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    while True:
        frame = await recv(ws)
        if frame["type"] == kind and frame.get("session_id") == session_id:
            return frame  # type: ignore[no-any-return]
