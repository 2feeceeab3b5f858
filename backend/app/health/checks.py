"""The dependency checks behind /health/readiness, /health/detailed and the background probe."""

from __future__ import annotations

import time
from typing import Any

import anyio

from app.db.migrate import current_revision, head_revision
from app.state import Services


async def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = await check()
        status = "ok"
    except Exception as exc:
        detail, status = {"error": type(exc).__name__}, "error"
    result = {"status": status, "latency_ms": round((time.perf_counter() - start) * 1000, 2)}
    if detail:
        result.update(detail)
    return result


async def check_dependencies(services: Services) -> dict[str, dict[str, Any]]:
    """Each dependency's status and latency (the same checks for the routes and the probe)."""
    async def database() -> dict[str, Any]:
        await services.db.ping()
        revision = await current_revision(services.db.engine)
        if revision != head_revision():
            raise RuntimeError("migrations not applied")
        return {"backend": services.db.engine.dialect.name, "revision": revision}

    async def vector_store() -> dict[str, Any]:
        # A real query, not only a heartbeat: a store that is up but cannot answer searches is not ready.
        await anyio.to_thread.run_sync(services.store.heartbeat)
        detail = await anyio.to_thread.run_sync(services.store.probe, services.embedder.dimension)
        return {"mode": services.store.mode, **detail}

    async def embedder() -> dict[str, Any]:
        if not services.readiness.embedder_loaded:
            raise RuntimeError("model not loaded")
        return {"model": services.embedder.name, "dimension": services.embedder.dimension}

    checks = {"database": await _timed(database), "vector_store": await _timed(vector_store),
              "embedder": await _timed(embedder)}
    sessions = services.sessions
    if sessions.distributed:
        async def redis() -> dict[str, Any]:
            await sessions.ping()
            return {"role": "session store"}

        checks["redis"] = await _timed(redis)
    return checks
