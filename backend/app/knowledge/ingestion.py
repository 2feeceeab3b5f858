"""Turn a folder of help-center files into chunks in the vector store (idempotent by content hash)."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.knowledge.chunking import Chunk, split_markdown
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
    empty: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"documents": self.documents, "chunks": self.chunks, "skipped": self.skipped,
                "failed": self.failed, "pruned": self.pruned, "empty": self.empty}


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
    elif suffix in {".docx", ".pptx", ".xlsx"}:
        if not zipfile.is_zipfile(path):
            raise CorruptDocument(f"not a readable {suffix[1:].upper()} file (not an Office Open XML zip)")
        # Admin uploads are parsed in process (trusted keys), but a bomb must still not reach the parser.
        from app.files.zip_guard import ZipLimits, zip_problem

        problem = zip_problem(path, ZipLimits())
        if problem:
            raise CorruptDocument(f"refused {suffix[1:].upper()} archive: {problem}")


class CorruptDocument(ValueError):
    pass


def iter_documents(directory: Path) -> Iterable[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith("."):
            yield path


@dataclass
class _Prepared:
    doc_id: str
    source: str
    content_hash: str
    chunks: list[Chunk]
    updated_at: str
    fmt: str
    replaces: bool = False  # an older version is stored and must go first


class Ingestor:
    """Extract, chunk and embed documents; embeddings are computed in batches across documents."""

    def __init__(self, embedder: Embedder, store: VectorStore, batch_size: int = 64,
                 flush_chunks: int = 512) -> None:
        self.embedder = embedder
        self.store = store
        self.batch_size = batch_size
        self.flush_chunks = flush_chunks

    def ingest_directory(self, directory: Path, *, prune: bool = False,
                         progress: Callable[[Path], None] | None = None) -> IngestReport:
        report = IngestReport()
        seen: set[str] = set()
        pending: list[_Prepared] = []
        stored = self.store.document_hashes()  # one read instead of one per file
        for path in iter_documents(directory):
            rel = path.relative_to(directory).as_posix()
            seen.add(document_id(rel))
            prepared = self._prepare_logged(path, rel, report, stored)
            if prepared:
                pending.append(prepared)
                if sum(len(p.chunks) for p in pending) >= self.flush_chunks:
                    self._write(pending, report)
                    pending = []
            if progress:
                progress(path)
        self._write(pending, report)
        if prune:
            for stale in set(stored) - seen:
                self.store.delete_document(stale)
                report.pruned += 1
        if report.documents or report.pruned:
            self.store.bump_version()
        return report

    def ingest_file(self, path: Path, source: str) -> IngestReport:
        """One file (admin upload). A corrupt file raises CorruptDocument with the parser's reason."""
        report = IngestReport()
        doc_id = document_id(source)
        known = self.store.document_hash(doc_id)
        prepared = self._prepare(path, source, report, {doc_id: known} if known else {})
        if prepared:
            self._write([prepared], report)
        if report.documents or report.pruned:
            self.store.bump_version()
        return report

    def delete(self, doc_id: str) -> None:
        self.store.delete_document(doc_id)
        self.store.bump_version()

    def _prepare_logged(self, path: Path, source: str, report: IngestReport,
                        stored: dict[str, str]) -> _Prepared | None:
        try:
            return self._prepare(path, source, report, stored)
        except Exception as exc:  # one bad file must not stop the batch
            report.failed[source] = f"{type(exc).__name__}: {exc}"[:300]
            metrics.KB_DOCUMENTS_INGESTED.labels(status="failed").inc()
            log.warning("kb.ingest.failed", extra={"source": source, "reason": report.failed[source]})
            return None

    def _prepare(self, path: Path, source: str, report: IngestReport,
                 stored: dict[str, str]) -> _Prepared | None:
        """`stored` maps the doc ids already in the store to their content hash."""
        raw = path.read_bytes()
        content_hash = hashlib.sha256(raw).hexdigest()
        doc_id = document_id(source)
        if stored.get(doc_id) == content_hash:
            report.skipped += 1
            metrics.KB_DOCUMENTS_INGESTED.labels(status="unchanged").inc()
            return None
        text = extract_text(path)
        fallback_title = path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
        chunks = split_markdown(text, fallback_title)
        if not chunks:
            if doc_id in stored:  # it had content before: its old chunks must not keep answering
                self.store.delete_document(doc_id)
                report.pruned += 1
            report.skipped += 1
            report.empty.append(source)
            metrics.KB_DOCUMENTS_INGESTED.labels(status="empty").inc()
            log.warning("kb.ingest.empty", extra={"source": source})
            return None
        updated_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        return _Prepared(doc_id, source, content_hash, chunks, updated_at, path.suffix.lower().lstrip("."),
                         replaces=doc_id in stored)

    def _write(self, docs: list[_Prepared], report: IngestReport) -> None:
        if not docs:
            return
        flat = [(d, i, c) for d in docs for i, c in enumerate(d.chunks)]
        vectors = self.embedder.encode([c.embedding_text() for _, _, c in flat], batch_size=self.batch_size)
        heading_texts = [c.heading_text() for _, _, c in flat]
        unique = list(dict.fromkeys(heading_texts))  # sections split in several chunks share one heading
        by_heading = dict(zip(unique, self.embedder.encode(unique, batch_size=self.batch_size), strict=True))
        for doc in docs:
            if doc.replaces:
                self.store.delete_document(doc.doc_id)  # a changed document is replaced whole
        for start in range(0, len(flat), 1000):
            part = flat[start:start + 1000]
            self.store.upsert(
                ids=[f"{d.doc_id}:{i}" for d, i, _ in part],
                embeddings=vectors[start:start + len(part)],
                documents=[c.text for _, _, c in part],
                metadatas=[{"doc_id": d.doc_id, "source": d.source, "title": c.title, "section": c.section,
                            "chunk_index": i, "content_hash": d.content_hash, "updated_at": d.updated_at,
                            "format": d.fmt} for d, i, c in part],
                heading_embeddings=[by_heading[h] for h in heading_texts[start:start + len(part)]],
                headings=heading_texts[start:start + len(part)],
            )
        report.documents += len(docs)
        report.chunks += len(flat)
        metrics.KB_DOCUMENTS_INGESTED.labels(status="ingested").inc(len(docs))
        metrics.KB_CHUNKS_INGESTED.inc(len(flat))
