#!/usr/bin/env python3
"""Cold start to ready, and one-message latency at concurrency 1, against a real server process.

    python scripts/bench_api.py [--messages 200] [--port 8765]

Starts `python -m app` twice on a fresh data folder: the first start also ingests the sample help
center (first `make run`), the second finds the store filled (every later start). Then sends
`--messages` questions one after another over HTTP and prints p50/p95/max of the round trip.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "How do I reset my password?", "How long do I have to return an item?", "Do you ship to Canada?",
    "How can I track my order?", "What payment methods do you accept?", "How do I wash a down jacket?",
    "Can I change my order after placing it?", "How do I turn on two-factor authentication?",
]


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "LOG_LEVEL": "WARNING",
           "RATE_LIMITS_ENABLED": "false",
           "HF_HUB_OFFLINE": "1"}
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT / "backend", env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/health/readiness"
    while time.perf_counter() - began < 180:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server not ready after 180 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        proc, first_start = start(data, args.port)
        stop(proc)
        proc, warm_start = start(data, args.port)
        try:
            base = f"http://127.0.0.1:{args.port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                created = client.post("/chat/sessions", json={"user_id": "bench"}).json()
                headers = {"Authorization": f"Bearer {created['session_token']}"}
                url = f"/chat/sessions/{created['session_id']}/messages"
                for q in QUESTIONS:  # warm-up: first calls pay for lazy imports and caches
                    client.post(url, json={"message": q}, headers=headers)
                latencies = []
                for i in range(args.messages):
                    began = time.perf_counter()
                    response = client.post(url, json={"message": QUESTIONS[i % len(QUESTIONS)]}, headers=headers)
                    latencies.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200, response.text
        finally:
            stop(proc)

    print(f"{'measure':<40}{'value':>12}")
    print(f"{'cold start to ready, first run (ingest)':<40}{first_start:>11.2f}s")
    print(f"{'cold start to ready, store filled':<40}{warm_start:>11.2f}s")
    print(f"{'message latency p50 (concurrency 1)':<40}{statistics.median(latencies):>10.1f}ms")
    print(f"{'message latency p95 (concurrency 1)':<40}{pct(latencies, 0.95):>10.1f}ms")
    print(f"{'message latency max':<40}{max(latencies):>10.1f}ms")
    print(json.dumps({"cold_start_first_s": round(first_start, 2), "cold_start_s": round(warm_start, 2),
                      "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(pct(latencies, 0.95), 1),
                      "messages": len(latencies)}))


if __name__ == "__main__":
    main()
