#!/usr/bin/env python3
"""WebSocket load against one `python -m app` process with the built-in (local) responder.

    python scripts/bench_ws.py [--idle 1000] [--active 50] [--turns 10]

Starts the server on a free port with a temporary SQLite database and the sample help center, then:
opens `--idle` sockets (one session each) that stay silent, and reads the server's RSS from
/proc/PID/status before and after to get the memory per idle connection; then `--active` sockets each
send `--turns` questions one after another, measuring the time from sending to the first `text` frame
and the completed turns per second, while the idle sockets stay open. Goals (2 cores): under 100 KB per
idle connection; first delta p95 under 150 ms at 50 active. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

BACKEND = Path(__file__).resolve().parents[1] / "backend"
QUESTIONS = ["How do I reset my password?", "How do I change my plan?", "What is your refund policy?",
             "How long does shipping take?", "Can I cancel my subscription?"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_ready(client: httpx.AsyncClient, base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("server exited during start")
        try:
            if (await client.get(f"{base}/health/readiness")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)  # nothing to await but the port
    raise SystemExit("server not ready")


async def create_sessions(client: httpx.AsyncClient, base: str, n: int) -> list[tuple[str, str]]:
    gate = asyncio.Semaphore(50)

    async def one() -> tuple[str, str]:
        async with gate:
            body = (await client.post(f"{base}/chat/sessions", json={})).json()
            return body["session_id"], body["session_token"]

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def open_socket(ws_base: str, session: tuple[str, str]) -> ClientConnection:
    ws = await connect(f"{ws_base}?session_id={session[0]}&token={session[1]}", max_queue=64,
                       compression=None)
    frame = json.loads(await ws.recv())
    assert frame["type"] == "connected", frame
    return ws


async def run_turns(ws: ClientConnection, turns: int, offset: int, think: float) -> list[float]:
    firsts = []
    await asyncio.sleep(think * (offset % 10) / 10)  # stagger the first questions like real arrivals
    for i in range(turns):
        if i:
            await asyncio.sleep(think)  # a customer reads the answer before asking again
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "content": QUESTIONS[(offset + i) % len(QUESTIONS)],
                                  "client_id": f"b{offset}-{i}"}))
        first = None
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "text" and first is None:
                first = time.perf_counter() - started
            if frame["type"] == "complete":
                break
            if frame["type"] == "error":
                raise RuntimeError(frame)
        firsts.append(first if first is not None else time.perf_counter() - started)
    return firsts


def start_server(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app"], cwd=BACKEND, env=env, stdout=log, stderr=log)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    workdir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    env = {**os.environ, "ENVIRONMENT": "test", "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": str(workdir),
           "RATE_LIMITS_ENABLED": "false",
           "LOG_LEVEL": "WARNING", "REDIS_URL": "", "SESSION_STORE": "memory", "LLM_PROVIDER": "local",
           "WS_IDLE_TIMEOUT_SECONDS": "600", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = (workdir / "server.log").open("wb")
    process = start_server(env, log)
    sockets: list[ClientConnection] = []
    try:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=60)) as client:
            await wait_ready(client, base, process)
            idle_sessions = await create_sessions(client, base, args.idle)
            active_sessions = await create_sessions(client, base, args.active)
            warm = await open_socket(ws_base, active_sessions[0])  # first turn loads lazy parts
            await run_turns(warm, 2, 0, 0.0)
            await warm.close()
            before = rss_kib(process.pid)
            gate = asyncio.Semaphore(100)

            async def idle(session: tuple[str, str]) -> ClientConnection:
                async with gate:
                    return await open_socket(ws_base, session)

            started = time.perf_counter()
            sockets = list(await asyncio.gather(*(idle(s) for s in idle_sessions)))
            open_seconds = time.perf_counter() - started
            after = rss_kib(process.pid)

            active = [await open_socket(ws_base, s) for s in active_sessions]
            sockets += active
            started = time.perf_counter()
            results = await asyncio.gather(*(run_turns(ws, args.turns, n, args.think)
                                             for n, ws in enumerate(active)))
            elapsed = time.perf_counter() - started
            peak = rss_kib(process.pid)
        firsts = [x * 1000 for r in results for x in r]
        return {"idle_sockets": args.idle, "active_sockets": args.active, "think_seconds": args.think,
                "turns": len(firsts),
                "open_idle_seconds": round(open_seconds, 2),
                "rss_before_mib": round(before / 1024, 1), "rss_idle_mib": round(after / 1024, 1),
                "rss_peak_mib": round(peak / 1024, 1),
                "kib_per_idle_socket": round((after - before) / max(1, args.idle), 1),
                "first_delta_p50_ms": round(statistics.median(firsts), 1),
                "first_delta_p95_ms": round(percentile(firsts, 0.95), 1),
                "turns_per_second": round(len(firsts) / elapsed, 1)}
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--active", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10, help="questions per active socket")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds an active customer waits after a reply before the next question "
                             "(0: back to back, which measures saturation)")
    args = parser.parse_args()
    # Each socket is a file descriptor on both sides; the server inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * (args.idle + args.active) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    result = asyncio.run(bench(args))
    rows = [("idle sockets held", f"{result['idle_sockets']}", ""),
            ("RSS per idle socket", f"{result['kib_per_idle_socket']} KiB", "< 100 KB"),
            ("RSS before / with idle / peak", f"{result['rss_before_mib']} / {result['rss_idle_mib']} / "
                                              f"{result['rss_peak_mib']} MiB", ""),
            ("first delta p50", f"{result['first_delta_p50_ms']} ms", ""),
            ("first delta p95", f"{result['first_delta_p95_ms']} ms", "< 150 ms"),
            ("completed turns per second", f"{result['turns_per_second']}", ""),
            ("turns measured", f"{result['turns']} ({result['active_sockets']} active sockets, "
                               f"{result['think_seconds']} s think time)", "")]
    print(f"{'measure':32} {'value':28} goal")
    for name, value, goal in rows:
        print(f"{name:32} {value:28} {goal}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
