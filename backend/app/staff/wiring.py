"""The staff side's collaborators, built once in the lifespan (app/main.py) and closed on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from app.agents.chat_agent import CustomerSupportAgent
from app.config import Settings
from app.db.engine import Database
from app.db.repository import MessageRepository
from app.staff.handoff import HandoffService, Publish
from app.staff.inbox import Inbox
from app.staff.login_throttle import LoginThrottle
from app.staff.users import StaffUsers
from app.staff.webhooks import Webhooks

log = logging.getLogger("app.staff")


@dataclass
class StaffSide:
    settings: Settings
    users: StaffUsers
    throttle: LoginThrottle
    webhooks: Webhooks
    handoff: HandoffService
    inbox: Inbox
    _gauges: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self, migrated: bool) -> None:
        if migrated:
            await self.users.ensure_first_superuser(self.settings)
            await self.handoff.refresh_gauges()
        await self.webhooks.start()
        self._gauges = asyncio.create_task(self._refresh_gauges(), name="handoff-gauges")

    async def close(self) -> None:
        if self._gauges is not None:
            self._gauges.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gauges
        await self.webhooks.close()

    async def _refresh_gauges(self) -> None:
        # The longest wait grows while nothing happens; the gauge must follow it for the alert.
        while True:
            await asyncio.sleep(self.settings.handoff_metrics_interval_seconds)
            try:
                await self.handoff.refresh_gauges()
            except Exception as exc:  # the database is down: the probe reports it
                log.warning("staff.gauges.failed", extra={"error_type": type(exc).__name__})


def build_staff_side(settings: Settings, db: Database, repo: MessageRepository, publish: Publish,
                     agent: CustomerSupportAgent) -> StaffSide:
    webhooks = Webhooks(db, settings)
    handoff = HandoffService(db, repo, settings, publish, webhooks)
    return StaffSide(settings=settings, users=StaffUsers(db), throttle=LoginThrottle(settings), webhooks=webhooks,
                     handoff=handoff, inbox=Inbox(db, repo, handoff, agent, settings.staff_message_max_chars))
