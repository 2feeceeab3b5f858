"""The widget routes: limits for the client, the built SPA when present, a clear 503 and log when not."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from app.web import router as web


async def test_config_mirrors_chat_limits_and_reports_the_websocket(client: httpx.AsyncClient) -> None:
    body = (await client.get("/web/config")).json()
    assert body["max_attachment_bytes"] == 10 * 1024 * 1024
    assert ".pdf" in body["allowed_attachment_types"]
    assert body["websocket"] is True


async def test_missing_build_answers_503_with_the_command(client: httpx.AsyncClient, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(web, "DIST_DIR", tmp_path / "nothing")
    for path in ("/", "/widget.js", "/demo", "/console"):
        res = await client.get(path)
        assert res.status_code == 503
        assert res.json()["code"] == "frontend_not_built"
    with caplog.at_level(logging.WARNING, logger="app.web"):
        web.log_dist_status(tmp_path / "nothing")
    assert any(r.getMessage() == "web.dist.missing" for r in caplog.records)


async def test_serves_a_build_with_csp_and_refuses_paths_outside_assets(client: httpx.AsyncClient, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<div id=root></div>")
    (tmp_path / "widget.js").write_text("/* loader */")
    (tmp_path / "console.html").write_text("<div id=root data-console></div>")
    (tmp_path / "assets" / "app-1.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("no")
    monkeypatch.setattr(web, "DIST_DIR", tmp_path)
    index = await client.get("/")
    assert index.status_code == 200 and "script-src 'self'" in index.headers["content-security-policy"]
    console = await client.get("/console")
    assert console.status_code == 200 and "data-console" in console.text
    assert "script-src 'self'" in console.headers["content-security-policy"]
    assert (await client.get("/widget.js")).headers["content-type"].startswith("text/javascript")
    assert "immutable" in (await client.get("/assets/app-1.js")).headers["cache-control"]
    assert (await client.get("/assets/..%2Fsecret.txt")).status_code == 404
    demo = await client.get("/demo")
    assert f'data-api-url="{str(client.base_url).rstrip("/")}"' in demo.text
