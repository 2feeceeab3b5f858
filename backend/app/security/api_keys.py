"""Integrator API keys with scopes, from settings (`key:scope+scope`), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from app.errors import AppError, Unauthorized


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


@dataclass(frozen=True)
class ApiKey:
    digest: bytes
    scopes: frozenset[str]
    label: str  # a short hash, safe for logs


def parse_api_keys(entries: list[str]) -> list[ApiKey]:
    keys = []
    for entry in entries:
        key, _, scopes = entry.partition(":")
        key = key.strip()
        if len(key) < 16:
            raise ValueError("API_KEYS entries need a key of at least 16 characters")
        digest = hashlib.sha256(key.encode()).digest()
        keys.append(ApiKey(digest, frozenset(s.strip() for s in scopes.split("+") if s.strip()),
                           digest.hex()[:8]))
    return keys


def presented_key(conn: HTTPConnection) -> str | None:
    """`X-API-Key: <key>` or `Authorization: Bearer <key>`."""
    header = conn.headers.get("x-api-key", "").strip()
    if header:
        return header
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authorise(keys: list[ApiKey], presented: str | None, scope: str) -> ApiKey:
    """401 without a known key, 403 with a known key that lacks the scope."""
    if not presented:
        raise Unauthorized("Missing API key", code="missing_api_key")
    digest = hashlib.sha256(presented.encode()).digest()
    match = None
    for key in keys:  # compare against every key so the time does not depend on which one matched
        if hmac.compare_digest(digest, key.digest):
            match = key
    if match is None:
        raise Unauthorized("Invalid API key", code="invalid_api_key")
    if scope not in match.scopes:
        raise Forbidden(f"This API key lacks the '{scope}' scope", code="missing_scope")
    return match
