"""Ingestion by another process while the server runs; health fails when the store cannot answer."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import anyio

from app.config import REPO_ROOT
from app.state import Services
from tests.conftest import SAMPLE_KB, make_settings, running_app


async def test_populate_script_while_serving_keeps_search_working(tmp_path: Path) -> None:
    first, second = tmp_path / "kb1", tmp_path / "kb2"
    first.mkdir()
    second.mkdir()
    for name in ("account-password-reset.md", "returns-policy.md"):
        shutil.copy(SAMPLE_KB / name, first / name)
    shutil.copy(SAMPLE_KB / "shipping-options-and-costs.md", second)
    changed = (SAMPLE_KB / "account-password-reset.md").read_text() + "\nReset links now last one hour.\n"
    (second / "account-password-reset.md").write_text(changed)
    settings = make_settings(tmp_path, kb_auto_ingest=True, knowledge_base_dir=first)
    async with running_app(settings) as (_, client):
        created = (await client.post("/chat/sessions", json={})).json()
        url, auth = f"/chat/sessions/{created['session_id']}/messages", {
            "Authorization": f"Bearer {created['session_token']}"}
        assert (await client.post(url, json={"message": "How do I reset my password?"}, headers=auth)
                ).json()["sources"]
        env = {**os.environ, "DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT / "backend"),
               "HF_HUB_OFFLINE": "1", "KB_AUTO_INGEST": "false"}
        done = await anyio.run_process([sys.executable, str(REPO_ROOT / "scripts" / "populate_kb.py"),
                                        "--documents-dir", str(second), "--prune"], env=env, check=False)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        # The version changed under the server: its next searches see the new content, not an error.
        for question, source in (("How do I reset my password?", "account-password-reset.md"),
                                 ("How much does shipping cost?", "shipping-options-and-costs.md")):
            reply = (await client.post(url, json={"message": question}, headers=auth)).json()
            assert source in [s["metadata"]["source"] for s in reply["sources"]], reply
        assert (await client.get("/health/readiness")).status_code == 200


async def test_readiness_and_detailed_fail_when_the_store_cannot_answer(data_dir: Path) -> None:
    async with running_app(make_settings(data_dir)) as (app, client):
        assert (await client.get("/health/readiness")).status_code == 200
        services: Services = app.state.services
        # Another writer drops the collection this instance is reading: heartbeat and count still answer.
        services.store.client.delete_collection(services.store.collection_name)
        ready = await client.get("/health/readiness")
        assert ready.status_code == 503 and ready.json()["checks"]["vector_store"] == "error"
        detailed = await client.get("/health/detailed")
        assert detailed.status_code == 503 and detailed.json()["components"]["vector_store"]["status"] == "error"
