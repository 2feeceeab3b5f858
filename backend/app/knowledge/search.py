"""Hybrid retrieval used by the agent: dense passages + dense headings + BM25, one passage per document.

Each candidate chunk gets three signals: cosine similarity of the question to the chunk (title,
section and text), to the chunk's heading path alone (for a FAQ, the question it answers), and a
BM25 score over the chunk text. Dense candidates come from Chroma (both collections); lexical ones
from an in-memory BM25 index rebuilt whenever the knowledge-base version changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.knowledge import subject
from app.knowledge.answerability import AnswerabilityModel
from app.knowledge.cache import QueryCache
from app.knowledge.calibration import Calibrator
from app.knowledge.embeddings import Embedder
from app.knowledge.lexical import LexicalIndex
from app.knowledge.vector_store import StoredChunk, VectorStore
from app.observability import metrics

CANDIDATES = 40  # per retriever; enough for recall, small enough to rescore in a millisecond
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


class KnowledgeBase:
    def __init__(self, embedder: Embedder, store: VectorStore, *, cache: QueryCache | None = None,
                 answerability: AnswerabilityModel | None = None, weights: Weights | None = None,
                 calibrate: bool = False) -> None:
        self.embedder = embedder
        self.store = store
        self.cache = cache
        self.answerability = answerability or AnswerabilityModel()
        self.default_center = self.answerability.center
        # Per-knowledge-base decline boundary (app.knowledge.calibration), re-measured on every change.
        self.calibrator = Calibrator() if calibrate else None
        self.weights = weights or Weights()
        self._lexical: LexicalIndex | None = None
        self._lexical_version: str | None = None
        self._lock = threading.Lock()

    # --- public --------------------------------------------------------------------------------
    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """Search and judge; cached per knowledge-base version. Blocking: call through a thread."""
        version = self.store.version()
        if self.calibrator is not None:
            self.calibrator.ensure(self, version)
        if self.cache is not None:
            cached = self.cache.get(query, k, version)
            if cached is not None:
                metrics.RAG_QUERIES.labels(outcome="cached").inc()
                return Retrieval.from_json(cached)
        hits = self.search(query, k, version=version)
        confidence = self.answerability.confidence(hits)
        retrieval = Retrieval(hits=hits, confidence=round(confidence, 4),
                              answerable=self.answerability.is_answerable(confidence))
        if self.cache is not None:
            self.cache.set(query, k, version, retrieval.to_json())
        return retrieval

    def recalibrate(self) -> None:
        """Blocking. Bring the decline boundary up to date with the stored documents (no-op when it is)."""
        if self.calibrator is not None:
            self.calibrator.ensure(self, self.store.version())

    def search(self, query: str, k: int = 3, *, version: str | None = None) -> list[SearchHit]:
        start = time.perf_counter()
        q = np.asarray(self.embedder.encode_one(query), dtype=np.float32)
        candidates = self._candidates(q, query, version or self.store.version())
        by_doc: dict[str, list[tuple[StoredChunk, dict[str, float]]]] = {}
        for chunk, signals in candidates:
            by_doc.setdefault(str(chunk.metadata.get("doc_id", chunk.id)), []).append((chunk, signals))
        ranked = sorted((_passage(items) for items in by_doc.values()), key=lambda h: -h.score)
        hits = subject.rerank(query, ranked[:k + SUBJECT_POOL])[:k]
        metrics.RAG_QUERY_DURATION.observe(time.perf_counter() - start)
        metrics.RAG_QUERIES.labels(outcome="hit" if hits else "empty").inc()
        return hits

    # --- scoring -------------------------------------------------------------------------------
    def _candidates(self, q: np.ndarray, query: str, version: str) -> list[tuple[StoredChunk, dict[str, float]]]:
        chunks = {c.id: c for c in self.store.query(q.tolist(), CANDIDATES)}
        heads = {c.id: c.embedding for c in self.store.query(q.tolist(), CANDIDATES, headings=True)}
        lexical = self._lexical_index(version).scores(query)
        top_lexical = sorted(lexical, key=lambda i: -lexical[i])[:CANDIDATES]
        missing = [i for i in list(heads) + top_lexical if i not in chunks]
        for chunk in self.store.get_chunks(list(dict.fromkeys(missing))):
            chunks[chunk.id] = chunk
        need_heads = [i for i in chunks if heads.get(i) is None]
        heads.update(self.store.heading_embeddings(need_heads))
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

    def _lexical_index(self, version: str) -> LexicalIndex:
        with self._lock:
            if self._lexical is None or self._lexical_version != version:
                ids, texts, metas = self.store.all_chunks()
                enriched = [f"{m.get('title', '')} {m.get('section', '')} {t}" for t, m in zip(texts, metas,
                                                                                             strict=True)]
                self._lexical = LexicalIndex(ids, enriched)
                self._lexical_version = version
            return self._lexical


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
