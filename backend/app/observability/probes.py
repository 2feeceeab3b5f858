"""Background dependency probe: runs the /health/detailed checks on a timer and exports the results.

Alerts need a signal that exists without anyone calling /health: `dependency_up{dependency}` and
`dependency_check_seconds{dependency}` are refreshed every HEALTH_PROBE_INTERVAL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from app.health.checks import check_dependencies
from app.observability import metrics
from app.state import Services

log = logging.getLogger("app.health.probe")


async def probe_once(services: Services) -> dict[str, bool]:
    """Run every dependency check once and update the gauges; returns dependency -> up."""
    results = await check_dependencies(services)
    states: dict[str, bool] = {}
    for name, result in results.items():
        up = result.get("status") == "ok"
        states[name] = up
        # Names come from the fixed set of checks (database, vector_store, embedder, redis...).
        metrics.DEPENDENCY_UP.labels(dependency=name).set(1 if up else 0)
        metrics.DEPENDENCY_CHECK_SECONDS.labels(dependency=name).set(float(result.get("latency_ms", 0)) / 1000)
    return states


async def _loop(services: Services, interval: float) -> None:
    previous: dict[str, bool] = {}
    while True:
        try:
            states = await probe_once(services)
        except Exception:  # the probe must never die; the next round tries again
            log.exception("health.probe.failed")
            states = {}
        for name, up in states.items():
            if previous.get(name, True) != up:
                log.warning("health.dependency.changed", extra={"dependency": name, "up": up})
        previous = states or previous
        await asyncio.sleep(interval)


@asynccontextmanager
async def dependency_probe(services: Services, interval: float) -> AsyncIterator[None]:
    """Probe while the app runs; an interval of 0 turns the probe off."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_loop(services, interval), name="dependency-probe")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
