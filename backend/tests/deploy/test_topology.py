"""The production topology for real, without Docker: a WebSocket conversation through nginx (the very
config the prod compose mounts, and its TLS drop-in) survives the death of the replica holding it, and
Prometheus (the prod scrape config) sees every replica. Prints the test's wall time and a replica's memory."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.config import REPO_ROOT
from tests.deploy import topology
from tests.deploy.topology import Process
from tests.realtime.conftest import recv, recv_until
from tests.session.conftest import TEST_REDIS_URL, fresh_postgres_database, reachable_redis

KB_SAMPLE = ["account-password-reset.md", "returns-policy.md", "shipping-options-and-costs.md"]
REPLICAS = ("backend-1", "backend-2")  # the service names of docker-compose.prod.yml and nginx.conf


@dataclass
class Stack:
    proxy: int
    proxy_tls: int
    tls_certificate: str
    backends: dict[str, tuple[Process, int]]
    chroma: Process
    prometheus: str
    started: float
    phases: dict[str, float]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    started = time.monotonic()
    redis: Redis = await reachable_redis()
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    kb = tmp_path / "kb"
    kb.mkdir()
    for name in KB_SAMPLE:
        (kb / name).write_text((REPO_ROOT / "docs" / "knowledge-base" / name).read_text())
    processes: list[Process] = []
    phases: dict[str, float] = {}

    def mark(phase: str) -> None:
        phases[phase] = round(time.monotonic() - started, 1)

    try:
        async with fresh_postgres_database() as database_url:
            chroma, chroma_port = await anyio.to_thread.run_sync(topology.chroma_server, tmp_path)
            processes.append(chroma)
            mark("chroma")
            # What docker-compose.prod.yml gives every replica, with loopback for the service names.
            env = topology.clean_env(
                ENVIRONMENT="production", SECRET_KEY=uuid.uuid4().hex * 2, CORS_ORIGINS="https://support.example.com",
                DATABASE_URL=database_url, REDIS_URL=TEST_REDIS_URL, REDIS_KEY_PREFIX=prefix, SESSION_STORE="redis",
                SESSION_ENCRYPTION_KEYS=Fernet.generate_key().decode(), CHROMA_HOST="127.0.0.1",
                CHROMA_PORT=str(chroma_port), CHROMA_COLLECTION=f"kb_{uuid.uuid4().hex[:8]}",
                DB_AUTO_MIGRATE="false", KNOWLEDGE_BASE_DIR=str(kb), KB_AUTO_INGEST="true",
                TRUSTED_PROXIES="127.0.0.1", METRICS_ALLOWED_NETWORKS="127.0.0.1/32", LOG_LEVEL="WARNING",
                HEALTH_PROBE_INTERVAL_SECONDS="5", DATA_DIR=str(tmp_path / "attachments"))
            await anyio.to_thread.run_sync(topology.migrate, env, tmp_path)
            mark("migrated")
            backends = {name: topology.backend(name, env, tmp_path) for name in REPLICAS}
            processes.extend(process for process, _ in backends.values())
            ports = {name: port for name, (_, port) in backends.items()}
            # The proxy and Prometheus need no live backend to start (as in compose, where only the
            # proxy waits): start them while the replicas load their model.
            proxy, proxy_port, tls_port = await anyio.to_thread.run_sync(topology.nginx, ports, tmp_path)
            processes.append(proxy)
            prometheus, prometheus_url = await anyio.to_thread.run_sync(topology.prometheus, ports, tmp_path)
            processes.append(prometheus)
            mark("proxy_and_prometheus")
            async with anyio.create_task_group() as group:
                for process, port in backends.values():
                    group.start_soon(anyio.to_thread.run_sync, process.wait_http,
                                     f"http://127.0.0.1:{port}/health/readiness", 240)
            mark("replicas_ready")
            certificate = str(tmp_path / "nginx" / "certs" / "fullchain.pem")
            yield Stack(proxy_port, tls_port, certificate, backends, chroma, prometheus_url, started, phases)
    finally:
        for process in reversed(processes):
            process.stop()
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def sockets_held(port: int) -> float:
    """The replica's own websocket_connections gauge, read directly as Prometheus does."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)).text
    match = re.search(r"^websocket_connections (\S+)$", text, flags=re.M)
    assert match, "websocket_connections missing from /metrics"
    return float(match.group(1))


