"""Cheap checks on non-multipart request bodies before any JSON parser sees them.

- Size: JSON (and any other non-multipart) body is capped at MAX_JSON_BODY_BYTES (413); multipart
  uploads keep the larger per-request cap of RequestContextMiddleware.
- Shape: nesting depth and number of keys are counted with two C-speed regex passes over the raw bytes
  (strings blanked first), so a body nested 100,000 deep or holding a million keys is refused (400)
  without building it.
- Text: a `\\u0000` escape or an unpaired UTF-16 surrogate escape would decode to a str that PostgreSQL
  cannot store (NUL) or asyncpg cannot encode (lone surrogate); a body with either is refused here (422
  `invalid_characters`), whatever the field, IDs included. WebSocket frames get the same check.
  Raw NUL bytes and invalid UTF-8 already fail JSON parsing (400).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import error_body
from app.observability import metrics
from app.security.origin import websocket_origin_allowed

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def body_problem(body: bytes, max_depth: int, max_keys: int) -> tuple[int, str, str] | None:
    """(status, code, detail) when the raw JSON body must be refused, else None."""
    skeleton = _STRING.sub(b'""', body)
    if skeleton.count(b":") > max_keys:
        return 400, "json_too_many_keys", f"JSON body has more than {max_keys} keys"
    depth = deepest = 0
    for bracket in _BRACKET.finditer(skeleton):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > deepest:
            deepest = depth
            if deepest > max_depth:
                return 400, "json_too_deep", f"JSON body is nested deeper than {max_depth} levels"
    return None


_REPLACEMENT = b"\\ufffd"
_INVALID_TEXT = "Text may not contain NUL characters or unpaired surrogates"


def clean_text_escapes(body: bytes) -> bytes:
    """The body with every `\\u0000` and unpaired surrogate escape replaced by `\\ufffd`."""
    if b"\\u" not in body:
        return body
    escapes = list(_ESCAPE.finditer(body))
    codes = [int(m.group(1), 16) if m.group(1) is not None else -1 for m in escapes]
    bad: list[re.Match[bytes]] = []
    for i, (match, code) in enumerate(zip(escapes, codes, strict=True)):
        paired_high = (0xD800 <= code <= 0xDBFF and i + 1 < len(escapes) and escapes[i + 1].start() == match.end()
                       and 0xDC00 <= codes[i + 1] <= 0xDFFF)
        paired_low = (0xDC00 <= code <= 0xDFFF and i > 0 and escapes[i - 1].end() == match.start()
                      and 0xD800 <= codes[i - 1] <= 0xDBFF)
        if code == 0 or (0xD800 <= code <= 0xDBFF and not paired_high) or (0xDC00 <= code <= 0xDFFF and not paired_low):
            bad.append(match)
    if not bad:
        return body
    parts, last = [], 0
    for match in bad:
        parts += [body[last:match.start()], _REPLACEMENT]
        last = match.end()
    parts.append(body[last:])
    return b"".join(parts)


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.max_json_body_bytes
        self.max_depth = settings.max_json_depth
        self.max_keys = settings.max_json_keys
        self.allowed_origins = settings.cors_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not websocket_origin_allowed(scope, self.allowed_origins):
            metrics.ERRORS.labels(type="websocket_origin_refused").inc()
            await send({"type": "websocket.close", "code": 4403})  # before accept: the handshake gets 403
            return
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        content_type = b""
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                content_type = value.split(b";")[0].strip().lower()
            elif name == b"content-length" and value.isdigit():
                declared = int(value)
        if content_type == b"multipart/form-data":
            await self.app(scope, receive, send)  # uploads: RequestContextMiddleware's larger cap applies
            return
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, 413, "payload_too_large", f"Request body exceeds {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, "payload_too_large", f"Request body exceeds {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if content_type.endswith(b"json"):
            problem = body_problem(body, self.max_depth, self.max_keys)
            if problem is not None:
                await _refuse(send, *problem)
                return
            if clean_text_escapes(body) is not body:
                await _refuse(send, 422, "invalid_characters", _INVALID_TEXT)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    metrics.ERRORS.labels(type=code).inc()
    payload = json.dumps(error_body(status, detail, code)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
