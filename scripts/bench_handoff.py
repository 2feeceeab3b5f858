#!/usr/bin/env python3
"""Handoff latency: a staff reply sent over the staff API -> the customer's socket receives it.

    python scripts/bench_handoff.py [--messages 100] [--redis redis://127.0.0.1:6379/0]

Starts one `python -m app` process (temporary SQLite, the sample help center, a first admin), opens a
customer conversation that asks for a person, logs the admin in, takes the conversation, then sends
`--messages` staff replies one after another, timing each from just before the POST to the moment the
customer's socket reads the `agent_message` frame. With --redis the frames go through Redis pub/sub as
they do with several instances. Goal (one instance): p95 under 100 ms. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ws import free_port, wait_ready  # noqa: E402
from benchkit import percentile, stop_server  # noqa: E402

BACKEND = Path(__file__).resolve().parents[1] / "backend"
ADMIN, PASSWORD = "bench-admin@example.com", "bench-admin-password"


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    env = {**os.environ, "ENVIRONMENT": "test", "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": str(workdir),
           "LOG_LEVEL": "WARNING", "FIRST_SUPERUSER": ADMIN, "FIRST_SUPERUSER_PASSWORD": PASSWORD,
           "RATE_LIMITS_ENABLED": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if args.redis:
        env.update(REDIS_URL=args.redis, REALTIME_BUS="redis", REDIS_KEY_PREFIX=f"bench:{uuid.uuid4().hex[:8]}:")
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "app"], cwd=BACKEND, env=env,  # noqa: ASYNC220 - once
                               stdout=log, stderr=log)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await wait_ready(client, base, process)
            session = (await client.post("/chat/sessions", json={})).json()
            customer = {"Authorization": f"Bearer {session['session_token']}"}
            sid = session["session_id"]
            reply = await client.post(f"/chat/sessions/{sid}/messages", json={"message": "I want a human please"},
                                      headers=customer)
            assert reply.json()["requires_escalation"], reply.text
            token = (await client.post("/auth/login", json={"username": ADMIN, "password": PASSWORD})).json()
            staff = {"Authorization": f"Bearer {token['access_token']}"}
            assert (await client.post(f"/staff/conversations/{sid}/assign", headers=staff)).status_code == 200
            latencies: list[float] = []
            async with connect(f"ws://127.0.0.1:{port}/ws?session_id={sid}&token={session['session_token']}") as ws:
                while json.loads(await ws.recv())["type"] != "connected":
                    pass
                for i in range(args.messages):
                    started = time.perf_counter()
                    sent = await client.post(f"/staff/conversations/{sid}/messages", headers=staff,
                                             json={"content": f"Reply number {i} from the support team."})
                    assert sent.status_code == 201, sent.text
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if frame["type"] == "agent_message" and frame["message_id"] == sent.json()["id"]:
                            break
                    latencies.append((time.perf_counter() - started) * 1000)
        return {"messages": len(latencies), "bus": "redis" if args.redis else "memory",
                "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
                "max_ms": round(max(latencies), 1)}
    finally:
        stop_server(process, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--redis", default="", help="a Redis URL: deliver through Redis pub/sub")
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    print(f"{'measure':36} {'value':12} goal")
    print(f"{'staff reply -> customer socket p50':36} {str(result['p50_ms']) + ' ms':12}")
    print(f"{'staff reply -> customer socket p95':36} {str(result['p95_ms']) + ' ms':12} < 100 ms")
    print(f"{'messages (bus)':36} {result['messages']} ({result['bus']})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
