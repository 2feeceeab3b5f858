"""Fixtures for session tests: a real Redis with a unique key prefix per test, cleaned up afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from sqlalchemy import make_url

from app.redis_client import connect
from app.session.encryption import PayloadCodec
from app.session.memory_store import InMemorySessionStore
from app.session.models import SessionStore
from app.session.redis_store import RedisSessionStore
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_TIMEOUT_SECONDS, free_port, service_missing

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def reachable_redis() -> Redis:
    """A client on the test Redis; skips (or fails under CI=true) when nothing answers there."""
    client = connect(TEST_REDIS_URL, TEST_REDIS_TIMEOUT_SECONDS)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        service_missing("redis", f"{TEST_REDIS_URL}: {type(exc).__name__}")
    return client


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = await reachable_redis()
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: Redis) -> AsyncIterator[str]:
    value = f"test:{uuid.uuid4().hex[:10]}:"
    yield value
    keys = [key async for key in redis_client.scan_iter(match=f"{value}*")]
    if keys:
        await redis_client.delete(*keys)


async def redis_store(prefix: str, codec: PayloadCodec | None = None, ttl: float = 60,
                      l1_ttl: float = 5.0) -> RedisSessionStore:
    """A store on its own client (as a separate instance would have), subscribed before it is returned."""
    client = connect(TEST_REDIS_URL, TEST_REDIS_TIMEOUT_SECONDS)
    store = RedisSessionStore(client, prefix=prefix, codec=codec or PayloadCodec(None),
                              default_ttl_seconds=ttl, l1_ttl_seconds=l1_ttl)
    store.start()
    await asyncio.wait_for(store.listener.subscribed.wait(), 5)
    return store


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield InMemorySessionStore(default_ttl_seconds=60)
        return
    client = await reachable_redis()
    prefix_value = f"test:{uuid.uuid4().hex[:10]}:"
    redis = await redis_store(prefix_value, PayloadCodec([Fernet.generate_key().decode()]))
    yield redis
    await redis.close()
    keys = [key async for key in client.scan_iter(match=f"{prefix_value}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()



class RedisServer:
    """A throwaway redis-server on a free port that a test can kill and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)  # the server gives no other signal that it is listening
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        service_missing("redis", "redis-server binary not found")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped afterwards. Yields its plain URL."""
    import asyncpg

    server = make_url(TEST_DATABASE_URL)
    name = f"sess_{uuid.uuid4().hex[:12]}"
    admin_dsn = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except Exception as exc:
        service_missing("database", f"{server.host}:{server.port}: {type(exc).__name__}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
