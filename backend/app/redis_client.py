"""The one Redis client of the process, built in the lifespan and handed to the session store, the
session locks, the realtime bus and the query cache (closed by the lifespan, never by its users)."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import Settings


def connect(url: str, socket_timeout: float, max_connections: int = 100) -> Redis:
    """A client that fails fast: short timeouts and one immediate retry (to replace a dead pooled socket).

    Bursts beyond the pool wait briefly for a free connection instead of failing at once.
    """
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=socket_timeout * 3, socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout, retry=Retry(NoBackoff(), 1), health_check_interval=30)
    return Redis.from_pool(pool)  # closing the client closes the pool too


def build_redis(settings: Settings) -> Redis | None:
    """The client for REDIS_URL, or None without one. Nothing connects until the first command."""
    if not settings.redis_url:
        return None
    return connect(settings.redis_url, settings.redis_socket_timeout_seconds)
