"""Chroma, embedded (PersistentClient in a folder) or a server (HttpClient when CHROMA_HOST is set).

Two collections: `<name>` holds one vector per chunk (title + section + text), `<name>_headings` one
vector per chunk of its heading path alone (title and section, the "question" a FAQ entry answers).
The knowledge-base version, changed by every ingestion or deletion, lives in the chunk collection's
metadata so that every instance sharing a Chroma server sees the same one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings


@dataclass(frozen=True)
class StoredChunk:
    id: str
    content: str
    metadata: dict[str, Any]
    distance: float
    embedding: np.ndarray | None = None


class VectorStore:
    def __init__(self, collection: str, *, path: Path | None = None, host: str = "", port: int = 8000,
                 version_ttl: float = 1.0) -> None:
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
        self.version_ttl = version_ttl
        self._version: tuple[str, float] | None = None
        self.collection = self._collection(collection)
        self.headings = self._collection(f"{collection}_headings")

    def _collection(self, name: str) -> Any:
        return self.client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)

    # --- version -------------------------------------------------------------------------------
    def version(self) -> str:
        """Re-read at most every `version_ttl` seconds: another instance's ingestion shows up that fast."""
        now = time.monotonic()
        if self._version is None or now - self._version[1] > self.version_ttl:
            meta = self.client.get_collection(self.collection_name).metadata or {}
            self._version = (str(meta.get("kb_version", "0")), now)
        return self._version[0]

    def bump_version(self) -> str:
        version = uuid.uuid4().hex[:16]  # unique, so concurrent writers never need a read-modify-write
        self.collection.modify(metadata={"kb_version": version})
        self._version = (version, time.monotonic())
        return version

    # --- writes --------------------------------------------------------------------------------
    def upsert(self, ids: list[str], embeddings: list[list[float]], documents: list[str],
               metadatas: list[dict[str, Any]], heading_embeddings: list[list[float]],
               headings: list[str]) -> None:
        self.collection.upsert(ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas)
        self.headings.upsert(ids=ids, embeddings=heading_embeddings, documents=headings,
                             metadatas=[{"doc_id": m["doc_id"]} for m in metadatas])

    def delete_document(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})
        self.headings.delete(where={"doc_id": doc_id})

    # --- reads ---------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.collection.count())

    def heartbeat(self) -> None:
        self.client.heartbeat()

    def document_hash(self, doc_id: str) -> str | None:
        got = self.collection.get(where={"doc_id": doc_id}, limit=1, include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("content_hash")) if metas else None

    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of every stored document, in one round trip."""
        got = self.collection.get(include=["metadatas"])
        return {str(m["doc_id"]): str(m.get("content_hash")) for m in got.get("metadatas") or [] if m and "doc_id" in m}

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        got = self.collection.get(include=["documents", "metadatas"])
        return (list(got["ids"]), [d or "" for d in got.get("documents") or []],
                [dict(m or {}) for m in got.get("metadatas") or []])

    def snapshot(self) -> tuple[list[StoredChunk], dict[str, np.ndarray]]:
        """Every chunk with its passage vector, and every heading vector by chunk id (two round trips)."""
        got = self.collection.get(include=["documents", "metadatas", "embeddings"])
        embs = got.get("embeddings")
        chunks = [StoredChunk(id=i, content=d or "", metadata=dict(m or {}), distance=float("nan"),
                              embedding=_frozen(e))
                  for i, d, m, e in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or [],
                                        embs if embs is not None else [], strict=True)]
        heads = self.headings.get(include=["embeddings"])
        head_embs = heads.get("embeddings")
        return chunks, {i: _frozen(e) for i, e in zip(heads["ids"], head_embs if head_embs is not None else [],
                                                      strict=True)}

    def nearest_ids(self, embeddings: np.ndarray, n_results: int, *, headings: bool = False) -> list[list[str]]:
        """Ids of the nearest chunks for each row of `embeddings`, nearest first, in one round trip."""
        if n_results == 0 or len(embeddings) == 0:
            return [[] for _ in range(len(embeddings))]
        collection = self.headings if headings else self.collection
        res = collection.query(query_embeddings=embeddings, n_results=n_results, include=["distances"])
        return [list(ids) for ids in res["ids"]]

    def get_chunks(self, ids: list[str]) -> list[StoredChunk]:
        if not ids:
            return []
        got = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        embs = got.get("embeddings")
        return [StoredChunk(id=i, content=d or "", metadata=dict(m or {}), distance=float("nan"),
                            embedding=np.asarray(e, dtype=np.float32))
                for i, d, m, e in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or [],
                                      embs if embs is not None else [], strict=True)]

    def heading_embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self.headings.get(ids=ids, include=["embeddings"])
        embs = got.get("embeddings")
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], embs if embs is not None else [],
                                                                   strict=True)}


def _frozen(vector: Any) -> np.ndarray:
    """A read-only float32 copy: snapshot vectors are shared by every search."""
    array = np.array(vector, dtype=np.float32)
    array.flags.writeable = False
    return array
