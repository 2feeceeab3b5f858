"""Liveness, readiness and a detailed view of every dependency with its latency."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app import __version__
from app.deps import services_of
from app.errors import ServiceUnavailable
from app.health.checks import check_dependencies
from app.state import Services

router = APIRouter(prefix="/health", tags=["health"])


def _services(request: Request) -> Services | None:
    try:
        return services_of(request.app)
    except ServiceUnavailable:
        return None  # starting: these routes answer with their own "not ready" body


@router.get("/")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "ready": _services(request) is not None}


@router.get("/liveness")
async def liveness() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readiness")
async def readiness(request: Request) -> JSONResponse:
    services = _services(request)
    if services is None:
        return JSONResponse({"status": "not_ready", "checks": {}}, status_code=503)
    checks = await check_dependencies(services)
    ready = all(c["status"] == "ok" for c in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready",
                         "checks": {k: v["status"] for k, v in checks.items()}},
                        status_code=200 if ready else 503)


@router.get("/detailed")
async def detailed(request: Request) -> JSONResponse:
    services = _services(request)
    if services is None:
        return JSONResponse({"status": "starting", "components": {}}, status_code=503)
    checks = await check_dependencies(services)
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
