#!/usr/bin/env python3
"""WebSocket load against one `python -m app` process with the built-in (local) responder.

    python scripts/bench_ws.py [--queries ../shared/eval/covidfaq/queries.jsonl] [--kb ../shared/eval/covidfaq]
                               [--idle 1000] [--active 50] [--turns 10] [--think 1.0] [--cache]

Measures the model alone first (queries/s one at a time and in batches of 32, again after the load).
Starts the server on a free port with a temporary SQLite database and `--kb` as its help center
(a folder of documents, or a BEIR dataset whose corpus.jsonl becomes documents), then: opens `--idle`
sockets (one session each) that stay silent, and reads the server's RSS from /proc/PID/status before
and after to get the memory per idle connection; then `--active` sockets each send `--turns`
questions, reading `--think` seconds between an answer and the next question, measuring the time
from sending to the first `text` frame and the completed turns per second, while the idle sockets
stay open. Every question is a different line of `--queries` and the query cache is off unless
`--cache` (which cycles a few questions instead). Goals (2 cores): under 100 KB per idle connection;
first delta p95 under 250 ms at 50 active with 1 s think time. Prints a table and one JSON line.
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

import benchkit as kit
import httpx
from websockets.asyncio.client import ClientConnection, connect

BACKEND = kit.ROOT / "backend"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def wait_ready(client: httpx.AsyncClient, base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 900  # a first start ingests the help center: slow on a busy machine
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
            try:
                response = await client.post(f"{base}/chat/sessions", json={})
            except httpx.TransportError:
                # A pooled connection the server closed as idle while this request was sent (a ReadError
                # in about 1 of 2,000 creations): a session costs nothing to make again.
                response = await client.post(f"{base}/chat/sessions", json={})
            body = response.json()
            return body["session_id"], body["session_token"]

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def open_socket(ws_base: str, session: tuple[str, str]) -> ClientConnection:
    ws = await connect(f"{ws_base}?session_id={session[0]}&token={session[1]}", max_queue=64,
                       compression=None)
    frame = json.loads(await ws.recv())
    assert frame["type"] == "connected", frame
    return ws


class HandedOver(list[float]):
    """The first-delta times of a customer whose conversation went to a person before its last question."""


async def run_turns(ws: ClientConnection, questions: list[str], offset: int, think: float) -> list[float]:
    """One customer's questions; stops early when the assistant hands the conversation to a person
    (two misses in a row, or an escalation): from then on a person answers, which this does not measure."""
    firsts: list[float] = []
    await asyncio.sleep(think * (offset % 10) / 10)  # stagger the first questions like real arrivals
    for i, question in enumerate(questions):
        if i:
            await asyncio.sleep(think)  # a customer reads the answer before asking again
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "content": question, "client_id": f"b{offset}-{i}"}))
        first, handed_over = None, False
        while True:
            frame = await asyncio.wait_for(ws.recv(), timeout=120)  # a lost frame fails the run, not hangs it
            frame = json.loads(frame)
            if frame["type"] == "text" and first is None:
                first = time.perf_counter() - started
            if frame["type"] == "handoff" and frame["state"] != "bot":
                handed_over = True
            if frame["type"] == "complete":
                handed_over = handed_over or frame["requires_escalation"]
                break
            if frame["type"] == "error":
                raise RuntimeError(frame)
        firsts.append(first if first is not None else time.perf_counter() - started)
        if handed_over:
            return HandedOver(firsts)
    return firsts


def start_server(backend: Path, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app"], cwd=backend, env=env, stdout=log, stderr=log)


def plan_questions(args: argparse.Namespace) -> tuple[list[str], list[list[str]]]:
    """Warm-up questions and each active customer's own questions, none repeated unless --cache."""
    questions = kit.Questions(kit.load_questions(args.queries))
    if args.cache:  # a cache only helps when questions repeat: cycle a few of them
        pool = questions.take(5)
        return pool[:2], [[pool[(n + i) % len(pool)] for i in range(args.turns)] for n in range(args.active)]
    return questions.take(2), [questions.take(args.turns) for _ in range(args.active)]


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    warm_questions, plan = plan_questions(args)
    port = free_port()
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    env = {**os.environ, "ENVIRONMENT": "test", "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": str(workdir),
           "RATE_LIMITS_ENABLED": "false",
           "LOG_LEVEL": "WARNING", "REDIS_URL": "", "SESSION_STORE": "memory", "LLM_PROVIDER": "local",
           "WS_IDLE_TIMEOUT_SECONDS": "600", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "KNOWLEDGE_BASE_DIR": str(kit.knowledge_folder(args.kb, workdir)),
           "RAG_CACHE": "memory" if args.cache else "off"}
    log = (workdir / "server.log").open("wb")
    process = start_server(args.backend.resolve(), env, log)
    sockets: list[ClientConnection] = []
    try:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=60)) as client:
            await wait_ready(client, base, process)
            idle_sessions = await create_sessions(client, base, args.idle)
            active_sessions = await create_sessions(client, base, args.active)
            warm = await open_socket(ws_base, active_sessions[0])  # first turn loads lazy parts
            await run_turns(warm, warm_questions, 0, 0.0)
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
            started, cpu = time.perf_counter(), kit.process_cpu_seconds(process.pid)
            results = await asyncio.gather(*(run_turns(ws, plan[n], n, args.think)
                                             for n, ws in enumerate(active)))
            elapsed, cpu = time.perf_counter() - started, kit.process_cpu_seconds(process.pid) - cpu
            peak = rss_kib(process.pid)
        firsts = [x * 1000 for r in results for x in r]
        return {"idle_sockets": args.idle, "active_sockets": args.active, "think_seconds": args.think,
                "turns": len(firsts), "customers_handed_over": sum(isinstance(r, HandedOver) for r in results),
                "open_idle_seconds": round(open_seconds, 2),
                "rss_before_mib": round(before / 1024, 1), "rss_idle_mib": round(after / 1024, 1),
                "rss_peak_mib": round(peak / 1024, 1),
                "kib_per_idle_socket": round((after - before) / max(1, args.idle), 1),
                "first_delta_p50_ms": round(statistics.median(firsts), 1),
                "first_delta_p95_ms": round(kit.percentile(firsts, 0.95), 1),
                "turns_per_second": round(len(firsts) / elapsed, 1),
                "server_cpu_ms_per_turn": round(1000 * cpu / max(1, len(firsts)), 2), "cache": args.cache}
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        kit.stop_server(process, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=kit.DEFAULT_DATASET / "queries.jsonl",
                        help="BEIR-style queries.jsonl; every question is a different line")
    parser.add_argument("--kb", type=Path, default=kit.DEFAULT_DATASET,
                        help="help-center folder, or a BEIR dataset folder (its corpus.jsonl becomes documents)")
    parser.add_argument("--cache", action="store_true", help="turn the query cache on (RAG_CACHE=memory)")
    parser.add_argument("--raw-sample", type=int, default=96, help="questions for the raw encode measurement")
    parser.add_argument("--backend", type=Path, default=BACKEND,
                        help="server code to run (e.g. an export of another branch, for an A/B comparison)")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--active", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10, help="questions per active socket")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds an active customer waits after a reply before the next question "
                             "(0: back to back, which measures saturation)")
    args = parser.parse_args()
    # Each socket is a file descriptor on both sides; the server inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * (args.idle + args.active) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    sample = [q for qs in plan_questions(args)[1] for q in qs][:args.raw_sample]
    raw_before = kit.raw_encode_rates(sample)
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        result = asyncio.run(bench(args, Path(tmp)))
    raw = kit.mean_rates(raw_before, kit.raw_encode_rates(sample))
    result.update({**raw, "raw_before": raw_before,
                   "turns_per_s_vs_raw_single": round(result["turns_per_second"] / raw["raw_single_per_s"], 2)})
    rows = [("raw encode one at a time / batches of 32", f"{raw['raw_single_per_s']} / {raw['raw_batch32_per_s']} /s "
                                                        f"({raw['raw_batch_ratio']}x)", "best of 1, 2 threads"),
            *((f"  {n} torch thread(s): single / batch, CPU", f"{raw[f'threads{n}_single_per_s']} / "
               f"{raw[f'threads{n}_batch_per_s']} /s, {raw[f'threads{n}_single_cpu_ms']} / "
               f"{raw[f'threads{n}_batch_cpu_ms']} ms", "") for n in (1, 2)),
            ("idle sockets held", f"{result['idle_sockets']}", ""),
            ("RSS per idle socket", f"{result['kib_per_idle_socket']} KiB", "< 100 KB"),
            ("RSS before / with idle / peak", f"{result['rss_before_mib']} / {result['rss_idle_mib']} / "
                                              f"{result['rss_peak_mib']} MiB", ""),
            ("first delta p50", f"{result['first_delta_p50_ms']} ms", ""),
            ("first delta p95", f"{result['first_delta_p95_ms']} ms", "< 250 ms"),
            ("completed turns per second", f"{result['turns_per_second']}", ""),
            ("server CPU per turn", f"{result['server_cpu_ms_per_turn']} ms", ""),
            ("turns measured", f"{result['turns']} ({result['active_sockets']} active sockets, "
                               f"{result['think_seconds']} s think time)", ""),
            ("customers handed to a person (stop asking)", f"{result['customers_handed_over']}", "")]
    print(f"{'measure':42} {'value':32} goal")
    for name, value, goal in rows:
        print(f"{name:42} {value:32} {goal}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
