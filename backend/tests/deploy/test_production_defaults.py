"""Production defaults of create_app: docs off, /metrics for the monitoring network or a token, proxy
headers believed only from TRUSTED_PROXIES, and paths relative to the repository root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.config import REPO_ROOT, Settings
from app.main import create_app

PRODUCTION = {"environment": "production", "secret_key": "s" * 40, "log_level": "WARNING"}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def get(app_settings: Settings, path: str, peer: str = "127.0.0.1", **headers: str) -> httpx.Response:
    """One request with `peer` as the TCP peer address (no lifespan: these routes need no services)."""
    transport = httpx.ASGITransport(app=create_app(app_settings), client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path, headers=headers)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_docs_are_off_in_production_unless_enabled(path: str) -> None:
    assert (await get(settings(**PRODUCTION), path)).status_code == 404
    assert (await get(settings(**PRODUCTION, docs_enabled=True), path)).status_code == 200
    assert (await get(settings(environment="development"), path)).status_code == 200
    assert (await get(settings(environment="development", docs_enabled=False), path)).status_code == 404


async def test_production_metrics_answer_loopback_and_the_token_only() -> None:
    prod = settings(**PRODUCTION, metrics_token="m" * 32)
    assert (await get(prod, "/metrics")).status_code == 200
    refused = await get(prod, "/metrics", peer="203.0.113.5")
    assert refused.status_code == 403
    assert set(refused.json()) == {"detail", "code", "request_id"} and refused.json()["code"] == "forbidden"
    assert (await get(prod, "/metrics", peer="203.0.113.5", Authorization="Bearer " + "m" * 32)).status_code == 200
    assert (await get(prod, "/metrics", peer="203.0.113.5", Authorization="Bearer " + "x" * 32)).status_code == 403
    # Without a token configured, an empty bearer opens nothing.
    assert (await get(settings(**PRODUCTION), "/metrics", peer="203.0.113.5",
                      Authorization="Bearer ")).status_code == 403
    # Development keeps the old behaviour: any address may scrape.
    assert (await get(settings(environment="development"), "/metrics", peer="203.0.113.5")).status_code == 200


async def test_monitoring_network_and_trusted_proxy() -> None:
    # The prod compose shape: nginx at 172.30.251.0/24 is a trusted proxy, Prometheus scrapes from 172.30.250.0/24.
    prod = settings(**PRODUCTION, trusted_proxies="172.30.251.0/24", metrics_allowed_networks="172.30.250.0/24")
    assert (await get(prod, "/metrics", peer="172.30.250.7")).status_code == 200
    assert (await get(prod, "/metrics", peer="172.30.251.3")).status_code == 403
    # Through the proxy the real client counts, not the proxy (and not what the client claims behind it).
    assert (await get(prod, "/metrics", peer="172.30.251.3",
                      **{"X-Forwarded-For": "172.30.250.7, 198.51.100.20"})).status_code == 403
    # From a trusted proxy, the client it names is believed...
    assert (await get(prod, "/metrics", peer="172.30.251.3",
                      **{"X-Forwarded-For": "172.30.250.9"})).status_code == 200
    # ...from anyone else the header is ignored.
    assert (await get(prod, "/metrics", peer="198.51.100.20",
                      **{"X-Forwarded-For": "172.30.250.9"})).status_code == 403


def test_proxy_and_network_settings_refuse_garbage() -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES: 'nginx'"):
        settings(trusted_proxies="nginx")
    with pytest.raises(ValidationError, match="METRICS_ALLOWED_NETWORKS: '10.0.0.0/33'"):
        settings(metrics_allowed_networks="10.0.0.0/33")
    assert settings(trusted_proxies="").trusted_proxies == []


def test_relative_paths_are_relative_to_the_repository_root(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    # `make run` starts in backend/; .env.example's ./data and ./docs/knowledge-base must not follow it.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", "./data")
    monkeypatch.setenv("KNOWLEDGE_BASE_DIR", "./docs/knowledge-base")
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.data_dir == REPO_ROOT / "data"
    assert loaded.knowledge_base_dir == REPO_ROOT / "docs" / "knowledge-base"
    assert any(loaded.knowledge_base_dir.glob("*.md"))
    assert settings(data_dir=tmp_path / "abs").data_dir == tmp_path / "abs"
