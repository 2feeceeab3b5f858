"""Zip bombs and parser-killing files cost the parse worker only; the server stays small and answers."""

from __future__ import annotations

import uuid
from pathlib import Path

import docx
import httpx
import pytest

from app.files.safe_parse import SafeParser
from app.files.zip_guard import ZipLimits, zip_problem
from tests.files.bombs import docx_bomb, forge_declared_size, many_entries_docx, xlsx_bomb
from tests.observability.stack import Backend

MiB = 1024 * 1024


def normal_docx(path: Path, text: str = "Order TH-2291 was shipped on 3 May.") -> Path:
    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))
    return path


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_zip_guard_reads_declared_sizes_and_entry_counts(tmp_path: Path) -> None:
    limits = ZipLimits(max_entries=500, max_expanded_bytes=50 * MiB)
    assert zip_problem(normal_docx(tmp_path / "ok.docx"), limits) is None
    assert "declares" in (zip_problem(docx_bomb(tmp_path / "bomb.docx", 80 * MiB), limits) or "")
    assert "entries" in (zip_problem(many_entries_docx(tmp_path / "many.docx", 600), limits) or "")
    # A header that lies about the size is not trusted: unpacking it fails its checks and it is refused.
    liar = forge_declared_size(docx_bomb(tmp_path / "liar.docx", 80 * MiB), "word/document.xml", 1000)
    problem = zip_problem(liar, limits)
    assert problem is not None and "declares" not in problem, problem


async def test_worker_limits_cost_the_worker_only_and_it_comes_back(tmp_path: Path) -> None:
    # The zip check is opened wide here so that the parser itself meets the memory limit.
    parser = SafeParser(memory_bytes=700 * MiB, cpu_seconds=20, timeout_seconds=60,
                        zip_limits=ZipLimits(10_000, 1024 * MiB))
    try:
        bomb = docx_bomb(tmp_path / "heavy.docx", 300 * MiB)
        result = await parser.parse(bomb, ".docx", 20000)
        assert result.status == "unsafe", result
        assert parser.restarts >= 1
        good = await parser.parse(normal_docx(tmp_path / "good.docx"), ".docx", 20000)
        assert good.status == "processed" and "TH-2291" in good.text
        slow = SafeParser(memory_bytes=1536 * MiB, cpu_seconds=20, timeout_seconds=0.001, zip_limits=ZipLimits())
        try:
            await slow.start()
            timed_out = await slow.parse(tmp_path / "good.docx", ".docx", 20000)
            assert timed_out.status == "unsafe" and "longer than" in timed_out.reason
            assert slow.pid is None  # killed, not left working on it
        finally:
            await slow.close()
    finally:
        await parser.close()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    server = Backend(tmp_path_factory.mktemp("bombs"), LOG_LEVEL="WARNING", HEALTH_PROBE_INTERVAL_SECONDS="0")
    server.start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_bomb_with_a_question_gets_an_answer_and_the_server_stays_small(backend: Backend, tmp_path: Path,
                                                                        kind: str) -> None:
    assert backend.process is not None
    with httpx.Client(base_url=backend.url, timeout=120) as client:
        created = client.post("/chat/sessions", json={}).json()
        url = f"/chat/sessions/{created['session_id']}/messages"
        auth = {"Authorization": f"Bearer {created['session_token']}"}
        warm = client.post(url, headers=auth, data={"message": "What does my file say about order TH-2291?"},
                           files=[("attachments", ("order.docx", normal_docx(tmp_path / "o.docx").read_bytes()))])
        assert warm.status_code == 200, warm.text
        before = rss_bytes(backend.process.pid)
        build = docx_bomb if kind == "docx" else xlsx_bomb
        bomb = build(tmp_path / f"bomb-{uuid.uuid4().hex[:6]}.{kind}", 1024 * MiB)  # ~1 MiB on the wire
        assert bomb.stat().st_size < 5 * MiB
        reply = client.post(url, headers=auth, data={"message": "How do I reset my password?"},
                            files=[("attachments", (f"report.{kind}", bomb.read_bytes()))])
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert "could not be read" in body["message"]
        assert any("password" in s["metadata"]["source"] for s in body["sources"]), body
        after = rss_bytes(backend.process.pid)
        print(f"server RSS before {before / MiB:.0f} MiB, after the {kind} bomb {after / MiB:.0f} MiB")
        assert after - before < 150 * MiB
        assert client.get("/health/readiness").status_code == 200
