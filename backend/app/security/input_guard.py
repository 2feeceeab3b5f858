"""Cheap checks on non-multipart request bodies before any JSON parser sees them.

- Size: JSON (and any other non-multipart) body is capped at MAX_JSON_BODY_BYTES (413); multipart
  uploads keep the larger per-request cap of RequestContextMiddleware.
- Shape: nesting depth and number of keys are counted with two C-speed regex passes over the raw bytes
  (strings blanked first), so a body nested 100,000 deep or holding a million keys is refused (400)
  without building it.
- Text: a `\\u0000` escape or an unpaired UTF-16 surrogate escape would decode to a str that PostgreSQL
  cannot store (NUL) or asyncpg cannot encode (lone surrogate); both are refused here (422), for every
  field, IDs included. Raw NUL bytes and invalid UTF-8 already fail JSON parsing (400).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import error_body
from app.observability import metrics

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def body_problem(body: bytes, max_depth: int, max_keys: int) -> tuple[int, str, str] | None:
    """(status, code, detail) when the raw JSON body must be refused, else None."""
    if b"\\" in body:
        problem = _escape_problem(body)
        if problem:
            return 422, "invalid_characters", problem
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


def _escape_problem(body: bytes) -> str | None:
    pending_high = False
    for escape in _ESCAPE.finditer(body):
        hex_code = escape.group(1)
        code = int(hex_code, 16) if hex_code is not None else -1
        if pending_high and not 0xDC00 <= code <= 0xDFFF:
            return "Text may not contain unpaired surrogate characters"
        if code == 0:
            return "Text may not contain NUL characters"
        if 0xDC00 <= code <= 0xDFFF and not pending_high:
            return "Text may not contain unpaired surrogate characters"
        pending_high = 0xD800 <= code <= 0xDBFF
        # A high surrogate must be followed at once by its low half: check adjacency too.
        if pending_high and body[escape.end():escape.end() + 2] != b"\\u":
            return "Text may not contain unpaired surrogate characters"
    return "Text may not contain unpaired surrogate characters" if pending_high else None


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.max_json_body_bytes
        self.max_depth = settings.max_json_depth
        self.max_keys = settings.max_json_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        problem = body_problem(body, self.max_depth, self.max_keys) if content_type.endswith(b"json") else None
        if problem is not None:
            await _refuse(send, *problem)
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
