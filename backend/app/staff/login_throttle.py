"""Slow down password guessing: failed logins counted per account and per client (the `limits` library).

Counts live where the API's rate limits do: Redis when REDIS_URL is set (every instance sees the same
failures), else in process.
Only failures count, so a user who types the password right is never held back by others' attempts
on a different account; an account under attack answers 429 until its window passes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from app.config import Settings
from app.security.rate_limit import build_storage

log = logging.getLogger("app.staff.login")


class LoginThrottle:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        # The same counter store as the API's rate limits (RATE_LIMIT_STORAGE), keys namespaced apart.
        storage = storage or build_storage(settings)
        self.limiter = MovingWindowRateLimiter(storage)
        self.per_account = parse(settings.login_failure_limit_account)
        self.per_client = parse(settings.login_failure_limit_client)

    def _keys(self, email: str, client: str) -> list[tuple[RateLimitItem, str, str]]:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]  # no emails in Redis keys
        return [(self.per_account, "login-account", account), (self.per_client, "login-client", client)]

    async def retry_after(self, email: str, client: str) -> int | None:
        """Seconds to wait when this account or client has used up its failures, else None."""
        try:
            for item, kind, key in self._keys(email, client):
                if not await self.limiter.test(item, kind, key):
                    stats = await self.limiter.get_window_stats(item, kind, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:  # a lost Redis must not lock every staff member out
            log.warning("staff.login.throttle_unavailable", extra={"error_type": type(exc).__name__})
        return None

    async def failed(self, email: str, client: str) -> None:
        try:
            for item, kind, key in self._keys(email, client):
                await self.limiter.hit(item, kind, key)
        except Exception as exc:
            log.warning("staff.login.throttle_unavailable", extra={"error_type": type(exc).__name__})
