"""Staff login: `POST /auth/login` (JSON `{"username", "password"}` or the OAuth2 password form) -> a JWT."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.deps import ServicesDep
from app.errors import AppError, Unauthorized, Unprocessable, UnsupportedMediaType, error_body
from app.observability import metrics
from app.security import staff_tokens
from app.staff.deps import CurrentStaff
from app.staff.schemas import LoginRequest, StaffPublic, TokenResponse

log = logging.getLogger("app.staff.auth")
router = APIRouter(tags=["staff"])

_LOGIN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": LoginRequest.model_json_schema()},
    "application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "string"},
                       "grant_type": {"type": "string"}, "scope": {"type": "string"}}}},
}}}
_WRONG = "Incorrect email or password"


async def _credentials(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if len(raw) > 8192:
        raise AppError("Login body too large", code="payload_too_large", status_code=413)
    if content_type == "application/json":
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise AppError("Request body is not valid JSON", code="malformed_json") from exc
    elif content_type == "application/x-www-form-urlencoded":
        form = await request.form(max_fields=10)
        payload = {k: v for k, v in form.items() if k in ("username", "password") and isinstance(v, str)}
    else:
        raise UnsupportedMediaType("Send JSON or an OAuth2 password form", code="unsupported_content_type")
    try:
        return LoginRequest.model_validate(payload)
    except ValidationError as exc:
        raise Unprocessable([{"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
                             for e in exc.errors(include_input=False)]) from exc


@router.post("/auth/login", response_model=TokenResponse, openapi_extra=_LOGIN_BODY,
             responses={401: {"description": "Wrong email or password"},
                        429: {"description": "Too many failed logins for this account or client"}})
async def login(request: Request, services: ServicesDep) -> TokenResponse | JSONResponse:
    """The same 401 and the same work for an unknown email as for a wrong password."""
    creds = await _credentials(request)
    client = request.client.host if request.client else "unknown"
    throttle = services.staff.throttle
    wait = await throttle.retry_after(creds.username, client)
    if wait is not None:
        metrics.STAFF_LOGINS.labels(outcome="throttled").inc()
        return JSONResponse(error_body(429, f"Too many failed logins; retry in {wait} s", "login_throttled"),
                            status_code=429, headers={"Retry-After": str(wait)})
    user = await services.staff.users.authenticate(creds.username, creds.password)
    if user is None:
        await throttle.failed(creds.username, client)
        metrics.STAFF_LOGINS.labels(outcome="failed").inc()
        log.info("staff.login.failed")  # never the password, nor the email typed
        raise Unauthorized(_WRONG, code="invalid_credentials")
    token, ttl = staff_tokens.issue(services.settings.secret_key, user.id, user.role,
                                    services.settings.staff_token_ttl_seconds)
    metrics.STAFF_LOGINS.labels(outcome="ok").inc()
    log.info("staff.login.ok", extra={"role": user.role})
    return TokenResponse(access_token=token, expires_in=ttl)


@router.get("/auth/me", response_model=StaffPublic, responses={401: {"description": "No valid staff token"}})
async def me(user: CurrentStaff) -> StaffPublic:
    return StaffPublic.model_validate(user, from_attributes=True)
