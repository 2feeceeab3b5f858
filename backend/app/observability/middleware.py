"""Request id, timing, body size limit and HTTP metrics, as pure ASGI middleware (streams untouched)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_body
from app.observability import metrics
from app.observability.context import request_id_var, session_hash_var

log = logging.getLogger("app.http")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Gives every request an id (kept from `X-Request-ID` when sane), times it and counts it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        sess_token = session_hash_var.set(None)
        start = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = 1
                elapsed_ms = (time.perf_counter() - start) * 1000
                extra = [(b"x-request-id", request_id.encode()),
                         (b"x-response-time-ms", f"{elapsed_ms:.1f}".encode())]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._reject_too_large(send, request_id, status_holder)
                return
            await self.app(scope, self._limited(receive), send_wrapper)
        except _BodyTooLarge:
            await self._reject_too_large(send, request_id, status_holder)
        except Exception:
            # Rendered here, not by the outermost error middleware, so that the 500 body, its headers
            # and the log line still carry this request's id.
            if "started" in status_holder:
                raise
            metrics.ERRORS.labels(type="internal").inc()
            log.exception("request.failed")
            await self._send_json(send, request_id, status_holder, 500,
                                  error_body(500, "Internal server error", "internal_error"))
        finally:
            duration = time.perf_counter() - start
            route = _route_template(scope)
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(method=method, route=route, status=str(status_holder["status"])).inc()
            metrics.HTTP_REQUEST_DURATION.labels(method=method, route=route).observe(duration)
            if route not in ("/metrics", "/health/liveness", "/health/readiness"):
                log.info("http.request", extra={"method": method, "route": route,
                                                 "status": status_holder["status"],
                                                 "duration_ms": round(duration * 1000, 2)})
            request_id_var.reset(rid_token)
            session_hash_var.reset(sess_token)

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def wrapped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        return wrapped

    async def _reject_too_large(self, send: Send, request_id: str, holder: dict[str, Any]) -> None:
        metrics.ERRORS.labels(type="payload_too_large").inc()
        await self._send_json(send, request_id, holder, 413,
                              error_body(413, f"Request body exceeds {self.max_body_bytes} bytes",
                                         "payload_too_large"))

    @staticmethod
    async def _send_json(send: Send, request_id: str, holder: dict[str, Any], status: int,
                         payload: dict[str, Any]) -> None:
        holder["status"] = status
        body = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"x-request-id", request_id.encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(StarletteHTTPException):
    """An HTTPException so that FastAPI's body parsing re-raises it instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"Request body exceeds {limit} bytes")


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/chat/sessions/{session_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "unmatched"
