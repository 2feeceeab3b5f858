"""Hybrid retrieval used by the agent: dense passages + dense headings + BM25, one passage per document.

Each candidate chunk gets three signals: cosine similarity of the question to the chunk (title,
section and text), to the chunk's heading path alone (for a FAQ, the question it answers), and a
BM25 score over the chunk text. Dense candidates come from Chroma (both collections), or, for a
knowledge base of up to RAG_EXACT_SEARCH_MAX_CHUNKS chunks, from an exact search over the vectors kept
in memory; lexical ones from an in-memory BM25 index rebuilt whenever the knowledge-base version
changes, together with a copy of every chunk's text and vectors (snapshot.py). Concurrent searches are
run as one batch (batching.py): one encode and one nearest-neighbour query per vector kind for all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.knowledge import subject
from app.knowledge.answerability import AnswerabilityModel
from app.knowledge.batching import MicroBatcher
from app.knowledge.cache import QueryCache
from app.knowledge.calibration import Calibrator
from app.knowledge.embeddings import Embedder
from app.knowledge.snapshot import Snapshot
from app.knowledge.vector_store import StoredChunk, VectorStore
from app.observability import metrics

CANDIDATES = 40  # per retriever; enough for recall, small enough to rescore in a millisecond
# Exact search in memory up to this many chunks (RAG_EXACT_SEARCH_MAX_CHUNKS). On the 2-core bench machine,
# for a batch of 8 questions, one vector kind: 0.45 ms at 1,000 chunks, 8.4 ms at 20,000; Chroma's
# index took 2.3-3.4 ms per kind at any of these sizes, so the crossing is near 5,000.
EXACT_MAX_CHUNKS = 5000
SUBJECT_POOL = 10  # documents beyond k that the subject check may lift into the top k


@dataclass(frozen=True)
class SearchHit:
    id: str
    content: str
    metadata: dict[str, Any]
    distance: float  # cosine distance of the best dense representation (0 = identical)
    score: float = 0.0  # fused relevance used for ranking
    signals: dict[str, float] = field(default_factory=dict)

    def as_source(self) -> dict[str, Any]:
        """The seed's source shape: {id, content, metadata: {source, ...}, distance}, plus score."""
        meta = {k: self.metadata[k] for k in ("source", "title", "section", "doc_id", "chunk_index",
                                                "updated_at", "sections") if k in self.metadata}
        return {"id": self.id, "content": self.content, "metadata": meta, "distance": round(self.distance, 4),
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class Retrieval:
    """What the agent needs to decide: ranked passages, one confidence in [0, 1], and the verdict."""

    hits: list[SearchHit]
    confidence: float
    answerable: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Retrieval:
        return cls(hits=[SearchHit(**h) for h in data["hits"]], confidence=data["confidence"],
                   answerable=data["answerable"])


@dataclass
class Weights:
    """How the signals add up. The passage carries most of the meaning; the heading alone matches
    questions phrased like the article's own title; BM25 rewards exact rare terms (product names,
    codes) and is saturated so that a long keyword-stuffed query cannot outweigh meaning."""

    passage: float = 0.7
    heading: float = 0.3
    lexical: float = 0.05
    lexical_saturation: float = 5.0


@dataclass(frozen=True)
class EncodeRequest:
    """Texts to encode (no search), batched with the searches."""

    texts: tuple[str, ...]


class KnowledgeBase:
    def __init__(self, embedder: Embedder, store: VectorStore, *, cache: QueryCache | None = None,
                 answerability: AnswerabilityModel | None = None, weights: Weights | None = None,
                 max_batch: int = 32, max_wait: float = 0.0, encode_threads: int = 0,
                 calibrate: bool = False, exact_max_chunks: int = EXACT_MAX_CHUNKS) -> None:
        self.embedder = embedder
        self.store = store
        self.cache = cache
        self.answerability = answerability or AnswerabilityModel()
        self.default_center = self.answerability.center
        # Per-knowledge-base decline boundary (app.knowledge.calibration), re-measured on every change.
        self.calibrator = Calibrator() if calibrate else None
        self.weights = weights or Weights()
        # Up to this many chunks the nearest neighbours are computed exactly from the snapshot's vectors
        # (one matrix product) instead of asking Chroma's index; 0: always Chroma.
        self.exact_max_chunks = exact_max_chunks
        self._snap: Snapshot | None = None  # chunks, vectors and BM25 of one knowledge-base version
        self._lock = threading.Lock()
        self.encode_threads = encode_threads  # torch threads for a search's encode (0: torch's default)
        # Concurrent turns' searches, run together: one encode and one vector query per batch.
        # Encode-only requests (EncodeRequest: the escalation check's texts) join the same batches, so
        # every encode of a turn goes through one model call per batch and one thread.
        self._batcher: MicroBatcher[tuple[str, int] | EncodeRequest, Retrieval | np.ndarray | Exception] = MicroBatcher(
            self._serve, max_batch=max_batch, max_wait=max_wait, name="retrieval")

    # --- public --------------------------------------------------------------------------------
    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """Search and judge; cached per knowledge-base version. Blocking: call through a thread."""
        return self.retrieve_many([(query, k)])[0]

    async def aretrieve(self, query: str, k: int = 3) -> Retrieval:
        """`retrieve` from the event loop: concurrent callers share one encode and one vector query."""
        result = await self._batcher.submit((query, k))
        assert isinstance(result, Retrieval)
        return result

    async def aencode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, encoded in the same batch as concurrent searches; the vectors are
        remembered, so a search for one of these texts right after does not encode it again."""
        result = await self._batcher.submit(EncodeRequest(tuple(texts)))
        assert isinstance(result, np.ndarray)
        return result

    def _serve(self, items: Sequence[tuple[str, int] | EncodeRequest]) -> list[Retrieval | np.ndarray | Exception]:
        """One batch: the searches' uncached queries and the encode-only texts in one model call, then
        the searches. A failing search fails the searches only: the encodes are still delivered."""
        extra = list(dict.fromkeys(t for item in items if isinstance(item, EncodeRequest) for t in item.texts))
        searches = [item for item in items if not isinstance(item, EncodeRequest)]
        found: list[Retrieval] | Exception = []
        if not searches:  # only encodes: one model call, without touching the store
            self.embedder.encode_array(extra, threads=self.encode_threads, remember=True)
        else:
            try:
                found = self.retrieve_many(searches, remember=True, also_encode=extra)
            except Exception as exc:  # noqa: BLE001 - handed to each search's caller by the batcher
                found = exc
        results: list[Retrieval | np.ndarray | Exception] = []
        position = 0
        for item in items:
            if isinstance(item, EncodeRequest):  # remembered by the search's encode, or encoded now
                results.append(self.embedder.encode_array(list(item.texts), threads=self.encode_threads,
                                                          remember=True))
            elif isinstance(found, Exception):
                results.append(found)
            else:
                results.append(found[position])
                position += 1
        return results

    async def aclose(self) -> None:
        await self._batcher.aclose()

    def retrieve_many(self, requests: Sequence[tuple[str, int]], *, remember: bool = False,
                      also_encode: Sequence[str] = ()) -> list[Retrieval]:
        """`retrieve` for several (query, k) at once: one encode, one query per vector kind. `remember`
        keeps the queries' vectors (the serving path); `also_encode` are texts encoded in the same model
        call and remembered (the escalation check's), whether or not any query needs encoding."""
        version = self.store.version()
        if self.calibrator is not None:
            self.calibrator.ensure(self, version)
        results: list[Retrieval | None] = [None] * len(requests)
        if self.cache is not None:
            for i, (query, k) in enumerate(requests):
                cached = self.cache.get(query, k, version)
                if cached is not None:
                    metrics.RAG_QUERIES.labels(outcome="cached").inc()
                    results[i] = Retrieval.from_json(cached)
        todo = [i for i, r in enumerate(results) if r is None]
        searched = self.search_many([requests[i] for i in todo], version=version, remember=remember,
                                    also_encode=also_encode)
        for i, hits in zip(todo, searched, strict=True):
            confidence = self.answerability.confidence(hits)
            retrieval = Retrieval(hits=hits, confidence=round(confidence, 4),
                                  answerable=self.answerability.is_answerable(confidence))
            if self.cache is not None:
                self.cache.set(*requests[i], version, retrieval.to_json())
            results[i] = retrieval
        return [r for r in results if r is not None]

    def recalibrate(self) -> None:
        """Blocking. Bring the decline boundary up to date with the stored documents (no-op when it is)."""
        if self.calibrator is not None:
            self.calibrator.ensure(self, self.store.version())

    def search(self, query: str, k: int = 3, *, version: str | None = None) -> list[SearchHit]:
        return self.search_many([(query, k)], version=version)[0]

    def search_many(self, requests: Sequence[tuple[str, int]], *, version: str | None = None,
                    remember: bool = False, also_encode: Sequence[str] = ()) -> list[list[SearchHit]]:
        queries = [query for query, _ in requests]
        if also_encode:  # one model call for both; the queries' rows are then remembered
            self.embedder.encode_array(list(dict.fromkeys([*queries, *also_encode])), threads=self.encode_threads,
                                       remember=True)
            remember = True
        if not requests:
            return []
        start = time.perf_counter()
        matrix = self.embedder.encode_array(queries, threads=self.encode_threads, remember=remember)
        results = []
        for (query, k), candidates in zip(requests, self._candidates_many(matrix, queries,
                                                                      version or self.store.version()), strict=True):
            by_doc: dict[str, list[tuple[StoredChunk, dict[str, float]]]] = {}
            for chunk, signals in candidates:
                by_doc.setdefault(str(chunk.metadata.get("doc_id", chunk.id)), []).append((chunk, signals))
            ranked = sorted((_passage(items) for items in by_doc.values()), key=lambda h: -h.score)
            hits = subject.rerank(query, ranked[:k + SUBJECT_POOL])[:k]
            metrics.RAG_QUERIES.labels(outcome="hit" if hits else "empty").inc()
            results.append(hits)
        elapsed = time.perf_counter() - start  # each query of a batch waited for all of it
        for _ in requests:
            metrics.RAG_QUERY_DURATION.observe(elapsed)
        return results

    # --- candidates ----------------------------------------------------------------------------
    def _candidates_many(self, matrix: np.ndarray, queries: list[str],
                         version: str) -> list[list[tuple[StoredChunk, dict[str, float]]]]:
        """Every query's candidates from both vector kinds and BM25: one nearest-neighbour query per
        vector kind for the whole batch (ids only; exact in memory for a small knowledge base, else
        Chroma's index); texts, metadata and vectors from the in-memory snapshot."""
        snapshot = self._snapshot(version)
        nearest = snapshot.nearest_ids if snapshot.exact else self.store.nearest_ids  # exact in memory if small
        passages = nearest(matrix, CANDIDATES)
        headings = nearest(matrix, CANDIDATES, headings=True)
        pools = []
        for query, passage_ids, heading_ids in zip(queries, passages, headings, strict=True):
            lexical = snapshot.lexical.scores(query)
            top_lexical = sorted(lexical, key=lambda i: -lexical[i])[:CANDIDATES]
            chunks: dict[str, StoredChunk] = {}
            for chunk_id in dict.fromkeys(passage_ids + heading_ids + top_lexical):
                chunk = snapshot.chunk(chunk_id)
                if chunk is not None:
                    chunks[chunk_id] = chunk
            heads: dict[str, np.ndarray | None] = {i: snapshot.heads.get(i) for i in chunks}
            missing = [i for i in dict.fromkeys(passage_ids + heading_ids) if i not in chunks]
            pools.append((chunks, heads, lexical, missing))
        if any(p[3] for p in pools):
            self._fetch_missing(pools)
        return [self._score(q, chunks, heads, lexical)
                for q, (chunks, heads, lexical, _) in zip(matrix, pools, strict=True)]

    def _fetch_missing(self, pools: list[tuple[dict[str, StoredChunk], dict[str, np.ndarray | None],
                                               dict[str, float], list[str]]]) -> None:
        """Chunks newer than the snapshot (ingested since it was taken), in one round trip per kind."""
        fetched = {c.id: c for c in self.store.get_chunks(list(dict.fromkeys(i for p in pools for i in p[3])))}
        vectors = self.store.heading_embeddings(list(fetched))
        for chunks, heads, _, missing in pools:
            for chunk_id in missing:
                if chunk_id in fetched:
                    chunks[chunk_id] = fetched[chunk_id]
                    heads[chunk_id] = vectors.get(chunk_id)

    # --- scoring -------------------------------------------------------------------------------
    def _score(self, q: np.ndarray, chunks: dict[str, StoredChunk], heads: dict[str, np.ndarray | None],
               lexical: dict[str, float]) -> list[tuple[StoredChunk, dict[str, float]]]:
        w = self.weights

        scored = []
        for chunk_id, chunk in chunks.items():
            s_chunk = float(q @ chunk.embedding) if chunk.embedding is not None else 0.0
            head = heads.get(chunk_id)
            s_head = float(q @ head) if head is not None else s_chunk
            bm25 = lexical.get(chunk_id, 0.0)
            lex = bm25 / (bm25 + w.lexical_saturation)
            dense = w.passage * s_chunk + w.heading * s_head
            signals = {"chunk": s_chunk, "heading": s_head, "lexical": lex, "dense": dense,
                       "fused": dense + w.lexical * lex}
            scored.append((chunk, signals))
        return scored

    def _snapshot(self, version: str) -> Snapshot:
        with self._lock:
            if self._snap is None or self._snap.version != version:
                self._snap = Snapshot.load(self.store, version, self.exact_max_chunks)
            return self._snap


def _passage(items: list[tuple[StoredChunk, dict[str, float]]], margin: float = 0.05,
             max_sections: int = 2) -> SearchHit:
    """A document's best chunk, joined by its other sections that match nearly as well.

    A short section can beat the one that holds the answer ("The link has expired" vs the reset
    steps); showing both, in document order, keeps the answer without taking a second slot.
    """
    ranked = sorted(items, key=lambda item: -item[1]["fused"])
    best, signals = ranked[0]
    close = [c for c, s in ranked[:max_sections] if signals["fused"] - s["fused"] <= margin]
    distance = 1.0 - signals["dense"]
    if len(close) == 1:
        return SearchHit(best.id, best.content, best.metadata, distance, signals["fused"], signals)
    close.sort(key=lambda c: int(c.metadata.get("chunk_index", 0)))
    parts = []
    for chunk in close:
        section = str(chunk.metadata.get("section") or "")
        parts.append(f"**{section}**\n\n{chunk.content}" if section else chunk.content)
    metadata = {**best.metadata, "sections": [str(c.metadata.get("section") or "") for c in close]}
    return SearchHit(best.id, "\n\n".join(parts), metadata, distance, signals["fused"], signals)
