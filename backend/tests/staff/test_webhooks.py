"""Signed webhooks delivered to a real HTTP receiver, retried after a 500, every attempt recorded."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.db.engine import Database
from app.db.models import WebhookDelivery
from app.staff.webhooks import sign, verify_signature
from tests.realtime.conftest import LiveServer
from tests.staff.conftest import STAFF_SETTINGS, escalated_session, login

SECRET = "webhook-secret-0123456789"  # noqa: S105 - a test secret


class Receiver:
    """Answers 500 to the first delivery of each event id, then 200; keeps what it received."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failed_once: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["X-Webhook-Id"]
                first = delivery not in outer.failed_once
                outer.failed_once.add(delivery)
                outer.received.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(500 if first else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for headers, body in self.received]


def test_signature_round_trip() -> None:
    header = sign(SECRET, 1_900_000_000, b"{}")
    assert not verify_signature(SECRET, header, b"{}")  # far from now: a replay
    import time

    fresh = sign(SECRET, int(time.time()), b'{"a":1}')
    assert verify_signature(SECRET, fresh, b'{"a":1}')
    assert not verify_signature(SECRET, fresh, b'{"a":2}')
    assert not verify_signature("other-secret-xx", fresh, b'{"a":1}')


async def test_handoff_events_are_delivered_signed_and_retried(tmp_path: Path, seeded_chroma: Path) -> None:
    receiver = Receiver()
    shutil.copytree(seeded_chroma, tmp_path / "chroma")
    with LiveServer(tmp_path, **STAFF_SETTINGS, webhook_url=receiver.url, webhook_secret=SECRET,
                    webhook_poll_seconds=0.2) as live:
        admin = await login(live.http)
        session, _ = await escalated_session(live)
        await admin.call("POST", f"/staff/conversations/{session.id}/messages", json={"content": "On it."})
        await admin.call("POST", f"/staff/conversations/{session.id}/resolve")
        assert (await session.rest("POST", "/rating", json={"score": 5})).status_code == 201
        wanted = {"conversation.handoff", "conversation.assigned", "message.created", "conversation.resolved",
                  "conversation.rated"}
        delivered: list[WebhookDelivery] = []
        # Our own engine: the server's pool belongs to the server thread's event loop.
        reader = Database(live.services.db.url)
        try:
            for _ in range(300):  # backoff after the 500 is 1 s; wait for every row to be delivered
                async with reader.sessionmaker() as s:
                    delivered = list(await s.scalars(select(WebhookDelivery)))
                if {d.event for d in delivered if d.status == "delivered"} >= wanted and \
                        all(d.status == "delivered" for d in delivered):
                    break
                await asyncio.sleep(0.1)
        finally:
            await reader.dispose()
    assert {d.event for d in delivered} >= wanted
    assert all(d.status == "delivered" and d.attempts == 2 and d.last_status_code == 200 for d in delivered)
    for headers, body in receiver.received:
        assert verify_signature(SECRET, headers["X-Webhook-Signature"], body)
        payload = json.loads(body)
        assert payload["data"]["session_id"] == session.id and headers["X-Webhook-Event"] == payload["event"]
    # Each event arrived twice (500, then 200), and the agent's message is in message.created.
    assert sorted(receiver.events()).count("conversation.handoff") == 2
    created = [json.loads(b) for _, b in receiver.received if json.loads(b)["event"] == "message.created"]
    assert any(p["data"]["role"] == "agent" and p["data"]["content"] == "On it." for p in created)
