#!/usr/bin/env python3
"""Ingestion throughput beside raw `model.encode` on the same chunks, in the same run.

    python scripts/bench_ingest.py DIR [--repeat 1]

Ingests DIR (e.g. ../shared/eval/banking-kb) into a temporary embedded Chroma store through the real
Ingestor (extraction, chunking, batched embeddings of passages and headings, Chroma writes), then
encodes exactly the same chunk texts with the bare model and prints docs/s, chunks/s and the ratio;
then the heading texts too, so the second ratio compares against everything ingestion embeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from app.knowledge.embeddings import load_embedder  # noqa: E402
from app.knowledge.ingestion import Ingestor  # noqa: E402
from app.knowledge.vector_store import VectorStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    if not args.directory.is_dir():
        parser.error(f"{args.directory} is not a directory")

    embedder = load_embedder("")
    embedder.encode(["warm up the model"] * 8)
    with tempfile.TemporaryDirectory() as tmp:
        store = VectorStore("bench_kb", path=Path(tmp) / "chroma")
        started = time.perf_counter()
        report = Ingestor(embedder, store).ingest_directory(args.directory)
        ingest_s = time.perf_counter() - started
        ids, texts, metas = store.all_chunks()
        chunk_texts = [f"{m['title']}\n{t}" if not m.get("section") else f"{m['title']} - {m['section']}\n{t}"
                       for t, m in zip(texts, metas, strict=True)]

    started = time.perf_counter()
    embedder.model.encode(chunk_texts, batch_size=64, show_progress_bar=False)
    encode_s = time.perf_counter() - started
    # Ingestion also embeds each chunk's heading path on its own (the second vector); this is the
    # bare-model cost of that extra work, to tell pipeline overhead from the price of the design.
    headings = list(dict.fromkeys(t.split("\n", 1)[0] for t in chunk_texts))
    started = time.perf_counter()
    embedder.model.encode(headings, batch_size=64, show_progress_bar=False)
    headings_s = time.perf_counter() - started

    docs_s, chunks_s = report.documents / ingest_s, report.chunks / ingest_s
    raw_chunks_s = len(chunk_texts) / encode_s
    result = {"documents": report.documents, "chunks": report.chunks, "failed": len(report.failed),
              "ingest_seconds": round(ingest_s, 2), "docs_per_s": round(docs_s, 1),
              "chunks_per_s": round(chunks_s, 1), "raw_encode_chunks_per_s": round(raw_chunks_s, 1),
              "ratio_to_raw_encode": round(chunks_s / raw_chunks_s, 3),
              "raw_encode_headings_seconds": round(headings_s, 2),
              "ratio_to_raw_encode_of_all_vectors": round((encode_s + headings_s) / ingest_s, 3)}
    for key, value in result.items():
        print(f"{key:<26}{value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
