"""Rate limits per client address and per session, as ASGI middleware in front of every route.

Counting is the `limits` library's moving window: in Redis (shared by every instance, one Lua call
per hit) when REDIS_URL is set, else in process. The middleware matches the route itself, so a
rejected request costs one counter lookup: its body is never read and no handler runs.

A session's bucket is keyed on the session id *and* a hash of the token presented, so a client that
guesses or sees a session id without its token cannot use up that customer's allowance. A WebSocket
`message` frame is counted by the socket handler (`RateLimits.message_over_limit`) in the same buckets
as a REST message: one allowance per client and per session, whichever transport carries the messages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import error_body
from app.observability import metrics

log = logging.getLogger("app.security.rate_limit")

MESSAGES_ROUTE = "/chat/sessions/{session_id}/messages"


@dataclass(frozen=True)
class Rule:
    kind: str  # names the setting, e.g. `messages` for RATE_LIMIT_MESSAGES
    item: RateLimitItem
    per_session: bool


def rules_from(settings: Settings) -> dict[tuple[str, str], Rule]:
    """(method, route template) -> rule. Routes not listed here are not limited (metrics, static files)."""
    def rule(kind: str, per_session: bool = False) -> Rule:
        return Rule(kind, parse(getattr(settings, f"rate_limit_{kind}")), per_session)

    health = rule("health")
    reads = rule("session_reads", per_session=True)
    return {
        ("POST", "/chat/sessions"): rule("session_create"),
        ("POST", MESSAGES_ROUTE): rule("messages", per_session=True),
        ("POST", "/chat/sessions/{session_id}/attachments"): rule("uploads", per_session=True),
        ("GET", "/chat/sessions/{session_id}"): reads,
        ("GET", "/chat/sessions/{session_id}/history"): reads,
        ("DELETE", "/chat/sessions/{session_id}"): reads,
        ("POST", "/knowledge/search"): rule("knowledge_search"),
        ("WEBSOCKET", "/ws"): rule("ws_connect"),
        **{("GET", path): health for path in
           ("/health/", "/health/liveness", "/health/readiness", "/health/detailed")},
    }


def build_storage(settings: Settings) -> Storage:
    backend = settings.rate_limit_storage
    if backend == "auto":
        backend = "redis" if settings.redis_url else "memory"
    if backend == "memory":
        return MemoryStorage()
    if not settings.redis_url:
        raise ValueError("RATE_LIMIT_STORAGE=redis needs REDIS_URL")
    timeout = settings.redis_socket_timeout_seconds
    return RedisStorage(f"async+{settings.redis_url}", implementation="redispy",
                        key_prefix=f"{settings.redis_key_prefix}ratelimit", socket_timeout=timeout,
                        socket_connect_timeout=timeout)


class RateLimits:
    """The rules and their counters: used by the middleware for every request, and by the WebSocket for
    each `message` frame (a socket's messages spend the same per-client and per-session allowance as REST)."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.enabled = settings.rate_limits_enabled
        self.rules = rules_from(settings) if self.enabled else {}
        self.limiter = MovingWindowRateLimiter(storage)
        self._store_failed_at = 0.0

    async def over_limit(self, rule: Rule, client: str, session_key: str | None = None) -> int | None:
        """Seconds until the next hit is allowed, or None when this one may go through (and is counted).
        `session_key` is `session_key(session_id, token)` for a per-session rule."""
        keys = [("ip", client)]
        if rule.per_session and session_key is not None:
            keys.append(("session", session_key))
        try:
            for scope_name, key in keys:
                if not await self.limiter.hit(rule.item, rule.kind, scope_name, key):
                    stats = await self.limiter.get_window_stats(rule.item, rule.kind, scope_name, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:
            # A lost Redis must not take the API down with it: let the request through, log once a minute.
            if time.monotonic() - self._store_failed_at > 60:
                self._store_failed_at = time.monotonic()
                log.warning("rate_limit.storage.unavailable", extra={"error_type": type(exc).__name__})
        return None

    async def message_over_limit(self, client: str, session_id: str, token: str) -> int | None:
        """A WebSocket `message` frame, counted as one POST .../messages of that session and client."""
        rule = self.rules.get(("POST", MESSAGES_ROUTE))
        if rule is None:
            return None
        retry_after = await self.over_limit(rule, client, session_key(session_id, token))
        if retry_after is not None:
            metrics.RATE_LIMIT_REJECTIONS.labels(route="/ws", kind=rule.kind).inc()
        return retry_after


class RateLimitMiddleware:
    """429 `rate_limited` with Retry-After once a client or session is over its allowance."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits
        # Matched on the templates themselves: routing has not run yet, and nothing else is needed.
        self._patterns = {key: (compile_path(key[1])[0], rule) for key, rule in limits.rules.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.limits.enabled or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        matched = self._match(scope)
        if matched is not None:
            template, rule, session_id = matched
            client = scope.get("client")
            key = session_key(session_id, _presented_token(scope)) if session_id is not None else None
            retry_after = await self.limits.over_limit(rule, client[0] if client else "unknown", key)
            if retry_after is not None:
                metrics.RATE_LIMIT_REJECTIONS.labels(route=template, kind=rule.kind).inc()
                await _reject(scope, send, retry_after)
                return
        await self.app(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[str, Rule, str | None] | None:
        method = "WEBSOCKET" if scope["type"] == "websocket" else scope.get("method", "GET")
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        for (rule_method, template), (pattern, rule) in self._patterns.items():
            found = pattern.match(path) if rule_method == method else None
            if found:
                return template, rule, found.groupdict().get("session_id")
        return None


def session_key(session_id: str, token: str) -> str:
    """A session's bucket: its id and a hash of the token presented (REST header or WebSocket)."""
    return f"{session_id}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


def _presented_token(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name in (b"authorization", b"x-session-token"):
            token = value.decode("latin-1").strip()
            # The bare token, so a header and a WebSocket's ?token= / auth frame share one bucket.
            return token[7:].strip() if name == b"authorization" and token[:7].lower() == "bearer " else token
    return ""


async def _reject(scope: Scope, send: Send, retry_after: int) -> None:
    body = json.dumps(error_body(429, f"Too many requests; retry in {retry_after} s", "rate_limited")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(retry_after).encode())]
    if scope["type"] == "websocket":
        if "websocket.http.response" in scope.get("extensions", {}):
            # Refuse the handshake with a real 429 the client can read.
            await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 4429})
        return
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
