#!/usr/bin/env python3
"""Cold start, then REST message latency and throughput at several concurrencies, on distinct questions.

    python scripts/bench_api.py [--queries ../shared/eval/covidfaq/queries.jsonl] [--kb ../shared/eval/covidfaq]
                                [--concurrency 1,32] [--messages 200] [--cache] [--port 8765]

Measures the model first, alone: queries/s encoded one at a time and in batches of 32 (the ratio is
what batching can gain on this machine). Then starts `python -m app` twice on a fresh data folder
with `--kb` as its help center: the first start ingests it (first `make run`), the second finds the
store filled (every later start). At each concurrency C, C customers (one session each) send
`--messages` questions in total, each waiting for its answer before asking the next; every question
is a different line of `--queries`, and the query cache is off unless `--cache`. Prints messages/s,
p50/p95/max and messages/s as a multiple of the raw one-at-a-time encode rate, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchkit as kit
import httpx


def start(backend: Path, data_dir: Path, port: int, kb: Path, cache: bool) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "LOG_LEVEL": "WARNING",
           "RATE_LIMITS_ENABLED": "false",
           "HF_HUB_OFFLINE": "1", "KNOWLEDGE_BASE_DIR": str(kb), "RAG_CACHE": "memory" if cache else "off",
           "REDIS_URL": "", "SESSION_STORE": "memory", "LLM_PROVIDER": "local"}
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=backend, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/health/readiness"
    while time.perf_counter() - began < 900:  # a first start ingests the help center
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server not ready after 900 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


async def session(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    created = (await client.post("/chat/sessions", json={"user_id": "bench"})).json()
    return f"/chat/sessions/{created['session_id']}/messages", {"Authorization": f"Bearer {created['session_token']}"}


class Latencies(list[float]):
    handovers = 0  # conversations the assistant handed to a person


async def customer(client: httpx.AsyncClient, questions: list[str]) -> Latencies:
    """One session asking its questions one after another, as a customer waiting for each answer does.
    When the assistant hands the conversation to a person (an escalation, or two misses in a row), a
    person answers from then on, which is not what this measures: the next question opens a new session."""
    url, headers = await session(client)
    latencies = Latencies()
    for question in questions:
        began = time.perf_counter()
        response = await client.post(url, json={"message": question}, headers=headers)
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code}: {response.text}")
        body = response.json()
        if body["requires_escalation"] or body["handled_by"] != "bot":
            latencies.handovers += 1
            url, headers = await session(client)
    return latencies


async def load(base: str, pid: int, concurrency: int, questions: list[str]) -> dict[str, float]:
    shares = [questions[i::concurrency] for i in range(concurrency)]
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        started, cpu = time.perf_counter(), kit.process_cpu_seconds(pid)
        results = await asyncio.gather(*(customer(client, share) for share in shares))
        elapsed, cpu = time.perf_counter() - started, kit.process_cpu_seconds(pid) - cpu
    latencies = [x for r in results for x in r]
    return {"concurrency": concurrency, "messages": len(latencies),
            "handovers": sum(r.handovers for r in results),
            "messages_per_s": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(kit.percentile(latencies, 0.95), 1), "max_ms": round(max(latencies), 1),
            "server_cpu_ms_per_message": round(1000 * cpu / len(latencies), 2)}


def profile(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy (dev dependency) sampling the server, every thread, as collapsed stacks."""
    output.parent.mkdir(parents=True, exist_ok=True)
    py_spy = str(Path(sys.executable).parent / "py-spy")  # the venv's own, next to this Python
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--threads",  # noqa: S603
                             "--nonblocking", "--rate", "200", "--format", "raw", "--output", str(output)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=kit.DEFAULT_DATASET / "queries.jsonl",
                        help="BEIR-style queries.jsonl; every message is a different line")
    parser.add_argument("--kb", type=Path, default=kit.DEFAULT_DATASET,
                        help="help-center folder, or a BEIR dataset folder (its corpus.jsonl becomes documents)")
    parser.add_argument("--concurrency", default="1,32", help="comma-separated customer counts")
    parser.add_argument("--messages", type=int, default=320, help="messages per concurrency level")
    parser.add_argument("--warmup", type=int, default=16, help="messages before measuring (lazy imports)")
    parser.add_argument("--cache", action="store_true", help="turn the query cache on (RAG_CACHE=memory)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--profile", type=Path, help="folder for a py-spy profile of the server per concurrency")
    parser.add_argument("--raw-sample", type=int, default=96, help="questions for the raw encode measurement")
    parser.add_argument("--backend", type=Path, default=kit.ROOT / "backend",
                        help="server code to run (e.g. an export of another branch, for an A/B comparison)")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    questions = kit.Questions(kit.load_questions(args.queries))
    if args.cache:  # a cache only helps when questions repeat: cycle a few of them
        pool = questions.take(8)
        plan = {c: [pool[i % len(pool)] for i in range(args.messages)] for c in levels}
        warm = pool
    else:
        warm = questions.take(args.warmup)
        plan = {c: questions.take(args.messages) for c in levels}
    sample = list(dict.fromkeys(q for qs in plan.values() for q in qs))[:args.raw_sample]
    raw_before = kit.raw_encode_rates(sample)

    with tempfile.TemporaryDirectory() as tmp:
        data, kb = Path(tmp) / "data", kit.knowledge_folder(args.kb, Path(tmp))
        proc, first_start = start(args.backend.resolve(), data, args.port, kb, args.cache)
        stop(proc)
        proc, warm_start = start(args.backend.resolve(), data, args.port, kb, args.cache)
        try:
            base = f"http://127.0.0.1:{args.port}"
            asyncio.run(load(base, proc.pid, 1, warm))
            runs = []
            for c in levels:
                profiler = profile(proc.pid, args.profile / f"concurrency-{c}.txt") if args.profile else None
                runs.append(asyncio.run(load(base, proc.pid, c, plan[c])))
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                    profiler.wait(timeout=60)
        finally:
            stop(proc)
    raw = kit.mean_rates(raw_before, kit.raw_encode_rates(sample))

    single = raw["raw_single_per_s"]
    print(f"{'measure (raw encode: mean of before and after the load)':<56}{'value':>20}")
    print(f"{'raw encode, one query at a time':<56}{single:>18.1f}/s")
    print(f"{'raw encode, batches of 32':<56}{raw['raw_batch32_per_s']:>18.1f}/s")
    print(f"{'batched / single':<56}{raw['raw_batch_ratio']:>19.2f}x")
    for n in (1, 2):
        rates = f"{raw[f'threads{n}_single_per_s']:.1f} / {raw[f'threads{n}_batch_per_s']:.1f} /s"
        cpu = f"{raw[f'threads{n}_single_cpu_ms']:.1f} / {raw[f'threads{n}_batch_cpu_ms']:.1f} ms"
        print(f"{f'  {n} torch thread(s): single / batch /s, CPU per query':<56}{rates + ', ' + cpu:>20}")
    print(f"{'cold start to ready, first run (ingest)':<56}{first_start:>19.2f}s")
    print(f"{'cold start to ready, store filled':<56}{warm_start:>19.2f}s")
    for run in runs:
        c = run["concurrency"]
        print(f"{f'concurrency {c}: messages/s':<56}{run['messages_per_s']:>20.1f}")
        print(f"{f'concurrency {c}: messages/s / raw single encode/s':<56}{run['messages_per_s'] / single:>19.2f}x")
        latency = f"{run['p50_ms']:.0f} / {run['p95_ms']:.0f} / {run['max_ms']:.0f} ms"
        print(f"{f'concurrency {c}: latency p50 / p95 / max':<56}{latency:>20}")
        print(f"{f'concurrency {c}: server CPU per message':<56}{run['server_cpu_ms_per_message']:>17.2f} ms")
        print(f"{f'concurrency {c}: handed to a person (new session after)':<56}{run['handovers']:>20}")
    print(json.dumps({**raw, "raw_before": raw_before, "cache": args.cache, "distinct_questions": not args.cache,
                      "cold_start_first_s": round(first_start, 2), "cold_start_s": round(warm_start, 2),
                      "runs": [{**r, "vs_raw_single": round(r["messages_per_s"] / single, 2)} for r in runs]}))


if __name__ == "__main__":
    main()
