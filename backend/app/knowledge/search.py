"""Knowledge-base search used by the agent: dense retrieval, one best passage per document."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.knowledge.embeddings import Embedder
from app.knowledge.vector_store import VectorStore
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
                                                "updated_at") if k in self.metadata}
        return {"id": self.id, "content": self.content, "metadata": meta, "distance": round(self.distance, 4)}


class KnowledgeBase:
    def __init__(self, embedder: Embedder, store: VectorStore) -> None:
        self.embedder = embedder
        self.store = store

    def search(self, query: str, k: int = 3) -> list[SearchHit]:
        """Blocking (model + vector store): call through a thread from async code."""
        start = time.perf_counter()
        vector = self.embedder.encode_one(query)
        # Over-fetch, then keep the best chunk of each document so one article can't fill every slot.
        raw = self.store.query(vector, n_results=k * 4)
        best: dict[str, SearchHit] = {}
        for item in raw:
            doc = str(item.metadata.get("doc_id", item.id))
            if doc not in best or item.distance < best[doc].distance:
                best[doc] = SearchHit(item.id, item.content, item.metadata, item.distance)
        hits = sorted(best.values(), key=lambda h: h.distance)[:k]
        metrics.RAG_QUERY_DURATION.observe(time.perf_counter() - start)
        metrics.RAG_QUERIES.labels(outcome="hit" if hits else "empty").inc()
        return hits
