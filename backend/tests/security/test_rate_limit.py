"""Rate limits on the real app: per client address, per session (id + token), shared across instances."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client import REGISTRY

from app.main import create_app
from tests.conftest import free_port, make_settings
from tests.realtime.conftest import LiveServer
from tests.session.conftest import TEST_REDIS_URL, reachable_redis


@asynccontextmanager
async def limited_app(data_dir: Path, **overrides: Any) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(data_dir, **{"rate_limits_enabled": True, **overrides}))
    async with LifespanManager(app, startup_timeout=120) as manager:
        yield manager.app  # type: ignore[misc]


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests arrive from `address`, as `request.client.host` shows it."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60)


def rejections(route: str, kind: str) -> float:
    return REGISTRY.get_sample_value("rate_limit_rejections_total", {"route": route, "kind": kind}) or 0.0


async def test_sixth_session_in_a_minute_is_refused_with_retry_after(data_dir: Path) -> None:
    before = rejections("/chat/sessions", "session_create")
    async with limited_app(data_dir) as app, client_from(app, "10.1.0.1") as one, \
            client_from(app, "10.1.0.2") as other:
        for _ in range(5):
            assert (await one.post("/chat/sessions", json={})).status_code == 201
        refused = await one.post("/chat/sessions", json={})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        body = refused.json()
        assert body["code"] == "rate_limited" and body["request_id"] == refused.headers["x-request-id"]
        # Another customer is not affected by the first one's flood.
        assert (await other.post("/chat/sessions", json={})).status_code == 201
    assert rejections("/chat/sessions", "session_create") == before + 1


async def test_messages_are_limited_per_session_without_the_token_spending_it(data_dir: Path) -> None:
    async with limited_app(data_dir, rate_limit_messages="3/minute") as app, \
            client_from(app, "10.2.0.1") as owner, client_from(app, "10.2.0.2") as stranger, \
            client_from(app, "10.2.0.3") as second_device:
        created = (await owner.post("/chat/sessions", json={})).json()
        url = f"/chat/sessions/{created['session_id']}/messages"
        auth = {"Authorization": f"Bearer {created['session_token']}"}
        # A stranger who knows the id but not the token is refused (401) and spends only their own budget.
        for _ in range(4):
            assert (await stranger.post(url, json={"message": "hi"}, headers={"Authorization": "Bearer x"})
                    ).status_code in (401, 429)
        for _ in range(2):
            assert (await owner.post(url, json={"message": "How do I reset my password?"}, headers=auth)
                    ).status_code == 200
        assert (await second_device.post(url, json={"message": "And returns?"}, headers=auth)).status_code == 200
        # Three messages on the session from two addresses: the session's allowance is used up.
        refused = await second_device.post(url, json={"message": "again"}, headers=auth)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


async def test_health_checks_are_limited_and_disabled_limits_let_everything_through(data_dir: Path) -> None:
    async with limited_app(data_dir, rate_limit_health="60/minute") as app, client_from(app, "10.3.0.1") as c:
        statuses = [(await c.get("/health/liveness")).status_code for _ in range(61)]
        assert statuses[:60] == [200] * 60 and statuses[60] == 429
        assert (await c.get("/metrics")).status_code == 200  # scrapes are not limited
    async with limited_app(data_dir, rate_limits_enabled=False) as app, client_from(app, "10.3.0.1") as c:
        assert [(await c.post("/chat/sessions", json={})).status_code for _ in range(8)] == [201] * 8


async def test_two_instances_share_one_count_in_redis(data_dir: Path) -> None:
    redis = await reachable_redis()
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    try:
        async with AsyncExitStack() as stack:
            apps = [await stack.enter_async_context(limited_app(
                data_dir, redis_url=TEST_REDIS_URL, redis_key_prefix=prefix, rag_cache="memory",
                realtime_bus="memory")) for _ in range(2)]
            a = await stack.enter_async_context(client_from(apps[0], "10.4.0.1"))
            b = await stack.enter_async_context(client_from(apps[1], "10.4.0.1"))
            statuses = [(await (a if i % 2 else b).post("/chat/sessions", json={})).status_code for i in range(6)]
            assert statuses == [201] * 5 + [429]
            assert (await a.post("/chat/sessions", json={})).status_code == 429
            assert [key async for key in redis.scan_iter(match=f"{prefix}ratelimit*")]
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_unreachable_redis_lets_requests_through(data_dir: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with limited_app(data_dir, redis_url=dead, rate_limit_storage="redis", rag_cache="memory",
                           realtime_bus="memory", redis_socket_timeout_seconds=0.2) as app, \
            client_from(app, "10.5.0.1") as c:
        assert [(await c.post("/chat/sessions", json={})).status_code for _ in range(7)] == [201] * 7


def test_bad_limit_setting_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_settings(tmp_path, rate_limit_messages="30/minit")


async def test_websocket_handshakes_are_limited(data_dir: Path) -> None:
    with LiveServer(data_dir, rate_limits_enabled=True, rate_limit_ws_connect="2/minute") as live:
        for _ in range(2):
            async with websockets.connect(f"{live.ws}?session_id={uuid.uuid4()}"):
                pass
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"{live.ws}?session_id={uuid.uuid4()}"):
                pass
        assert refused.value.response.status_code == 429
        assert refused.value.response.headers["Retry-After"]


async def test_websocket_messages_spend_the_same_allowance_as_rest(data_dir: Path) -> None:
    """RATE_LIMIT_MESSAGES counts a session's messages whichever transport carries them; over it, a
    socket gets an error frame for that message (nothing stored) and stays open."""
    from tests.realtime.conftest import new_session, open_socket, recv, recv_until

    with LiveServer(data_dir, rate_limits_enabled=True, rate_limit_messages="3/minute") as live:
        before = rejections("/ws", "messages")
        session = await new_session(live)
        async with open_socket(live, session) as ws:
            for n in range(2):
                await ws.send(json.dumps({"type": "message", "content": "How do I reset my password?",
                                          "client_id": f"ws-{n}"}))
                await recv_until(ws, "complete")
            assert (await session.rest("POST", "/messages", json={"message": "And my plan?"})).status_code == 200
            await recv_until(ws, "complete")  # the REST turn's frames reach the socket too
            await ws.send(json.dumps({"type": "message", "content": "One more?", "client_id": "ws-over"}))
            refused = await recv(ws)
            assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
            assert refused["client_id"] == "ws-over" and "retry in" in refused["detail"]
            await ws.send(json.dumps({"type": "ping"}))
            assert await recv(ws) == {"type": "pong"}  # the socket stays open
            # Two of the three came over the socket: REST is over the limit as well.
            over = await session.rest("POST", "/messages", json={"message": "And now?"})
            assert over.status_code == 429 and over.json()["code"] == "rate_limited"
        assert [m.get("client_id") for m in await session.history() if m["role"] == "user"] == ["ws-0", "ws-1", None]
        assert rejections("/ws", "messages") == before + 1
