"""Per-session bearer tokens: shown once at creation, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import HTTPConnection


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # The token carries 256 random bits, so a plain SHA-256 is enough (no salt or stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def token_from(conn: HTTPConnection) -> str | None:
    """`Authorization: Bearer <token>` or `X-Session-Token: <token>`."""
    auth = conn.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    header = conn.headers.get("x-session-token", "").strip()
    return header or None
