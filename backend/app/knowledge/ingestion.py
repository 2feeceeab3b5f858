"""Turn a folder of help-center files into chunks in the vector store (idempotent by content hash)."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.knowledge.chunking import split_markdown
from app.knowledge.embeddings import Embedder
from app.knowledge.vector_store import VectorStore
from app.observability import metrics

log = logging.getLogger("app.knowledge.ingestion")

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".pdf", ".docx", ".pptx", ".xlsx", ".html", ".htm", ".csv"}
_PLAIN = {".md", ".markdown", ".txt"}


@dataclass
class IngestReport:
    documents: int = 0
    chunks: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    pruned: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"documents": self.documents, "chunks": self.chunks, "skipped": self.skipped,
                "failed": self.failed, "pruned": self.pruned}


def document_id(relative_path: str) -> str:
    return hashlib.sha1(relative_path.encode(), usedforsecurity=False).hexdigest()[:16]


def extract_text(path: Path) -> str:
    """Markdown text of a file: read directly when it already is text, markitdown otherwise."""
    if path.suffix.lower() in _PLAIN:
        return path.read_text(encoding="utf-8", errors="replace")
    _check_container(path)
    from markitdown import MarkItDown

    return MarkItDown(enable_plugins=False).convert(str(path)).text_content or ""


def _check_container(path: Path) -> None:
    """Fail with the parser's reason on a corrupt file; markitdown would quietly read it as plain text."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfparser import PDFParser

        with path.open("rb") as handle:
            try:
                PDFDocument(PDFParser(handle))
            except Exception as exc:
                raise CorruptDocument(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    elif suffix in {".docx", ".pptx", ".xlsx"} and not zipfile.is_zipfile(path):
        raise CorruptDocument(f"not a readable {suffix[1:].upper()} file (not an Office Open XML zip)")


class CorruptDocument(ValueError):
    pass


def iter_documents(directory: Path) -> Iterable[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith("."):
            yield path


class Ingestor:
    def __init__(self, embedder: Embedder, store: VectorStore, batch_size: int = 64) -> None:
        self.embedder = embedder
        self.store = store
        self.batch_size = batch_size

    def ingest_directory(self, directory: Path, *, prune: bool = False,
                         progress: Callable[[Path], None] | None = None) -> IngestReport:
        report = IngestReport()
        seen: set[str] = set()
        for path in iter_documents(directory):
            rel = path.relative_to(directory).as_posix()
            seen.add(document_id(rel))
            try:
                self.ingest_file(path, rel, report)
            except Exception as exc:  # one bad file must not stop the batch
                report.failed[rel] = f"{type(exc).__name__}: {exc}"[:300]
                metrics.KB_DOCUMENTS_INGESTED.labels(status="failed").inc()
                log.warning("kb.ingest.failed", extra={"source": rel, "reason": report.failed[rel]})
            if progress:
                progress(path)
        if prune:
            for stale in self.store.document_ids() - seen:
                self.store.delete_document(stale)
                report.pruned += 1
        return report

    def ingest_file(self, path: Path, source: str, report: IngestReport) -> None:
        raw = path.read_bytes()
        content_hash = hashlib.sha256(raw).hexdigest()
        doc_id = document_id(source)
        if self.store.document_hash(doc_id) == content_hash:
            report.skipped += 1
            metrics.KB_DOCUMENTS_INGESTED.labels(status="unchanged").inc()
            return
        text = extract_text(path)
        fallback_title = path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
        chunks = split_markdown(text, fallback_title)
        if not chunks:
            report.skipped += 1
            metrics.KB_DOCUMENTS_INGESTED.labels(status="empty").inc()
            log.warning("kb.ingest.empty", extra={"source": source})
            return
        updated_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        self.store.delete_document(doc_id)  # a changed document is replaced whole
        for start in range(0, len(chunks), self.batch_size):
            batch = chunks[start:start + self.batch_size]
            vectors = self.embedder.encode([c.embedding_text() for c in batch], batch_size=self.batch_size)
            self.store.upsert(
                ids=[f"{doc_id}:{start + i}" for i in range(len(batch))],
                embeddings=vectors,
                documents=[c.text for c in batch],
                metadatas=[{"doc_id": doc_id, "source": source, "title": c.title, "section": c.section,
                            "chunk_index": start + i, "content_hash": content_hash,
                            "updated_at": updated_at, "format": path.suffix.lower().lstrip(".")}
                           for i, c in enumerate(batch)],
            )
        report.documents += 1
        report.chunks += len(chunks)
        metrics.KB_DOCUMENTS_INGESTED.labels(status="ingested").inc()
        metrics.KB_CHUNKS_INGESTED.inc(len(chunks))
