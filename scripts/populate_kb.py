#!/usr/bin/env python3
"""Ingest a folder of help-center documents into the configured vector store.

    python scripts/populate_kb.py --documents-dir docs/knowledge-base [--prune]

Unchanged documents are skipped (content hash), changed ones replaced, `--prune` removes documents
that are no longer in the folder. Uses the same settings as the server (.env / environment).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from tqdm import tqdm  # noqa: E402

from app.config import Settings  # noqa: E402
from app.knowledge.embeddings import load_embedder  # noqa: E402
from app.knowledge.ingestion import Ingestor, iter_documents  # noqa: E402
from app.knowledge.search import KnowledgeBase  # noqa: E402
from app.knowledge.vector_store import VectorStore  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents-dir", type=Path, required=True)
    parser.add_argument("--prune", action="store_true", help="remove documents that left the folder")
    args = parser.parse_args()
    if not args.documents_dir.is_dir():
        parser.error(f"{args.documents_dir} is not a directory")

    settings = Settings()
    started = time.perf_counter()
    embedder = load_embedder(settings.embedding_model)
    store = VectorStore(settings.chroma_collection, path=settings.chroma_path, host=settings.chroma_host,
                        port=settings.chroma_port)
    files = list(iter_documents(args.documents_dir))
    with tqdm(total=len(files), unit="doc", desc="ingesting") as bar:
        report = Ingestor(embedder, store).ingest_directory(args.documents_dir, prune=args.prune,
                                                            progress=lambda _p: bar.update(1))
    # Measure the decline boundary for the new version now (stored with the collection).
    KnowledgeBase(embedder, store, calibrate=settings.rag_calibrate).recalibrate()
    elapsed = time.perf_counter() - started
    print(f"documents ingested: {report.documents}  chunks: {report.chunks}  skipped (unchanged/empty): "
          f"{report.skipped}  pruned: {report.pruned}  failed: {len(report.failed)}  ({elapsed:.1f}s)")
    for source, reason in report.failed.items():
        print(f"  failed: {source}: {reason}")
    print(json.dumps({**report.as_dict(), "store_chunks": store.count(), "seconds": round(elapsed, 2)}))
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