async def test_conversation_survives_a_replica_through_the_proxy(stack: Stack) -> None:
    proxy = f"http://127.0.0.1:{stack.proxy}"
    instances = {name: f"127.0.0.1:{port}" for name, (_, port) in stack.backends.items()}
    # Prometheus scrapes every replica, not whichever one the proxy picks.
    await anyio.to_thread.run_sync(topology.wait_for_targets, stack.prometheus,
                                   {instance: 1.0 for instance in instances.values()})

    async with httpx.AsyncClient(base_url=proxy, timeout=60) as client:
        # Production defaults, through the proxy: no API map, no metrics to the public.
        assert (await client.get("/openapi.json")).status_code == 404
        assert (await client.get("/metrics")).status_code == 404
        created = await client.post("/chat/sessions", json={"user_id": "deploy-test"})
        assert created.status_code == 201, created.text
        session_id, token = created.json()["session_id"], created.json()["session_token"]

        url = f"ws://127.0.0.1:{stack.proxy}/ws?session_id={session_id}"
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            assert (await recv(ws))["type"] == "connected"
            await ws.send(json.dumps({"type": "message", "content": "How do I reset my password?",
                                      "client_id": "first"}))
            first = await recv_until(ws, "complete", limit=60)
            assert first[0]["type"] == "ack" and first[0]["client_id"] == "first"
            assert "password" in first[-1]["content"].lower() and first[-1]["sources"]

            held = {name: await sockets_held(port) for name, (_, port) in stack.backends.items()}
            assert sorted(held.values()) == [0.0, 1.0], held
            holder = next(name for name, count in held.items() if count == 1.0)
            survivor = next(name for name in held if name != holder)
            stack.backends[holder][0].kill()
            with pytest.raises(ConnectionClosed):
                while True:  # the proxy closes the client side once its upstream is gone
                    await asyncio.wait_for(ws.recv(), 30)

        # The client reconnects through the proxy (over TLS this time: the conf.d/tls.conf.example server),
        # lands on the survivor, and the conversation goes on.
        tls = ssl.create_default_context(cafile=stack.tls_certificate)  # the test's self-signed one
        async with connect(f"wss://127.0.0.1:{stack.proxy_tls}/ws?session_id={session_id}", ssl=tls) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token, "last_message_id": first[-1]["message_id"]}))
            connected = await recv(ws)
            assert connected["type"] == "connected" and connected["last_message_id"] == first[-1]["message_id"]
            assert (await recv(ws)) == {"type": "replay", "messages": [], "has_more": False}
            assert await sockets_held(stack.backends[survivor][1]) == 1.0
            await ws.send(json.dumps({"type": "message", "content": "What is your returns policy?",
                                      "client_id": "second"}))
            second = await recv_until(ws, "complete", limit=60)
            assert second[0]["client_id"] == "second" and "return" in second[-1]["content"].lower()

    async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{stack.proxy_tls}", verify=tls, timeout=60) as client:
        history = await client.get(f"/chat/sessions/{session_id}/history",
                                   headers={"Authorization": f"Bearer {token}"})
        assert history.headers["strict-transport-security"].startswith("max-age=")
        assert history.status_code == 200, history.text
        assert [m["id"] for m in history.json()["messages"]] == [
            first[0]["message_id"], first[-1]["message_id"], second[0]["message_id"], second[-1]["message_id"]]

    await anyio.to_thread.run_sync(topology.wait_for_targets, stack.prometheus,
                                   {instances[holder]: 0.0, instances[survivor]: 1.0})
    rss = stack.backends[survivor][0].rss_mib()
    elapsed = time.monotonic() - stack.started
    report = {"topology_test_seconds": round(elapsed, 1), "backend_replica_rss_mib": round(rss, 1),
              "chroma_server_rss_mib": round(stack.chroma.rss_mib(), 1), "phases_seconds": stack.phases}
    artifacts = REPO_ROOT / "test-artifacts" / "deploy"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "topology.json").write_text(json.dumps(report) + "\n")
    print(f"\ntopology: {json.dumps(report)}")
