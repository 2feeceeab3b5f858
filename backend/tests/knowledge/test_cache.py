"""The query cache: hits and misses counted, and any ingestion or deletion invalidates it."""

import asyncio
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from app.knowledge.cache import LRUQueryCache, QueryCache, RedisQueryCache, normalise
from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor, document_id
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore
from app.redis_client import connect
from tests.conftest import service_missing
from tests.knowledge.fixtures import write_md

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _count(name: str, backend: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", {"backend": backend}) or 0.0


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The app's event loop stands in here: the cache's async client runs on it, retrieval in this thread."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()


def redis_cache(url: str, loop: asyncio.AbstractEventLoop, prefix: str) -> RedisQueryCache:
    return RedisQueryCache(connect(url, 0.5), loop, prefix=prefix, timeout_seconds=0.5)


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Iterator[QueryCache]:
    if request.param == "memory":
        yield LRUQueryCache(max_entries=100)
        return
    prefix = f"test-kbcache-{uuid.uuid4().hex[:8]}"
    shared = redis_cache(REDIS_URL, loop, prefix)
    try:
        shared.run(shared.client.ping())
    except Exception as exc:  # noqa: BLE001
        service_missing("redis", f"{type(exc).__name__}: {exc}")
    yield shared

    async def clean() -> None:
        async for key in shared.client.scan_iter(f"{prefix}:*"):
            await shared.client.delete(key)
        await shared.client.aclose()

    shared.run(clean())


def test_normalised_queries_share_an_entry() -> None:
    assert normalise("  How do I  RESET my password?? ") == normalise("how do i reset my password")


def test_cache_hits_and_invalidation_on_ingest_and_delete(cache: QueryCache, seeded_chroma: Path,
                                                        tmp_path: Path) -> None:
    shutil.copytree(seeded_chroma, tmp_path / "c")
    store = VectorStore("knowledge_base", path=tmp_path / "c")
    kb = KnowledgeBase(load_embedder(""), store, cache=cache)
    question = "How much does ski waxing cost?"
    hits0, misses0 = _count("rag_cache_hits", cache.backend), _count("rag_cache_misses", cache.backend)

    first = kb.retrieve(question)
    second = kb.retrieve("how much does ski waxing cost")
    assert second == first
    assert _count("rag_cache_hits", cache.backend) == hits0 + 1
    assert _count("rag_cache_misses", cache.backend) == misses0 + 1
    assert not any(h.metadata["source"] == "ski-wax.md" for h in first.hits)

    docs = tmp_path / "docs"
    docs.mkdir()
    write_md(docs / "ski-wax.md", "Ski wax service", "We wax skis in 24 hours; ski waxing costs 30 dollars.")
    Ingestor(load_embedder(""), store).ingest_directory(docs)
    after_ingest = kb.retrieve(question)
    assert after_ingest.hits[0].metadata["source"] == "ski-wax.md"
    assert _count("rag_cache_misses", cache.backend) == misses0 + 2

    Ingestor(load_embedder(""), store).delete(document_id("ski-wax.md"))
    after_delete = kb.retrieve(question)
    assert all(h.metadata["source"] != "ski-wax.md" for h in after_delete.hits)
    assert _count("rag_cache_misses", cache.backend) == misses0 + 3


def test_lru_evicts_the_oldest_entry() -> None:
    lru = LRUQueryCache(max_entries=2)
    for q in ("a", "b", "c"):
        lru.set(q, 3, "v1", {"q": q})
    assert lru.get("a", 3, "v1") is None and lru.get("c", 3, "v1") == {"q": "c"}


def test_redis_outage_is_a_miss_not_a_failure(loop: asyncio.AbstractEventLoop) -> None:
    dead = redis_cache("redis://127.0.0.1:1/0", loop, "nowhere")
    assert dead.get("q", 3, "v") is None
    dead.set("q", 3, "v", {"x": 1})  # must not raise


async def test_a_call_on_the_event_loop_is_refused_not_waited_for(caplog: pytest.LogCaptureFixture) -> None:
    on_loop = RedisQueryCache(connect(REDIS_URL, 0.5), asyncio.get_running_loop(), prefix="nowhere")
    with caplog.at_level(logging.WARNING, logger="app.knowledge.cache"):
        assert on_loop.get("q", 3, "v") is None
    # Refused at once; waiting would have blocked the very loop the call needs until the timeout.
    assert [getattr(r, "error", None) for r in caplog.records] == ["RuntimeError"]
    await on_loop.client.aclose()
