"""Admin API: upload and ingest, list, delete, debug search; keys, scopes and bad input."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings, running_app
from tests.knowledge.fixtures import FACTS, WRITERS

ADMIN = "admin-key-0123456789abcdef"
CHAT_ONLY = "chat-key-0123456789abcdef"


@pytest.fixture
async def admin_client(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(data_dir, api_keys=[f"{ADMIN}:admin", f"{CHAT_ONLY}:chat"], max_upload_bytes=200_000)
    async with running_app(settings) as (_, client):
        client.headers["X-API-Key"] = ADMIN
        yield client


def _file(tmp_path: Path, suffix: str) -> tuple[str, bytes]:
    title, body = FACTS[suffix]
    path = tmp_path / f"{title.lower().replace(' ', '-')}{suffix}"
    WRITERS[suffix](path, title, body)
    return path.name, path.read_bytes()


async def test_keys_and_scopes(admin_client: httpx.AsyncClient) -> None:
    assert (await admin_client.get("/knowledge/documents", headers={"X-API-Key": ""})).status_code == 401
    wrong = await admin_client.get("/knowledge/documents", headers={"X-API-Key": "not-a-real-key-at-all"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
    no_scope = await admin_client.get("/knowledge/documents", headers={"X-API-Key": CHAT_ONLY})
    assert no_scope.status_code == 403 and no_scope.json()["code"] == "missing_scope"
    bearer = await admin_client.get("/knowledge/documents",
                                    headers={"X-API-Key": "", "Authorization": f"Bearer {ADMIN}"})
    assert bearer.status_code == 200


async def test_upload_list_search_delete(admin_client: httpx.AsyncClient, tmp_path: Path) -> None:
    before = (await admin_client.get("/knowledge/documents")).json()
    assert before["total"] == 26 and all(d["chunks"] >= 1 for d in before["documents"])

    files = [("files", _file(tmp_path, s)) for s in (".pdf", ".docx", ".pptx", ".xlsx")]
    pdf = files[0][1]
    uploaded = await admin_client.post("/knowledge/documents", files=files)
    assert uploaded.status_code == 201, uploaded.text
    results = {r["filename"]: r for r in uploaded.json()["documents"]}
    assert {r["status"] for r in results.values()} == {"ingested"}

    listing = (await admin_client.get("/knowledge/documents")).json()
    assert listing["total"] == 30 and listing["version"] != before["version"]
    kayak = next(d for d in listing["documents"] if d["source"] == "kayak-lessons.pdf")
    assert kayak["chunks"] >= 1 and kayak["status"] == "indexed" and kayak["format"] == "pdf"

    found = (await admin_client.post("/knowledge/search", json={"query": "when are the kayak lessons", "k": 3})).json()
    assert found["results"][0]["metadata"]["source"] == "kayak-lessons.pdf"
    assert found["answerable"] is True and 0 <= found["confidence"] <= 1
    assert {"chunk", "heading", "lexical", "fused"} <= set(found["results"][0]["signals"])

    again = await admin_client.post("/knowledge/documents", files=[("files", pdf)])  # the very same bytes
    assert again.json()["documents"][0]["status"] == "unchanged"

    deleted = await admin_client.delete(f"/knowledge/documents/{kayak['doc_id']}")
    assert deleted.status_code == 200
    assert (await admin_client.delete(f"/knowledge/documents/{kayak['doc_id']}")).status_code == 404
    gone = (await admin_client.post("/knowledge/search", json={"query": "when are the kayak lessons"})).json()
    assert all(r["metadata"]["source"] != "kayak-lessons.pdf" for r in gone["results"])


async def test_bad_uploads(admin_client: httpx.AsyncClient, tmp_path: Path) -> None:
    exe = await admin_client.post("/knowledge/documents", files=[("files", ("tool.exe", b"MZ", "application/x-msdos"))])
    assert exe.status_code == 415 and exe.json()["code"] == "document_type_not_supported"
    big = await admin_client.post("/knowledge/documents", files=[("files", ("big.txt", b"x" * 200_001, "text/plain"))])
    assert big.status_code == 413
    none = await admin_client.post("/knowledge/documents", data={"x": "y"})
    assert none.status_code == 422

    corrupt_only = await admin_client.post("/knowledge/documents",
                                           files=[("files", ("bad.pdf", b"%PDF-1.4 junk", "application/pdf"))])
    assert corrupt_only.status_code == 422
    assert "PDF" in corrupt_only.json()["detail"][0]["reason"]

    mixed = await admin_client.post("/knowledge/documents", files=[
        ("files", ("bad.docx", b"PK junk", "application/octet-stream")),
        ("files", _file(tmp_path, ".md")),
        ("files", ("empty.txt", b"   \n", "text/plain"))])
    assert mixed.status_code == 201
    statuses = {r["filename"]: r["status"] for r in mixed.json()["documents"]}
    assert statuses == {"bad.docx": "failed", "ski-wax.md": "ingested", "empty.txt": "empty"}
    assert "DOCX" in next(r["reason"] for r in mixed.json()["documents"] if r["filename"] == "bad.docx")

    bad_search = await admin_client.post("/knowledge/search", json={"query": ""})
    assert bad_search.status_code == 422


async def test_answers_use_new_documents_at_once(admin_client: httpx.AsyncClient, tmp_path: Path) -> None:
    session = (await admin_client.post("/chat/sessions", json={}, headers={"X-API-Key": ""})).json()
    headers = {"Authorization": f"Bearer {session['session_token']}", "X-API-Key": ""}
    url = f"/chat/sessions/{session['session_id']}/messages"
    before = (await admin_client.post(url, json={"message": "how long does ski tuning take?"}, headers=headers)).json()
    assert all(s["metadata"]["source"] != "ski-tuning.pptx" for s in before["sources"])
    await admin_client.post("/knowledge/documents", files=[("files", _file(tmp_path, ".pptx"))])
    after = (await admin_client.post(url, json={"message": "how long does ski tuning take?"}, headers=headers)).json()
    assert after["sources"][0]["metadata"]["source"] == "ski-tuning.pptx"
