"""Liveness, readiness and a detailed view of every dependency with its latency."""

from __future__ import annotations

import time
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app import __version__
from app.db.migrate import current_revision, head_revision
from app.state import Services

router = APIRouter(prefix="/health", tags=["health"])


def _services(request: Request) -> Services | None:
    return getattr(request.app.state, "services", None)


@router.get("/")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "ready": _services(request) is not None}


@router.get("/liveness")
async def liveness() -> dict[str, str]:
    return {"status": "alive"}


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


async def _checks(services: Services) -> dict[str, dict[str, Any]]:
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
    if sessions is not None and sessions.distributed:
        async def redis() -> dict[str, Any]:
            await sessions.ping()
            return {"role": "session store"}

        checks["redis"] = await _timed(redis)
    return checks


@router.get("/readiness")
async def readiness(request: Request) -> JSONResponse:
    services = _services(request)
    if services is None:
        return JSONResponse({"status": "not_ready", "checks": {}}, status_code=503)
    checks = await _checks(services)
    ready = all(c["status"] == "ok" for c in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready",
                         "checks": {k: v["status"] for k, v in checks.items()}},
                        status_code=200 if ready else 503)


@router.get("/detailed")
async def detailed(request: Request) -> JSONResponse:
    services = _services(request)
    if services is None:
        return JSONResponse({"status": "starting", "components": {}}, status_code=503)
    checks = await _checks(services)
    healthy = all(c["status"] == "ok" for c in checks.values())
    # The model is shown, not required: without it the built-in responder answers (degraded replies).
    provider_status = getattr(services.agent.provider, "status", None)
    llm = provider_status() if provider_status is not None else {"status": "ok", "provider": "local"}
    overall = "unhealthy" if not healthy else "degraded" if llm["status"] != "ok" else "healthy"
    return JSONResponse({
        "status": overall, "version": __version__, "llm": llm,
        "environment": services.settings.environment,
        "startup_seconds": services.readiness.startup_seconds,
        "components": checks,
    }, status_code=200 if healthy else 503)


async def check_dependencies(services: Services) -> dict[str, dict[str, Any]]:
    """The same checks as /health/detailed, for the background probe behind the dependency_up metric."""
    return await _checks(services)
