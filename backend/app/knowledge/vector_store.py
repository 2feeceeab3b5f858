"""Chroma, embedded (PersistentClient in a folder) or a server (HttpClient when CHROMA_HOST is set)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings


@dataclass(frozen=True)
class StoredChunk:
    id: str
    content: str
    metadata: dict[str, Any]
    distance: float


class VectorStore:
    def __init__(self, collection: str, *, path: Path | None = None, host: str = "", port: int = 8000) -> None:
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if host:
            self.client: Any = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
            self.mode = "server"
        else:
            assert path is not None, "an embedded store needs a folder"
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self.mode = "embedded"
        self.collection_name = collection
        self.collection = self.client.get_or_create_collection(
            collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def count(self) -> int:
        return int(self.collection.count())

    def heartbeat(self) -> None:
        self.client.heartbeat()

    def upsert(self, ids: list[str], embeddings: list[list[float]], documents: list[str],
               metadatas: list[dict[str, Any]]) -> None:
        self.collection.upsert(ids=ids, embeddings=embeddings, documents=documents,
                               metadatas=metadatas)

    def delete_document(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def document_hash(self, doc_id: str) -> str | None:
        got = self.collection.get(where={"doc_id": doc_id}, limit=1, include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("content_hash")) if metas else None

    def document_ids(self) -> set[str]:
        got = self.collection.get(include=["metadatas"])
        return {str(m["doc_id"]) for m in (got.get("metadatas") or []) if m and "doc_id" in m}

    def query(self, embedding: list[float], n_results: int) -> list[StoredChunk]:
        n = min(n_results, self.count())
        if n == 0:
            return []
        res = self.collection.query(query_embeddings=[embedding], n_results=n,
                                    include=["documents", "metadatas", "distances"])
        ids = res["ids"][0]
        docs = (res.get("documents") or [[]])[0]
        metas = (res.get("metadatas") or [[]])[0]
        dists = (res.get("distances") or [[]])[0]
        return [StoredChunk(id=i, content=d or "", metadata=dict(m or {}), distance=float(dist))
                for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)]
