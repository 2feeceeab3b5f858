"""Exact nearest-neighbour search from the snapshot's vectors (small knowledge bases) against Chroma's index.

The sample help center is small enough for Chroma's index to be exact too, so both must give the same
neighbours in the same order, for both vector kinds, in the embedded store and in a real Chroma server;
above the limit the snapshot keeps no matrices and Chroma answers.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.knowledge.search import CANDIDATES, KnowledgeBase
from app.knowledge.snapshot import Snapshot

QUESTIONS = ["How long do I have to return an item?", "Do you ship to Canada?", "how much is next day delivery",
             "my tent pole broke", "Can I change the delivery address of an order?", "gift cards"]


def test_exact_search_finds_what_chromas_index_finds(knowledge_base: KnowledgeBase) -> None:
    store = knowledge_base.store
    snapshot = Snapshot.load(store, store.version(), exact_max_chunks=5000)
    assert snapshot.exact and len(snapshot.passage_ids) == len(snapshot.chunks) > CANDIDATES
    queries = knowledge_base.embedder.encode_array(QUESTIONS)
    for headings in (False, True):
        exact = snapshot.nearest_ids(queries, CANDIDATES, headings=headings)
        indexed = store.nearest_ids(queries, CANDIDATES, headings=headings)
        assert [len(row) for row in exact] == [CANDIDATES] * len(QUESTIONS)
        vectors = snapshot.heads if headings else {i: c.embedding for i, c in snapshot.chunks.items()}
        for query, mine, theirs in zip(queries, exact, indexed, strict=True):
            # The same similarities, nearest first. Ids may differ only among equal vectors (the chunks
            # of one section share its heading's vector), which the index orders as it likes.
            np.testing.assert_allclose([float(query @ vectors[i]) for i in mine],
                                       [float(query @ vectors[i]) for i in theirs], atol=1e-5)
            if not headings:
                assert mine == theirs


def test_more_neighbours_than_chunks_and_empty_input(knowledge_base: KnowledgeBase) -> None:
    store = knowledge_base.store
    snapshot = Snapshot.load(store, store.version(), exact_max_chunks=5000)
    queries = knowledge_base.embedder.encode_array(QUESTIONS[:2])
    everything = snapshot.nearest_ids(queries, len(snapshot.passage_ids) + 10)
    assert [sorted(row) for row in everything] == [sorted(snapshot.passage_ids)] * 2
    scores = queries[0] @ np.stack([snapshot.chunks[i].embedding for i in everything[0]]).T
    assert np.all(np.diff(scores) <= 1e-6)  # nearest first
    assert snapshot.nearest_ids(queries[:0], 5) == []
    assert snapshot.nearest_ids(queries, 0) == [[], []]


def test_above_the_limit_chroma_answers_and_the_hits_are_the_same(knowledge_base: KnowledgeBase,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = knowledge_base.store
    small = KnowledgeBase(knowledge_base.embedder, store, exact_max_chunks=5000)
    large = KnowledgeBase(knowledge_base.embedder, store, exact_max_chunks=1)
    asked: list[int] = []
    monkeypatch.setattr(store, "nearest_ids", lambda q, n, headings=False, _f=store.nearest_ids: (
        asked.append(len(q)), _f(q, n, headings=headings))[1])
    requests = [(q, 3) for q in QUESTIONS]
    in_memory = small.search_many(requests)
    assert asked == [] and small._snapshot(store.version()).exact
    through_chroma = large.search_many(requests)
    assert asked == [len(QUESTIONS), len(QUESTIONS)] and not large._snapshot(store.version()).exact
    assert [[h.id for h in hits] for hits in in_memory] == [[h.id for h in hits] for hits in through_chroma]
    assert [[round(h.score, 5) for h in hits] for hits in in_memory] == \
        [[round(h.score, 5) for h in hits] for hits in through_chroma]
