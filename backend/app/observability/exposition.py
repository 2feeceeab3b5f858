"""The /metrics body, in single-process or prometheus-client multiprocess mode.

With several worker processes (uvicorn --workers, gunicorn) each worker keeps its own counters; set
PROMETHEUS_MULTIPROC_DIR to an empty, writable folder before the workers start and every worker writes
its values there, so that whichever worker answers a scrape reports the sum over all of them.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The folder shared by the workers, when multiprocess mode is on."""
    return os.environ.get(MULTIPROC_ENV) or None


def render_metrics() -> tuple[bytes, str]:
    """Body and content type for a scrape of /metrics."""
    if multiprocess_dir():
        # A fresh registry per scrape: MultiProcessCollector reads the files of every live and dead worker.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead() -> None:
    """On worker exit: drop this worker's live gauges (open sockets, active sessions) from the totals."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())
