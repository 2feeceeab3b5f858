"""Chroma, embedded (PersistentClient in a folder) or a server (HttpClient when CHROMA_HOST is set).

Two collections: `<name>` holds one vector per chunk (title + section + text), `<name>_headings` one
vector per chunk of its heading path alone (title and section, the "question" a FAQ entry answers).
The knowledge-base version, changed by every ingestion or deletion, lives in the chunk collection's
metadata so that every instance sharing a Chroma server sees the same one.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InternalError

T = TypeVar("T")


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
        self._chroma_settings, self._path = chroma_settings, path
        self._reopen_lock = threading.Lock()
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

    def reopen(self) -> None:
        """Load the store again. An embedded store keeps its index in this process's memory: when another
        process (scripts/populate_kb.py) writes to the folder, that copy goes stale and reads fail with
        "Error finding id" until it is dropped and loaded from disk again."""
        with self._reopen_lock:
            if self.mode == "embedded":
                from chromadb.api.shared_system_client import SharedSystemClient

                identifier = self.client._identifier
                stale = SharedSystemClient._identifier_to_system.pop(identifier, None)
                SharedSystemClient._identifier_to_refcount.pop(identifier, None)
                self.client = chromadb.PersistentClient(path=str(self._path), settings=self._chroma_settings)
                if stale is not None:
                    stale.stop()
            self.collection = self._collection(self.collection_name)
            self.headings = self._collection(f"{self.collection_name}_headings")
            self._version = None

    def _read(self, call: Callable[[], T]) -> T:
        """A read, retried once on a reloaded store when the loaded copy turns out stale."""
        try:
            return call()
        except InternalError:
            self.reopen()
            return call()

    def probe(self, dimension: int) -> dict[str, Any]:
        """Answer one real query on both collections and read back what it found (the health check)."""
        vector = [1.0] + [0.0] * (dimension - 1)
        found = self.query(vector, 1) + self.query(vector, 1, headings=True)
        self.get_chunks([c.id for c in found[:1]])
        return {"chunks": self.count(), "query": "ok"}

    # --- version -------------------------------------------------------------------------------
    def version(self) -> str:
        """Re-read at most every `version_ttl` seconds: another instance's ingestion shows up that fast."""
        now = time.monotonic()
        if self._version is None or now - self._version[1] > self.version_ttl:
            meta = self.client.get_collection(self.collection_name).metadata or {}
            version = str(meta.get("kb_version", "0"))
            if self._version is not None and version != self._version[0] and self.mode == "embedded":
                self.reopen()  # changed by another process: our loaded copy of the index is stale
            self._version = (version, now)
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

    def query(self, embedding: list[float], n_results: int, *, headings: bool = False) -> list[StoredChunk]:
        n = min(n_results, self.count())
        if n == 0:
            return []
        res = self._read(lambda: (self.headings if headings else self.collection).query(
            query_embeddings=[embedding], n_results=n, include=["documents", "metadatas", "distances", "embeddings"]))
        ids = res["ids"][0]
        docs = (res.get("documents") or [[]])[0]
        metas = (res.get("metadatas") or [[]])[0]
        dists = (res.get("distances") or [[]])[0]
        embs = res.get("embeddings")
        vectors = list(embs[0]) if embs is not None else [None] * len(ids)
        return [StoredChunk(id=i, content=d or "", metadata=dict(m or {}), distance=float(dist),
                            embedding=None if v is None else np.asarray(v, dtype=np.float32))
                for i, d, m, dist, v in zip(ids, docs, metas, dists, vectors, strict=True)]

    def snapshot(self) -> tuple[list[StoredChunk], dict[str, np.ndarray]]:
        """Every chunk with its passage vector, and every heading vector by chunk id (two round trips)."""
        got = self._read(lambda: self.collection.get(include=["documents", "metadatas", "embeddings"]))
        embs = got.get("embeddings")
        chunks = [StoredChunk(id=i, content=d or "", metadata=dict(m or {}), distance=float("nan"),
                              embedding=_frozen(e))
                  for i, d, m, e in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or [],
                                        embs if embs is not None else [], strict=True)]
        heads = self._read(lambda: self.headings.get(include=["embeddings"]))
        head_embs = heads.get("embeddings")
        return chunks, {i: _frozen(e) for i, e in zip(heads["ids"], head_embs if head_embs is not None else [],
                                                      strict=True)}

    def nearest_ids(self, embeddings: np.ndarray, n_results: int, *, headings: bool = False) -> list[list[str]]:
        """Ids of the nearest chunks for each row of `embeddings`, nearest first, in one round trip."""
        if n_results == 0 or len(embeddings) == 0:
            return [[] for _ in range(len(embeddings))]
        res = self._read(lambda: (self.headings if headings else self.collection).query(
            query_embeddings=embeddings, n_results=n_results, include=["distances"]))
        return [list(ids) for ids in res["ids"]]

    def get_chunks(self, ids: list[str]) -> list[StoredChunk]:
        if not ids:
            return []
        got = self._read(lambda: self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"]))
        embs = got.get("embeddings")
        return [StoredChunk(id=i, content=d or "", metadata=dict(m or {}), distance=float("nan"),
                            embedding=np.asarray(e, dtype=np.float32))
                for i, d, m, e in zip(got["ids"], got.get("documents") or [], got.get("metadatas") or [],
                                      embs if embs is not None else [], strict=True)]

    def heading_embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._read(lambda: self.headings.get(ids=ids, include=["embeddings"]))
        embs = got.get("embeddings")
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], embs if embs is not None else [],
                                                                   strict=True)}


def _frozen(vector: Any) -> np.ndarray:
    """A read-only float32 copy: snapshot vectors are shared by every search."""
    array = np.array(vector, dtype=np.float32)
    array.flags.writeable = False
    return array
