"""A failing or unreachable model is diagnosable: endpoint and provider message in the log and in health."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.agents.providers.openai import OpenAIProvider, safe_endpoint
from tests.agents.openai_server import FakeOpenAI, Step
from tests.agents.test_openai_provider import make_agent, run
from tests.conftest import free_port, make_settings, running_app


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == name]


async def test_a_rejected_request_logs_endpoint_and_provider_message(server: FakeOpenAI, knowledge: object,
                                                                     tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    agent = make_agent(knowledge, server, tmp_path, openai_api_key="sk-secret-never-logged")  # type: ignore[arg-type]
    server.script.append(Step(status=401))
    with caplog.at_level(logging.WARNING, logger="app.llm"):
        await run(agent, "How do I reset my password?")
    failed = events(caplog, "llm.request.failed")
    assert failed, caplog.text
    assert failed[0].__dict__["error"] == "HTTP 401: scripted failure"
    assert failed[0].__dict__["endpoint"] == server.url.rstrip("/")
    assert "sk-secret-never-logged" not in caplog.text
    assert isinstance(agent.provider, OpenAIProvider)
    status = agent.provider.status()
    assert status["status"] == "degraded" and status["last_error"] == "HTTP 401: scripted failure"
    await agent.close()


async def test_startup_check_says_unreachable_rejected_or_ok(server: FakeOpenAI, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    cases = [(dead, None, "llm.startup.unreachable"), (server.url, Step(status=401), "llm.startup.rejected"),
             (server.url, None, "llm.startup.ok")]
    for url, step, expected in cases:
        if step is not None:
            server.script.append(step)
        provider = OpenAIProvider(make_settings(tmp_path, llm_provider="openai", openai_base_url=url,
                                                openai_api_key="k", openai_timeout_seconds=5))
        with caplog.at_level(logging.INFO, logger="app.llm"):
            assert await provider.check() is (expected == "llm.startup.ok")
        record = events(caplog, expected)[-1]
        assert record.__dict__["endpoint"] == url.rstrip("/")
        await provider.close()
    assert "scripted failure" in events(caplog, "llm.startup.rejected")[-1].__dict__["error"]
    assert "ConnectError" in events(caplog, "llm.startup.unreachable")[-1].__dict__["error"]
    assert server.requests[-1].get("tools"), "the check offers a tool"


def test_endpoint_never_carries_credentials() -> None:
    assert safe_endpoint("https://user:pw@llm.example:8443/v1/?key=abc") == "https://llm.example:8443/v1"


async def test_detailed_health_shows_the_model(server: FakeOpenAI, data_dir: Path) -> None:
    settings = make_settings(data_dir, llm_provider="openai", openai_base_url=server.url,
                             openai_api_key="sk-hidden", openai_max_retries=0, llm_startup_check=False)
    async with running_app(settings) as (_, client):
        body = (await client.get("/health/detailed")).json()
        assert body["llm"]["provider"] == "openai" and body["llm"]["endpoint"] == server.url.rstrip("/")
        assert body["llm"]["breaker"] == "closed" and body["status"] == "healthy"
        server.script.append(Step(status=500))
        created = (await client.post("/chat/sessions", json={})).json()
        reply = await client.post(f"/chat/sessions/{created['session_id']}/messages", json={"message": "hi"},
                                  headers={"Authorization": f"Bearer {created['session_token']}"})
        assert reply.json()["degraded"] is True
        after = await client.get("/health/detailed")
        assert after.status_code == 200 and after.json()["status"] == "degraded"
        assert after.json()["llm"]["last_error"].startswith("HTTP 500")
        assert "sk-hidden" not in after.text
