"""Knowledge-base fixtures: the sample help center in an embedded store or in a real `chroma run` server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore
from tests.conftest import SAMPLE_KB, free_port


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server process on a free loopback port, stopped at the end of the run."""
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("chroma server did not start in 60 s")
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def server_knowledge(chroma_server: tuple[str, int]) -> KnowledgeBase:
    host, port = chroma_server
    store = VectorStore(f"kb_{uuid.uuid4().hex[:8]}", host=host, port=port)
    report = Ingestor(load_embedder(""), store).ingest_directory(SAMPLE_KB)
    assert not report.failed
    return KnowledgeBase(load_embedder(""), store)


@pytest.fixture(scope="session")
def embedded_knowledge(seeded_chroma: Path, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    path = tmp_path_factory.mktemp("embedded") / "chroma"
    shutil.copytree(seeded_chroma, path)
    return KnowledgeBase(load_embedder(""), VectorStore("knowledge_base", path=path))


@pytest.fixture(params=["embedded", "server"])
def knowledge_base(request: pytest.FixtureRequest) -> KnowledgeBase:
    """Every retrieval test runs against both the embedded store and a real Chroma server."""
    return request.getfixturevalue(f"{request.param}_knowledge")
