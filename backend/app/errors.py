"""Domain errors carry their HTTP status; one set of handlers renders every error the same way."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.observability import metrics
from app.observability.context import request_id_var

log = logging.getLogger("app.errors")


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: Any, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(AppError):
    status_code = 422
    code = "validation_error"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
    429: "rate_limited", 503: "service_unavailable",
}


def error_body(status: int, detail: Any, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code, "request_id": request_id_var.get()}


def _json(status: int, detail: Any, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, detail, code), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        metrics.ERRORS.labels(type=exc.code).inc()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return _json(exc.status_code, exc.detail, exc.code, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Routing answers with the methods of the first route on the path only; list them all.
            from app.api_docs import allowed_methods

            methods = allowed_methods(app, request.url.path)
            if methods:
                headers = {**(headers or {}), "Allow": ", ".join(methods)}
        return _json(exc.status_code, exc.detail, code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            metrics.ERRORS.labels(type="malformed_json").inc()
            return _json(400, "Request body is not valid JSON", "malformed_json")
        metrics.ERRORS.labels(type="validation_error").inc()
        # Keep the location and message of each problem; drop echoed input (it may be huge or secret).
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                    for e in exc.errors()]
        return _json(422, problems, "validation_error")

    @app.exception_handler(Exception)
    async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
        metrics.ERRORS.labels(type="internal").inc()
        log.exception("request.failed", extra={"error_type": type(exc).__name__})
        return _json(500, "Internal server error", "internal_error")
