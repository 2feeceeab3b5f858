"""Build the knowledge base from settings, and the admin operations on its documents."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from app.config import Settings
from app.knowledge.answerability import AnswerabilityModel
from app.knowledge.cache import LRUQueryCache, QueryCache, RedisQueryCache
from app.knowledge.embeddings import Embedder
from app.knowledge.ingestion import SUPPORTED_SUFFIXES, Ingestor, IngestReport, document_id
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore

log = logging.getLogger("app.knowledge")


def build_cache(settings: Settings, redis: Redis | None = None) -> QueryCache | None:
    """`redis` is the app's one client (app/redis_client.py); call this on the event loop it runs on."""
    choice = settings.rag_cache
    if choice == "auto":
        choice = "redis" if redis is not None else "memory"
    if choice == "off":
        return None
    if choice == "redis":
        if redis is None:
            raise ValueError("RAG_CACHE=redis needs REDIS_URL")
        return RedisQueryCache(redis, asyncio.get_running_loop(), prefix=f"{settings.redis_key_prefix}kbcache",
                               ttl_seconds=settings.rag_cache_ttl_seconds,
                               timeout_seconds=settings.redis_socket_timeout_seconds)
    return LRUQueryCache(settings.rag_cache_max_entries)


def build_knowledge_base(settings: Settings, embedder: Embedder, store: VectorStore,
                         redis: Redis | None = None) -> KnowledgeBase:
    return KnowledgeBase(embedder, store, cache=build_cache(settings, redis),
                         answerability=AnswerabilityModel(threshold=settings.rag_min_confidence),
                         max_batch=settings.rag_batch_max_size, max_wait=settings.rag_batch_max_wait_ms / 1000,
                         encode_threads=settings.embedding_threads, calibrate=settings.rag_calibrate,
                         exact_max_chunks=settings.rag_exact_search_max_chunks)


@dataclass
class DocumentSummary:
    doc_id: str
    source: str
    title: str
    chunks: int
    status: str
    format: str
    updated_at: str
    content_hash: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class KnowledgeAdmin:
    """Upload, list and delete documents; every change moves the knowledge-base version on."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        self.ingestor = Ingestor(knowledge.embedder, knowledge.store)

    def ingest_upload(self, filename: str, data: bytes) -> tuple[str, IngestReport]:
        """Blocking. Raises CorruptDocument (the parser's reason) for a file that cannot be read."""
        suffix = Path(filename).suffix.lower()
        assert suffix in SUPPORTED_SUFFIXES
        workdir = Path(tempfile.mkdtemp(prefix="kb-upload-"))
        try:
            path = workdir / Path(filename).name
            path.write_bytes(data)
            report = self.ingestor.ingest_file(path, Path(filename).name)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.knowledge.recalibrate()  # the version moved on: measure now, not on a customer's question
        return document_id(Path(filename).name), report

    def list_documents(self) -> list[DocumentSummary]:
        _, _, metas = self.knowledge.store.all_chunks()
        docs: dict[str, DocumentSummary] = {}
        for meta in metas:
            doc_id = str(meta.get("doc_id", ""))
            if doc_id not in docs:
                docs[doc_id] = DocumentSummary(
                    doc_id=doc_id, source=str(meta.get("source", "")), title=str(meta.get("title", "")),
                    chunks=0, status="indexed", format=str(meta.get("format", "")),
                    updated_at=str(meta.get("updated_at", "")), content_hash=str(meta.get("content_hash", "")))
            docs[doc_id].chunks += 1
        return sorted(docs.values(), key=lambda d: d.source)

    def delete(self, doc_id: str) -> bool:
        if self.knowledge.store.document_hash(doc_id) is None:
            return False
        self.ingestor.delete(doc_id)
        self.knowledge.recalibrate()
        return True
