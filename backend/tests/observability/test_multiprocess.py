"""Several worker processes, one /metrics: prometheus-client multiprocess mode, as uvicorn --workers runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.config import REPO_ROOT

WORKER = textwrap.dedent("""
    import sys
    from app.observability import metrics
    from app.observability.exposition import mark_process_dead
    messages, sockets, exits = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "exit"
    metrics.CHAT_MESSAGES.labels(role="user", channel="rest").inc(messages)
    metrics.WEBSOCKET_CONNECTIONS.inc(sockets)
    metrics.HTTP_REQUEST_DURATION.labels(method="GET", route="/health/").observe(0.02)
    if exits:
        mark_process_dead()  # what the lifespan does when a worker shuts down
""")
SCRAPE = "from app.observability.exposition import render_metrics; print(render_metrics()[0].decode())"


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=REPO_ROOT / "backend",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def test_workers_add_up_and_a_stopped_worker_leaves_the_live_gauges(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _run(WORKER, "2", "3", "exit", env=env)  # a worker that has shut down
    _run(WORKER, "5", "4", "stay", env=env)  # a worker still running (its files stay)
    samples = _samples(_run(SCRAPE, env=env))
    # Counters keep the stopped worker's counts; live gauges only count workers still alive.
    assert samples[("chat_messages_total", (("channel", "rest"), ("role", "user")))] == 7
    assert samples[("websocket_connections", ())] == 4
    assert samples[("http_request_duration_seconds_count", (("method", "GET"), ("route", "/health/")))] == 2


def test_single_process_mode_without_the_env() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    code = WORKER + "\n" + SCRAPE
    samples = _samples(_run(code, "1", "1", "stay", env=env))
    assert samples[("chat_messages_total", (("channel", "rest"), ("role", "user")))] == 1
    # The default registry also carries the process collector, which multiprocess mode cannot.
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)
