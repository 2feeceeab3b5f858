"""A real uvicorn server (in a thread, on a free port) and a real WebSocket client for the /ws tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from app.main import create_app
from app.state import Services
from tests.conftest import make_settings


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class LiveServer:
    """create_app() served by uvicorn exactly as `python -m app` serves it, in a background thread."""

    def __init__(self, data_dir: Path, send_buffer: int | None = None, **overrides: Any) -> None:
        self.app: FastAPI = create_app(make_settings(data_dir, **overrides))
        # Accepted sockets inherit the listener's send buffer: a small one makes a slow reader show quickly.
        self.sock = socket.socket()
        if send_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}/ws"
        self.server = _Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None,
                                             lifespan="on", timeout_graceful_shutdown=5))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        if not self.server.ready.wait(120) or not self.server.started:
            raise RuntimeError("uvicorn did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    @property
    def services(self) -> Services:
        services = self.app.state.services
        assert services is not None
        return services  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seeded_chroma: Path) -> Iterator[LiveServer]:
    """Default settings: what production runs."""
    import shutil

    data = tmp_path_factory.mktemp("ws")
    shutil.copytree(seeded_chroma, data / "chroma")
    with LiveServer(data) as live:
        yield live


class Session:
    def __init__(self, base: str, body: dict[str, Any]) -> None:
        self.base = base
        self.id: str = body["session_id"]
        self.token: str = body["session_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    async def rest(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.request(method, f"{self.base}/chat/sessions/{self.id}{path}",
                                        headers=self.headers, **kwargs)

    async def history(self) -> list[dict[str, Any]]:
        response = await self.rest("GET", "/history", params={"limit": 500})
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])


async def new_session(live: LiveServer) -> Session:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(f"{live.http}/chat/sessions", json={"user_id": "ws-test"})
    assert response.status_code == 201, response.text
    return Session(live.http, response.json())


def ws_url(live: LiveServer, session: Session | str, token: str | None = None, **params: str) -> str:
    session_id = session if isinstance(session, str) else session.id
    query = {"session_id": session_id, **params}
    if token is not None:
        query["token"] = token
    return f"{live.ws}?" + "&".join(f"{k}={v}" for k, v in query.items())


async def recv(ws: ClientConnection, limit: float = 30) -> dict[str, Any]:
    """The next frame that is not a heartbeat."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), limit))
        if frame["type"] != "heartbeat":
            return frame  # type: ignore[no-any-return]


async def recv_until(ws: ClientConnection, kind: str, limit: float = 30) -> list[dict[str, Any]]:
    """Frames up to and including the first of type `kind`."""
    frames = []
    while True:
        frame = await recv(ws, limit)
        frames.append(frame)
        if frame["type"] == kind:
            return frames


@pytest.fixture
async def session(server: LiveServer) -> Session:
    return await new_session(server)


@contextlib.asynccontextmanager
async def open_socket(live: LiveServer, session: Session, **params: str) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(live, session, session.token, **params)) as ws:
        connected = await recv(ws)
        assert connected["type"] == "connected", connected
        yield ws
