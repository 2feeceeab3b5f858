"""Knowledge-base search used by the agent: dense retrieval, one best passage per document."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.knowledge.embeddings import Embedder
from app.knowledge.vector_store import StoredChunk, VectorStore
from app.observability import metrics


@dataclass(frozen=True)
class SearchHit:
    id: str
    content: str
    metadata: dict[str, Any]
    distance: float

    def as_source(self) -> dict[str, Any]:
        """The seed's source shape: {id, content, metadata: {source, ...}, distance}."""
        meta = {k: self.metadata[k] for k in ("source", "title", "section", "doc_id", "chunk_index",
                                                "updated_at", "sections") if k in self.metadata}
        return {"id": self.id, "content": self.content, "metadata": meta, "distance": round(self.distance, 4)}


@dataclass(frozen=True)
class Retrieval:
    """What the agent needs to decide: the passages, one confidence in [0, 1], and the verdict."""

    hits: list[SearchHit]
    confidence: float
    answerable: bool


class KnowledgeBase:
    def __init__(self, embedder: Embedder, store: VectorStore, max_distance: float = 0.62) -> None:
        self.embedder = embedder
        self.store = store
        self.max_distance = max_distance

    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """Search and judge: `answerable` is False when the help center most likely has no answer.

        Blocking: call through a thread from async code.
        """
        hits = self.search(query, k)
        confidence = max(0.0, 1.0 - hits[0].distance) if hits else 0.0
        relevant = [h for h in hits if h.distance <= self.max_distance]
        return Retrieval(hits=relevant, confidence=round(confidence, 4), answerable=bool(relevant))

    def search(self, query: str, k: int = 3) -> list[SearchHit]:
        """Blocking (model + vector store): call through a thread from async code."""
        start = time.perf_counter()
        vector = self.embedder.encode_one(query)
        # Over-fetch, then give each document one passage so one article can't fill every slot.
        raw = self.store.query(vector, n_results=k * 4)
        by_doc: dict[str, list[StoredChunk]] = {}
        for item in raw:
            by_doc.setdefault(str(item.metadata.get("doc_id", item.id)), []).append(item)
        hits = sorted((_passage(chunks) for chunks in by_doc.values()), key=lambda h: h.distance)[:k]
        metrics.RAG_QUERY_DURATION.observe(time.perf_counter() - start)
        metrics.RAG_QUERIES.labels(outcome="hit" if hits else "empty").inc()
        return hits


def _passage(chunks: list[StoredChunk], margin: float = 0.05, max_sections: int = 2) -> SearchHit:
    """A document's best chunk, joined by its other sections that match nearly as well.

    A short section can beat the one that holds the answer ("The link has expired" vs the reset
    steps); showing both, in document order, keeps the answer without a second slot.
    """
    ranked = sorted(chunks, key=lambda c: c.distance)
    best = ranked[0]
    close = [c for c in ranked[:max_sections] if c.distance - best.distance <= margin]
    if len(close) == 1:
        return SearchHit(best.id, best.content, best.metadata, best.distance)
    close.sort(key=lambda c: int(c.metadata.get("chunk_index", 0)))
    parts = []
    for chunk in close:
        section = str(chunk.metadata.get("section") or "")
        parts.append(f"**{section}**\n\n{chunk.content}" if section else chunk.content)
    metadata = {**best.metadata, "sections": [str(c.metadata.get("section") or "") for c in close]}
    return SearchHit(best.id, "\n\n".join(parts), metadata, best.distance)
