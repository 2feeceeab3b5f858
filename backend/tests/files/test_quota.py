"""Attachment quotas refuse before writing; unsent and expired uploads are swept; unused sessions go."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select, update

from app.db.models import Attachment, ChatSession, utcnow
from app.files.sweeper import AttachmentSweeper
from app.main import create_app
from app.state import Services
from tests.conftest import make_settings


@asynccontextmanager
async def app_with(data_dir: Path, **overrides: Any) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(data_dir, **overrides))
    async with LifespanManager(app, startup_timeout=120):
        yield app


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60)


async def open_session(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    body = (await client.post("/chat/sessions", json={})).json()
    return body["session_id"], {"Authorization": f"Bearer {body['session_token']}"}


async def upload(client: httpx.AsyncClient, session: tuple[str, dict[str, str]], *sizes: int) -> httpx.Response:
    files = [("attachments", (f"f{i}.txt", b"x" * size, "text/plain")) for i, size in enumerate(sizes)]
    return await client.post(f"/chat/sessions/{session[0]}/attachments", files=files, headers=session[1])


def stored_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "attachments").rglob("*") if p.is_file()]


async def test_session_and_client_quotas_refuse_before_writing(data_dir: Path) -> None:
    async with app_with(data_dir, attachment_quota_session_bytes=3000,
                        attachment_quota_client_bytes_per_hour=5000) as app, \
            client_from(app, "10.6.0.1") as c, client_from(app, "10.6.0.2") as other:
        first = await open_session(c)
        assert (await upload(c, first, 1000, 1000)).status_code == 201
        over = await upload(c, first, 1500)
        assert over.status_code == 413 and over.json()["code"] == "attachment_quota_exceeded"
        message = await c.post(f"/chat/sessions/{first[0]}/messages", headers=first[1], data={"message": "hi"},
                               files=[("attachments", ("big.txt", b"y" * 1500, "text/plain"))])
        assert message.status_code == 413
        assert len(stored_files(data_dir)) == 2
        # A new session from the same address is still inside that address's hourly budget...
        second = await open_session(c)
        assert (await upload(c, second, 2500)).status_code == 201
        refused = await upload(c, second, 600)
        assert refused.status_code == 413 and refused.json()["code"] == "attachment_quota_exceeded"
        # ...which is not another customer's.
        assert (await upload(other, await open_session(other), 600)).status_code == 201
        assert len(stored_files(data_dir)) == 4


async def test_total_budget_and_free_space_answer_507(data_dir: Path) -> None:
    async with app_with(data_dir, attachment_quota_total_bytes=1500) as app, client_from(app, "10.7.0.1") as c:
        session = await open_session(c)
        assert (await upload(c, session, 1000)).status_code == 201
        full = await upload(c, await open_session(c), 1000)
        assert full.status_code == 507 and full.json()["code"] == "storage_full"
    async with app_with(data_dir, attachment_min_free_bytes=10**18) as app, client_from(app, "10.7.0.1") as c:
        assert (await upload(c, await open_session(c), 10)).status_code == 507
    assert len(stored_files(data_dir)) == 1


async def test_sweeper_deletes_unsent_uploads_and_expired_attachments(data_dir: Path) -> None:
    async with app_with(data_dir, attachment_unsent_ttl_seconds=600, attachment_retention_days=30) as app, \
            client_from(app, "10.8.0.1") as c:
        services: Services = app.state.services
        session = await open_session(c)
        unsent = (await upload(c, session, 10)).json()["attachments"][0]["id"]
        fresh = (await upload(c, session, 20)).json()["attachments"][0]["id"]
        sent = await c.post(f"/chat/sessions/{session[0]}/messages", headers=session[1], data={"message": "see file"},
                            files=[("attachments", ("old.txt", b"z" * 30, "text/plain"))])
        old = sent.json()["attachments"][0]["id"]
        async with services.db.transaction() as s:
            await s.execute(update(Attachment).where(Attachment.id == uuid.UUID(unsent))
                            .values(created_at=utcnow() - timedelta(seconds=601)))
            await s.execute(update(Attachment).where(Attachment.id == uuid.UUID(old))
                            .values(created_at=utcnow() - timedelta(days=31)))
        assert len(stored_files(data_dir)) == 3
        assert await AttachmentSweeper(services.db, services.settings, 60).sweep() == 2
        async with services.db.sessionmaker() as s:
            left = [str(i) for i in await s.scalars(select(Attachment.id))]
        assert left == [fresh]
        assert [p.name for p in stored_files(data_dir)] == [f"{uuid.UUID(fresh).hex}.txt"]


async def test_unused_sessions_expire_fast_and_their_rows_go(data_dir: Path) -> None:
    async with app_with(data_dir, session_unused_ttl_seconds=300) as app, client_from(app, "10.9.0.1") as c:
        services: Services = app.state.services
        assert services.sessions is not None
        unused, used = await open_session(c), await open_session(c)
        state = await services.sessions.store.get(unused[0])
        assert state is not None and state.expires_at_ms - state.created_at_ms <= 300_000
        assert (await c.post(f"/chat/sessions/{used[0]}/messages", headers=used[1],
                             json={"message": "Where is my order?"})).status_code == 200
        used_state = await services.sessions.store.get(used[0])
        assert used_state is not None and used_state.expires_at_ms - used_state.created_at_ms > 300_000
        async with services.db.transaction() as s:
            await s.execute(update(ChatSession).values(last_activity_at=utcnow() - timedelta(seconds=301)))
        report = await services.sessions.sweep()
        assert report["deleted_unused"] == 1
        assert (await c.get(f"/chat/sessions/{unused[0]}", headers=unused[1])).status_code == 404
        assert (await c.get(f"/chat/sessions/{used[0]}", headers=used[1])).json()["status"] == "active"
