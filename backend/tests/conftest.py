"""Shared fixtures: the real app on a temp SQLite file, a real Chroma folder and the real embedder."""

from __future__ import annotations

import asyncio
import faulthandler
import os
import shutil
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.config import REPO_ROOT, Settings
from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore
from app.main import create_app

SAMPLE_KB = REPO_ROOT / "docs" / "knowledge-base"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


EXIT_GRACE_SECONDS = 120
TEST_REDIS_TIMEOUT_SECONDS = 5.0
SLOW_SHUTDOWN_SECONDS = 10


def pytest_unconfigure(config: pytest.Config) -> None:
    """After the last test nothing may keep the process alive (a non-daemon thread, a connection never
    closed). If something does, print every thread's stack and exit 1 instead of hanging CI until its
    timeout."""
    faulthandler.dump_traceback_later(EXIT_GRACE_SECONDS, exit=True, file=sys.__stderr__)


def free_port() -> int:
    """A loopback port nobody listens on right now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_missing(name: str, reason: str) -> None:
    """Skip on a developer machine without the service; under CI=true a missing service is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is required under CI=true but unavailable: {reason}")
    pytest.skip(f"{name} unavailable ({reason}); set TEST_{name.upper()}_URL or start it")


@pytest.fixture(scope="session")
def seeded_chroma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample help center ingested once per test run; each app gets its own copy."""
    data = tmp_path_factory.mktemp("seed")
    store = VectorStore("knowledge_base", path=data / "chroma")
    embedder = load_embedder("")
    report = Ingestor(embedder, store).ingest_directory(SAMPLE_KB)
    assert not report.failed, report.failed
    KnowledgeBase(embedder, store, calibrate=True).recalibrate()  # stored with the collection, like an app does
    return data / "chroma"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"environment": "test", "data_dir": data_dir, "log_level": "WARNING",
                              "kb_auto_ingest": False,
                              # Tests send more than a customer would; tests/security turn the limits on.
                              "rate_limits_enabled": False,
                              # Scripted fake models would lose a step to the start-up request.
                              "llm_startup_check": False,
                              # Dozens of apps per run: each starts its file parser only when a file needs it.
                              "parse_worker_prestart": False,
                              # A full collection per app start would add minutes to a run of hundreds.
                              "gc_freeze_at_start": False,
                              # The test process holds every earlier test's garbage: its full collections
                              # stop the loop for up to a second (1,028 ms at ~860,000 objects, measured
                              # with gc.callbacks), which the product's 1 s fail-fast would report as
                              # Redis being down. Tests of that fail-fast set their own timeout.
                              "redis_socket_timeout_seconds": TEST_REDIS_TIMEOUT_SECONDS}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


AppFactory = Callable[..., Any]


@pytest.fixture
def data_dir(tmp_path: Path, seeded_chroma: Path) -> Path:
    shutil.copytree(seeded_chroma, tmp_path / "chroma")
    return tmp_path


def _print_tasks(why: str) -> None:
    """Every task's stack, for a shutdown that hangs (shown with the failing test's captured stderr)."""
    print(f"--- {why}; the tasks and where each waits:", file=sys.stderr)
    for task in asyncio.all_tasks():
        print(f"- {task.get_name()}", file=sys.stderr)
        awaiting: Any = task.get_coro()
        while awaiting is not None:  # the await chain, outermost first (a task's own stack stops at its coroutine)
            frame = getattr(awaiting, "cr_frame", None) or getattr(awaiting, "ag_frame", None)
            if frame is not None:
                print(f"    {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}", file=sys.stderr)
            awaiting = getattr(awaiting, "cr_await", None) or getattr(awaiting, "ag_await", None)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    slow: asyncio.TimerHandle | None = None
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
                yield app, client
            slow = asyncio.get_running_loop().call_later(
                SLOW_SHUTDOWN_SECONDS, _print_tasks, f"app shutdown still running after {SLOW_SHUTDOWN_SECONDS} s")
    finally:
        if slow is not None:
            slow.cancel()


@pytest.fixture
async def app_client(data_dir: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(make_settings(data_dir)) as pair:
        yield pair


@pytest.fixture
async def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


class ChatSessionHandle:
    def __init__(self, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        self.client = client
        self.body = body
        self.id: str = body["session_id"]
        self.token: str = body["session_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    async def send(self, message: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(f"/chat/sessions/{self.id}/messages", data={"message": message},
                                      headers=self.headers, **kwargs)


@pytest.fixture
def new_session(client: httpx.AsyncClient) -> Callable[..., Awaitable[ChatSessionHandle]]:
    async def create(**body: Any) -> ChatSessionHandle:
        response = await client.post("/chat/sessions", json=body or {"user_id": f"user-{uuid.uuid4().hex[:6]}"})
        assert response.status_code == 201, response.text
        return ChatSessionHandle(client, response.json())

    return create
