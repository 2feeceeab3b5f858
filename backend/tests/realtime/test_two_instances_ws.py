"""Two `python -m app` processes share Redis and PostgreSQL: a reply produced on B streams to a socket on A."""

from __future__ import annotations

import json

import httpx
from websockets.asyncio.client import connect

from tests.realtime.conftest import recv, recv_until
from tests.session.test_two_instances import Instance, two_instances

__all__ = ["two_instances"]  # the fixture, shared with the sessions tests


async def test_a_rest_reply_on_b_reaches_a_socket_on_a(two_instances: tuple[Instance, Instance,
                                                                            httpx.AsyncClient]) -> None:
    a, b, client = two_instances
    created = await client.post(f"{a.url}/chat/sessions", json={"user_id": "across"})
    session_id, token = created.json()["session_id"], created.json()["session_token"]
    headers = {"Authorization": f"Bearer {token}"}

    async with connect(f"ws://127.0.0.1:{a.port}/ws?session_id={session_id}&token={token}") as on_a, \
            connect(f"ws://127.0.0.1:{b.port}/ws?session_id={session_id}&token={token}") as on_b:
        assert (await recv(on_a))["type"] == "connected" and (await recv(on_b))["type"] == "connected"

        # A REST message to B: its frames reach the socket on A, in order, same as on B.
        response = await client.post(f"{b.url}/chat/sessions/{session_id}/messages",
                                     data={"message": "How do I reset my password?"}, headers=headers)
        assert response.status_code == 200, response.text
        frames_a = await recv_until(on_a, "complete")
        assert frames_a == await recv_until(on_b, "complete")
        kinds = [f["type"] for f in frames_a]
        assert kinds[:2] == ["ack", "start"] and "text" in kinds and kinds[-1] == "complete"
        assert frames_a[0]["message_id"] == response.json()["user_message_id"]
        assert frames_a[-1]["message_id"] == response.json()["message_id"]
        assert "".join(f["delta"] for f in frames_a if f["type"] == "text").strip() == response.json()["message"]

        # And the other way: a socket message on A streams to the socket on B.
        await on_a.send(json.dumps({"type": "message", "content": "How do I change my plan?", "client_id": "a-1"}))
        frames_b = await recv_until(on_b, "complete")
        assert frames_b[0]["client_id"] == "a-1" and frames_b == await recv_until(on_a, "complete")

    # Resume on B from SQL, after a reply produced on A.
    async with connect(f"ws://127.0.0.1:{b.port}/ws?session_id={session_id}&token={token}"
                       f"&last_message_id={frames_a[-1]['message_id']}") as again:
        assert (await recv(again))["type"] == "connected"
        replay = await recv(again)
    assert [m["id"] for m in replay["messages"]] == [frames_b[0]["message_id"], frames_b[-1]["message_id"]]
