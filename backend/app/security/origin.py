"""Which browser pages may open a WebSocket: the server's own origin and CORS_ORIGINS.

A WebSocket handshake is not subject to CORS, so without this check any page a customer visits could
open `/ws` with a token it obtained. Clients that send no Origin (integrators' servers, CLI tools) are
not browsers and are let through; their token is their authority.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def websocket_origin_allowed(scope: Scope, allowed_origins: list[str]) -> bool:
    origin = _header(scope, b"origin")
    if origin is None or "*" in allowed_origins:
        return True
    normalised = origin.rstrip("/").lower()
    if normalised in {o.rstrip("/").lower() for o in allowed_origins}:
        return True
    # Same origin: the widget and chat page the server itself serves (its Host, as the browser sent it).
    host = _header(scope, b"host")
    return host is not None and urlsplit(normalised).netloc == host.lower()
