"""Concurrent searches go through the micro-batcher and get what each would have got alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.knowledge.embeddings import Embedder, load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore
from app.observability import metrics
from tests.knowledge.fixtures import write_md
from tests.knowledge.test_retrieval import EXPECTED, OFF_TOPIC

QUESTIONS = [q for q, _ in EXPECTED] + OFF_TOPIC


def batch_sizes() -> tuple[float, float]:
    """(batches run, items in them) of the retrieval batcher, from its Prometheus histogram."""
    count = total = 0.0
    for metric in metrics.BATCH_SIZE.collect():
        for sample in metric.samples:
            if sample.labels.get("batcher") == "retrieval":
                if sample.name.endswith("_count"):
                    count = sample.value
                elif sample.name.endswith("_sum"):
                    total = sample.value
    return count, total


async def test_concurrent_searches_share_batches_and_match_searching_one_by_one(
        knowledge_base: KnowledgeBase) -> None:
    alone = [knowledge_base.retrieve(q, k=3) for q in QUESTIONS]
    batches_before, items_before = batch_sizes()
    together = await asyncio.gather(*(knowledge_base.aretrieve(q, k=3) for q in QUESTIONS))
    batches, items = batch_sizes()

    assert items - items_before == len(QUESTIONS)
    assert batches - batches_before < len(QUESTIONS)  # some of them ran in one call
    for question, one, many in zip(QUESTIONS, alone, together, strict=True):
        assert [h.id for h in many.hits] == [h.id for h in one.hits], question
        assert [h.score for h in many.hits] == pytest.approx([h.score for h in one.hits], abs=1e-5)
        assert many.answerable == one.answerable
        assert many.confidence == pytest.approx(one.confidence, abs=1e-3)


async def test_each_caller_keeps_its_own_k(knowledge_base: KnowledgeBase) -> None:
    ks = [1, 5, 2, 4]
    results = await asyncio.gather(*(knowledge_base.aretrieve("how do I return an item", k=k) for k in ks))
    assert [len(r.hits) for r in results] == ks
    assert len({r.hits[0].id for r in results}) == 1


def test_a_batch_of_several_questions_is_one_search_per_question(knowledge_base: KnowledgeBase) -> None:
    many = knowledge_base.search_many([(q, 3) for q in QUESTIONS[:6]])
    assert [[h.id for h in hits] for hits in many] == [[h.id for h in knowledge_base.search(q, 3)]
                                                         for q in QUESTIONS[:6]]
    assert knowledge_base.search_many([]) == []


def test_a_chunk_ingested_by_another_instance_is_found_before_the_version_is_re_read(tmp_path: Path) -> None:
    """Instance A still holds the old version (and its snapshot) when B ingests: Chroma's nearest ids
    include the new chunk, which A then fetches from the store instead of dropping it. (A knowledge base
    searched exactly in memory finds it once the version is re-read: the next test.)"""
    docs = tmp_path / "docs"
    docs.mkdir()
    write_md(docs / "tents.md", "Tent repair", "We patch torn tents in three days for 20 dollars.")
    reader = VectorStore("two_instances", path=tmp_path / "chroma", version_ttl=3600)
    Ingestor(load_embedder(""), reader).ingest_directory(docs)
    kb = KnowledgeBase(load_embedder(""), reader, exact_max_chunks=0)  # Chroma's index answers
    assert kb.search("how long does tent repair take", k=1)[0].metadata["source"] == "tents.md"

    write_md(docs / "ski-wax.md", "Ski wax", "We now wax skis in 2 hours for 35 dollars.")
    writer = VectorStore("two_instances", path=tmp_path / "chroma")
    Ingestor(load_embedder(""), writer).ingest_directory(docs)
    assert reader.version() != writer.version()  # A has not seen the change

    top = kb.search("how much does ski waxing cost", k=1)[0]
    assert top.metadata["source"] == "ski-wax.md" and "35 dollars" in top.content
    assert top.signals["heading"] > 0.5  # its heading vector was fetched too, not defaulted


def test_searched_in_memory_another_instances_chunk_is_found_once_the_version_is_re_read(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_md(docs / "tents.md", "Tent repair", "We patch torn tents in three days for 20 dollars.")
    reader = VectorStore("two_instances", path=tmp_path / "chroma", version_ttl=0.2)
    Ingestor(load_embedder(""), reader).ingest_directory(docs)
    kb = KnowledgeBase(load_embedder(""), reader)
    assert kb.search("how long does tent repair take", k=1)[0].metadata["source"] == "tents.md"
    assert kb._snapshot(reader.version()).exact

    write_md(docs / "ski-wax.md", "Ski wax", "We now wax skis in 2 hours for 35 dollars.")
    Ingestor(load_embedder(""), VectorStore("two_instances", path=tmp_path / "chroma")).ingest_directory(docs)
    time.sleep(0.3)  # the version's re-read interval (VectorStore.version_ttl; 1 s by default)
    top = kb.search("how much does ski waxing cost", k=1)[0]
    assert top.metadata["source"] == "ski-wax.md" and "35 dollars" in top.content


async def test_encode_requests_join_the_searches_batch_and_searches_reuse_their_vectors(
        knowledge_base: KnowledgeBase) -> None:
    """The escalation check's encode (KnowledgeBase.aencode) and concurrent searches run as one batch;
    a search for a text encoded just before does not encode it again."""
    embedder = knowledge_base.embedder
    texts = ["Can someone from your team take over this chat?", "I am furious about this order."]
    alone = embedder.encode_array(texts)
    expected = {q: knowledge_base.retrieve(q, k=3) for q in QUESTIONS[:4]}
    with observed_encodes(embedder) as encoded:
        vectors, *searches = await asyncio.gather(knowledge_base.aencode(texts),
                                                  *(knowledge_base.aretrieve(q, k=3) for q in expected))
        assert vectors.shape == alone.shape and vectors == pytest.approx(alone, abs=1e-5)
        for retrieval, (question, one) in zip(searches, expected.items(), strict=True):
            assert [h.id for h in retrieval.hits] == [h.id for h in one.hits], question
        assert sum(len(b) for b in encoded) == len(texts) + len(expected)  # every text once
        encoded.clear()
        await knowledge_base.aretrieve(texts[0], k=3)  # the message is then searched: no second encode
        assert encoded == []


async def test_a_failing_search_fails_the_searches_but_still_delivers_the_encodes(
        knowledge_base: KnowledgeBase) -> None:
    """The vector store failing (here: made to fail) must not take the escalation check's encode with it."""
    store = knowledge_base.store

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("vector store unavailable")

    # Down, every call fails (small knowledge bases are searched in memory, but the version is still read).
    store.nearest_ids = store.version = unavailable  # type: ignore[method-assign,assignment]
    try:
        texts = ["I will take this to my solicitor.", "How do I reset my password?"]
        encoded, searched = await asyncio.gather(knowledge_base.aencode(texts),
                                                 knowledge_base.aretrieve("Where is my parcel?", k=3),
                                                 return_exceptions=True)
        assert isinstance(searched, ConnectionError)
        assert not isinstance(encoded, BaseException)
        assert encoded == pytest.approx(knowledge_base.embedder.encode_array(texts), abs=1e-5)
    finally:
        del store.nearest_ids, store.version  # back to the class's methods


async def test_encode_requests_alone_share_one_model_call(knowledge_base: KnowledgeBase) -> None:
    embedder = knowledge_base.embedder
    with observed_encodes(embedder) as calls:
        texts = [[f"I want to speak to a person about order {n}."] for n in range(4)]
        vectors = await asyncio.gather(*(knowledge_base.aencode(t) for t in texts))
        assert [v.shape for v in vectors] == [(1, embedder.dimension)] * 4
        assert sum(len(c) for c in calls) == 4 and len(calls) < 4  # batched, each text once


@contextmanager
def observed_encodes(embedder: Embedder) -> Iterator[list[list[str]]]:
    """The texts of each real model call, from a clean memory of recent vectors."""
    calls: list[list[str]] = []
    real = embedder._encode

    def counting(batch: list[str], size: int, threads: int):  # noqa: ANN202 - the real encode, observed
        calls.append(list(batch))
        return real(batch, size, threads)

    embedder._encode = counting  # type: ignore[method-assign]
    embedder._recent.clear()
    try:
        yield calls
    finally:
        embedder._encode = real  # type: ignore[method-assign]
        embedder._recent.clear()
