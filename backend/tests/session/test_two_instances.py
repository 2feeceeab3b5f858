"""Two real uvicorn processes share Redis and a fresh PostgreSQL database: one conversation, any instance."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.fernet import Fernet

from app.config import REPO_ROOT, Settings
from app.db import migrate
from tests.conftest import free_port
from tests.session.conftest import TEST_REDIS_URL, fresh_postgres_database, reachable_redis

BACKEND = REPO_ROOT / "backend"
KB_TEXT = """# Resetting your password

Open Settings, choose Security and press "Reset password". We email a link that works for 30 minutes.

# Changing your plan

Go to Billing and pick a new plan; the change applies at the next invoice.
"""


class Instance:
    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.env = env
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "app"], cwd=BACKEND, env=env, stdout=out,
                                            stderr=subprocess.STDOUT)

    async def wait_ready(self, client: httpx.AsyncClient, limit_seconds: float = 90) -> None:
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                if (await client.get(f"{self.url}/health/readiness")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)  # a starting server offers nothing to await but its port
        raise AssertionError(f"{self.name} not ready:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path, **extra_env: str) -> AsyncIterator[tuple[Instance, Instance, httpx.AsyncClient]]:
    """Two `python -m app` processes on one fresh PostgreSQL database and one Redis key prefix."""
    redis = await reachable_redis()  # skips (fails under CI=true) without Redis, as without PostgreSQL
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "account.md").write_text(KB_TEXT)
    async with fresh_postgres_database() as database_url:
        # Migrate once up front: two processes migrating one empty database at once would race.
        await anyio.to_thread.run_sync(migrate.upgrade, Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=database_url).resolved_database_url)
        common = {**os.environ, "ENVIRONMENT": "test", "HOST": "127.0.0.1", "DATABASE_URL": database_url,
                  "RATE_LIMITS_ENABLED": "false",
                  "DB_AUTO_MIGRATE": "false", "SESSION_STORE": "redis", "REDIS_URL": TEST_REDIS_URL,
                  "REDIS_KEY_PREFIX": prefix, "SESSION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                  "SESSION_LOCK_TTL_SECONDS": "3", "KNOWLEDGE_BASE_DIR": str(kb), "KB_AUTO_INGEST": "true",
                  "LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra_env}
        instances = [Instance(name, {**common, "PORT": str(free_port()), "DATA_DIR": str(tmp_path / name)},
                              tmp_path) for name in ("a", "b")]
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                await asyncio.gather(*(i.wait_ready(client) for i in instances))
                yield instances[0], instances[1], client
        finally:
            for instance in instances:
                instance.kill()
            keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()


@pytest.fixture
async def two_instances(tmp_path: Path) -> AsyncIterator[tuple[Instance, Instance, httpx.AsyncClient]]:
    async with cluster(tmp_path) as pair:
        yield pair


async def history(client: httpx.AsyncClient, base: str, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"{base}{path}/history", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["messages"])
    return list(body["messages"])


def assert_pairs_alternate(messages: list[dict[str, Any]]) -> None:
    assert [m["role"] for m in messages] == ["user", "assistant"] * (len(messages) // 2)


async def test_one_conversation_across_two_instances(two_instances: tuple[Instance, Instance,
                                                                          httpx.AsyncClient]) -> None:
    a, b, client = two_instances
    created = await client.post(f"{a.url}/chat/sessions", json={"user_id": "shared"})
    assert created.status_code == 201
    headers = {"Authorization": f"Bearer {created.json()['session_token']}"}
    path = f"/chat/sessions/{created.json()['session_id']}"

    # Created on A, continued on B with the full history, and back.
    first = await client.post(f"{a.url}{path}/messages", data={"message": "How do I reset my password?"},
                              headers=headers)
    assert first.status_code == 200, first.text
    on_b = await history(client, b.url, path, headers)
    assert [m["content"] for m in on_b][0] == "How do I reset my password?"
    assert (await client.post(f"{b.url}{path}/messages", data={"message": "And change my plan?"},
                              headers=headers)).status_code == 200
    assert len(await history(client, a.url, path, headers)) == 4

    # 50 messages at once, spread over both: every one stored, each reply right after its question.
    async def send(i: int) -> httpx.Response:
        base = a.url if i % 2 else b.url
        return await client.post(f"{base}{path}/messages", data={"message": f"Question {i}: reset password?"},
                                  headers=headers)

    responses = await asyncio.gather(*(send(i) for i in range(50)))
    assert [r.status_code for r in responses] == [200] * 50, [r.text for r in responses if r.status_code != 200]
    messages = await history(client, b.url, path, headers)
    assert len(messages) == 4 + 100
    assert_pairs_alternate(messages)
    position = {m["id"]: n for n, m in enumerate(messages)}
    for r in responses:
        body = r.json()
        assert position[body["message_id"]] == position[body["user_message_id"]] + 1
    assert sorted(m["content"] for m in messages[4::2]) == sorted(f"Question {i}: reset password?"
                                                                 for i in range(50))

    # A dies without warning; B carries on with the same conversation.
    a.kill()
    after = await client.post(f"{b.url}{path}/messages", data={"message": "Are you still there?"},
                              headers=headers)
    assert after.status_code == 200, after.text
    messages = await history(client, b.url, path, headers)
    assert len(messages) == 106
    assert_pairs_alternate(messages)
    info = await client.get(f"{b.url}{path}", headers=headers)
    assert info.json()["message_count"] == 106
