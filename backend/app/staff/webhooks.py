"""Signed outbound webhooks for handoff events, through an outbox table.

An event is written as a `webhook_deliveries` row in the same transaction as the change it reports, so
it is sent only if that change committed and is never lost if the process dies. A sender task per
instance claims due rows (a conditional UPDATE, so two instances never send one row at the same time),
POSTs them, and records every attempt; failures are retried with exponential backoff up to
WEBHOOK_MAX_ATTEMPTS. A turn never waits for a delivery.

Signature: header `X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
WEBHOOK_SECRET; receivers recompute it and refuse timestamps older than a few minutes (replay).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.engine import Database
from app.db.models import WebhookDelivery, utcnow
from app.observability import metrics

log = logging.getLogger("app.staff.webhooks")

EVENTS = frozenset({"conversation.handoff", "conversation.assigned", "conversation.resolved",
                    "conversation.returned_to_bot", "message.created", "conversation.rated"})
LEASE_SECONDS = 60  # a claimed row another instance died holding becomes due again after this
MAX_BACKOFF_SECONDS = 600


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (used by the tests; documented in docs/api.md)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class Webhooks:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.enabled = bool(settings.webhook_url)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def enqueue(self, db: AsyncSession, event: str, data: dict[str, Any]) -> None:
        """Add the event to the outbox inside the caller's transaction (nothing when webhooks are off)."""
        assert event in EVENTS, event
        if not self.enabled:
            return
        db.add(WebhookDelivery(id=uuid.uuid4(), event=event, status="pending", attempts=0,
                               payload={"event": event, "created_at": utcnow().isoformat(), "data": data}))

    def wake(self) -> None:
        """Called after the transaction committed: send now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        if self.enabled:
            self._client = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds, follow_redirects=False)
            self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                while await self.send_due():
                    pass
            except Exception:
                log.exception("webhook.sender.failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self, batch: int = 20) -> int:
        """Send up to `batch` due deliveries; returns how many were attempted."""
        now = utcnow()
        async with self.db.sessionmaker() as s:
            ids = list(await s.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.status.in_(("pending", "sending")),
                                                 WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at).limit(batch)))
        attempted = 0
        for delivery_id in ids:
            row = await self._claim(delivery_id)
            if row is not None:
                await self._attempt(row)
                attempted += 1
        return attempted

    async def _claim(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        now = utcnow()
        async with self.db.transaction() as s:
            result = await s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at <= now,
                       or_(WebhookDelivery.status == "pending", WebhookDelivery.status == "sending"))
                .values(status="sending", next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)))
            if getattr(result, "rowcount", 0) != 1:
                return None  # another instance took it
            return await s.get(WebhookDelivery, delivery_id)

    async def _attempt(self, row: WebhookDelivery) -> None:
        assert self._client is not None
        body = json.dumps({"id": str(row.id), **row.payload}, separators=(",", ":"), default=str).encode()
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "support-agent-webhooks",
                   "X-Webhook-Event": row.event, "X-Webhook-Id": str(row.id),
                   "X-Webhook-Signature": sign(self.settings.webhook_secret, timestamp, body)}
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(self.settings.webhook_url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        attempts = row.attempts + 1
        async with self.db.transaction() as s:
            current = await s.get(WebhookDelivery, row.id)
            if current is None:
                return
            current.attempts = attempts
            current.last_status_code = status_code
            current.last_error = error
            if error is None:
                current.status, current.delivered_at = "delivered", utcnow()
                metrics.WEBHOOK_DELIVERIES.labels(outcome="delivered").inc()
            elif attempts >= self.settings.webhook_max_attempts:
                current.status = "failed"
                metrics.WEBHOOK_DELIVERIES.labels(outcome="failed").inc()
                log.warning("webhook.delivery.gave_up", extra={"event": row.event, "attempts": attempts,
                                                               "error": error})
            else:
                current.status = "pending"
                current.next_attempt_at = utcnow() + timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** (attempts - 1)))
                metrics.WEBHOOK_DELIVERIES.labels(outcome="retry").inc()
                log.info("webhook.delivery.retry", extra={"event": row.event, "attempts": attempts, "error": error})
