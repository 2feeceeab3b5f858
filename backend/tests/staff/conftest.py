"""A real server with a first admin, customers and staff talking to it over HTTP and WebSocket."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.conftest import LiveServer, Session, new_session

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"  # noqa: S105 - a test account
AGENT_PASSWORD = "agent-password-1"  # noqa: S105
STAFF_SETTINGS: dict[str, Any] = {"first_superuser": ADMIN_EMAIL, "first_superuser_password": ADMIN_PASSWORD,
                                  "secret_key": "test-secret-key-for-staff-tokens-0123456789"}


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory, seeded_chroma: Path) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("staff")
    shutil.copytree(seeded_chroma, data / "chroma")
    with LiveServer(data, **STAFF_SETTINGS, login_failure_limit_account="1000/minute",
                    login_failure_limit_client="1000/minute") as live:
        yield live


class Staff:
    """A logged-in staff member's HTTP client."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.request(method, f"{self.base}{path}", headers=self.headers, **kwargs)


async def login(base: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> Staff:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(f"{base}/auth/login", json={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return Staff(base, response.json()["access_token"])


async def new_agent(admin: Staff, name: str) -> tuple[Staff, str]:
    email = f"{name.lower()}-{id(admin) % 100000}-{len(name)}@example.com"
    created = await admin.call("POST", "/staff/users", json={"email": email, "name": name, "role": "agent",
                                                             "password": AGENT_PASSWORD})
    assert created.status_code == 201, created.text
    return await login(admin.base, email, AGENT_PASSWORD), created.json()["id"]


async def escalated_session(live: LiveServer) -> tuple[Session, dict[str, Any]]:
    """A customer who asked for a person: the conversation is in the staff queue."""
    session = await new_session(live)
    reply = await session.rest("POST", "/messages", json={"message": "I want to talk to a human, please"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["requires_escalation"] is True
    return session, reply.json()
