"""Serves the built widget (frontend/dist): the SPA at `/`, the embed loader at `/widget.js`, a demo
host page at `/demo`, the support console at `/console`, and `/web/config` (the limits the widget checks
before it uploads anything, and the look an admin set in the console).

The production image builds frontend/dist in a stage of backend/Dockerfile and every replica serves it,
as `make run` does: one process, no separate web server. A missing build is not fatal: the API starts,
logs `web.dist.missing` and these pages answer
503 with the command that builds them.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.routing import Match

from app.config import REPO_ROOT
from app.staff import widget_settings
from app.staff.widget_settings import WidgetSettings

log = logging.getLogger("app.web")

DIST_DIR = REPO_ROOT / "frontend" / "dist"
_DEMO_PAGE = Path(__file__).with_name("demo.html")
# The SPA renders server text as sanitised Markdown; this policy is the second line of defence: no
# inline scripts or handlers run even if something slipped through. No frame-ancestors: the widget's
# iframe is meant to be embedded on any site.
_SPA_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'")
_HASHED_ASSET = "public, max-age=31536000, immutable"

router = APIRouter(tags=["web"])


class WidgetConfig(BaseModel):
    """What the widget needs to refuse bad input before sending it (mirrors the chat limits)."""

    max_message_chars: int
    max_attachment_bytes: int
    max_attachments_per_message: int
    allowed_attachment_types: list[str]
    websocket: bool
    appearance: WidgetSettings = Field(default_factory=WidgetSettings,
                                       description="Title, colour, welcome text and suggested questions (console)")


def log_dist_status(dist: Path = DIST_DIR) -> None:
    """Say at start whether the widget can be served, and how to build it when it cannot."""
    if (dist / "index.html").is_file():
        log.info("web.dist.found", extra={"path": str(dist)})
    else:
        log.warning("web.dist.missing", extra={
            "path": str(dist),
            "hint": "the chat widget is not built: run `make run`, or `cd frontend && npm ci && npm run build`"})


def _not_built() -> JSONResponse:
    return JSONResponse(status_code=503, content={
        "detail": "The chat widget is not built. Run `make run` or `cd frontend && npm ci && npm run build`.",
        "code": "frontend_not_built"})


def _dist_file(relative: str, media_type: str | None = None, cache: str = "no-cache",
               headers: dict[str, str] | None = None) -> Response:
    path = DIST_DIR / relative
    if not path.is_file():
        return _not_built()
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache, **(headers or {})})


@router.get("/web/config", response_model=WidgetConfig)
async def widget_config(request: Request) -> WidgetConfig:
    settings = request.app.state.settings
    # Ask the router itself (routes may sit inside included routers): is a WebSocket served at /ws?
    probe = {"type": "websocket", "path": "/ws", "root_path": "", "path_params": {}, "headers": [],
             "query_string": b""}
    has_ws = any(route.matches(probe)[0] == Match.FULL for route in request.app.routes)
    appearance = WidgetSettings()
    services = getattr(request.app.state, "services", None)
    if services is not None:
        try:
            appearance = await widget_settings.load(services.db)
        except Exception as exc:  # the database is down: the widget still opens, with the defaults
            log.warning("web.config.appearance_failed", extra={"error_type": type(exc).__name__})
    return WidgetConfig(appearance=appearance, max_message_chars=settings.max_message_chars,
                        max_attachment_bytes=settings.max_attachment_bytes,
                        max_attachments_per_message=settings.max_attachments_per_message,
                        allowed_attachment_types=settings.allowed_attachment_types, websocket=has_ws)


@router.get("/", include_in_schema=False)
async def spa_index() -> Response:
    return _dist_file("index.html", "text/html", headers={"Content-Security-Policy": _SPA_CSP})


@router.get("/console", include_in_schema=False)
async def console_index() -> Response:
    """The support console (frontend/console.html): staff log in here; it routes inside the page (#/...)."""
    return _dist_file("console.html", "text/html", headers={"Content-Security-Policy": _SPA_CSP})


@router.get("/widget.js", include_in_schema=False)
async def widget_loader() -> Response:
    # Short cache: sites embed this fixed URL, so a new release must reach them within minutes.
    return _dist_file("widget.js", "text/javascript", cache="public, max-age=300")


@router.get("/assets/{name}", include_in_schema=False)
async def spa_asset(name: str) -> Response:
    # One flat folder of content-hashed files: anything with a slash or dot-dot is not one of them.
    if "/" in name or "\\" in name or name.startswith("."):
        return JSONResponse(status_code=404, content={"detail": "Not Found", "code": "not_found"})
    path = DIST_DIR / "assets" / name
    if not path.is_file():
        return JSONResponse(status_code=404, content={"detail": "Not Found", "code": "not_found"})
    return FileResponse(path, headers={"Cache-Control": _HASHED_ASSET})


@router.get("/demo", include_in_schema=False)
async def demo_page(request: Request) -> Response:
    """A made-up company page with hostile CSS that embeds the widget with one script tag."""
    if not (DIST_DIR / "widget.js").is_file():
        return _not_built()
    api_url = html.escape(str(request.base_url).rstrip("/"), quote=True)
    return HTMLResponse(_DEMO_PAGE.read_text(encoding="utf-8").replace("{{API_URL}}", api_url),
                        headers={"Cache-Control": "no-cache"})
