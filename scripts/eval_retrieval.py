#!/usr/bin/env python3
"""Retrieval quality on a BEIR-layout dataset, through the agent's own ingestion and retrieval path.

    python scripts/eval_retrieval.py DATASET_DIR [--unanswerable-fraction F] [--seed S] [--k 10] [--batch 1]

DATASET_DIR holds corpus.jsonl, queries.jsonl and qrels/test.tsv. Every corpus entry is written as a
Markdown document (`# title` + text), ingested with the real Ingestor into a temporary Chroma store,
and every query goes through KnowledgeBase.retrieve_many (the agent's path, cache off, with the per-KB
calibration the app runs after ingestion unless --no-calibration), one query at a time or `--batch` at
once as the server's micro-batches do. With F > 0 that
fraction of documents (seeded) is left out first; queries whose relevant documents are all gone are
unanswerable, and the answerability columns report how the agent's own verdict handles them, with two
diagnostics: `caught_at_5pct_declined`, the share of those questions any threshold on the same
confidence could decline while declining at most 5% of the answerable ones (the ceiling of calibration:
below the target, the signal, not the boundary, is what falls short), and `orphaned_on_sibling`, the
share whose best remaining article is the one the removed article's own title retrieves (its nearest
sibling: in a collection of near-duplicate articles, often an answer too).
The last line printed is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from app.knowledge.embeddings import load_embedder  # noqa: E402
from app.knowledge.ingestion import Ingestor  # noqa: E402
from app.knowledge.search import KnowledgeBase  # noqa: E402
from app.knowledge.vector_store import VectorStore  # noqa: E402


def load(dataset: Path) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, set[str]]]:
    corpus = {}
    with (dataset / "corpus.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            corpus[row["_id"]] = {"title": row.get("title", ""), "text": row.get("text", "")}
    queries = {}
    with (dataset / "queries.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            queries[row["_id"]] = row["text"]
    qrels: dict[str, set[str]] = {}
    with (dataset / "qrels" / "test.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    return corpus, {q: t for q, t in queries.items() if q in qrels}, qrels


def auroc(positive: list[float], negative: list[float]) -> float:
    """Probability that a random answerable query scores above a random unanswerable one."""
    if not positive or not negative:
        return float("nan")
    wins = 0.0
    for p in positive:
        for n in negative:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positive) * len(negative))


def ceiling(positive: list[float], negative: list[float], rate: float) -> float:
    """Share of `negative` strictly below the highest threshold that keeps at most `rate` of `positive` below it."""
    if not positive or not negative:
        return float("nan")
    ranked = sorted(positive)
    threshold = ranked[math.floor(rate * len(ranked))]  # at most rate * n answerable scores lie below it
    return sum(v < threshold for v in negative) / len(negative)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--unanswerable-fraction", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--no-calibration", action="store_true",
                        help="judge answerability with the fixed default boundary instead of the per-KB one")
    parser.add_argument("--batch", type=int, default=1,
                        help="queries per KnowledgeBase.retrieve_many call (the server's micro-batches); "
                             "1 = one at a time")
    args = parser.parse_args()
    if not 0.0 <= args.unanswerable_fraction < 1.0:
        parser.error("--unanswerable-fraction must be in [0, 1)")

    corpus, queries, qrels = load(args.dataset)
    removed: set[str] = set()
    if args.unanswerable_fraction > 0:
        ids = sorted(corpus)
        removed = set(random.Random(args.seed).sample(ids, round(len(ids) * args.unanswerable_fraction)))

    embedder = load_embedder("")
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for doc_id, doc in corpus.items():
            if doc_id not in removed:
                body = f"# {doc['title']}\n\n{doc['text']}\n" if doc["title"] else doc["text"]
                (docs / f"{doc_id}.md").write_text(body)
        store = VectorStore("eval_kb", path=Path(tmp) / "chroma")
        started = time.perf_counter()
        report = Ingestor(embedder, store).ingest_directory(docs)
        ingest_s = time.perf_counter() - started
        kb = KnowledgeBase(embedder, store, calibrate=not args.no_calibration)
        started = time.perf_counter()
        kb.recalibrate()  # what ingestion does in the app: measure this knowledge base's decline boundary
        calibrate_s = time.perf_counter() - started

        # The article each removed one's own title finds among those left: its nearest sibling.
        sibling = {doc_id: hits[0].metadata["source"].removesuffix(".md")
                   for doc_id in sorted(removed) if corpus[doc_id]["title"]
                   for hits in [kb.search(corpus[doc_id]["title"], 1)] if hits}

        r1 = r5 = rr = ndcg = 0.0
        on_sibling = 0
        answerable_conf, unanswerable_conf = [], []
        declined = caught = 0
        started = time.perf_counter()
        items = list(queries.items())
        retrievals = [r for i in range(0, len(items), args.batch)
                      for r in kb.retrieve_many([(text, args.k) for _, text in items[i:i + args.batch]])]
        for (qid, _), retrieval in zip(items, retrievals, strict=True):
            relevant = qrels[qid] - removed
            ranked = [h.metadata["source"].removesuffix(".md") for h in retrieval.hits]
            if not relevant:
                unanswerable_conf.append(retrieval.confidence)
                caught += not retrieval.answerable
                on_sibling += bool(ranked) and ranked[0] in {sibling.get(d) for d in qrels[qid]}
                continue
            answerable_conf.append(retrieval.confidence)
            declined += not retrieval.answerable
            r1 += len(relevant & set(ranked[:1])) / len(relevant)
            r5 += len(relevant & set(ranked[:5])) / len(relevant)
            rr += next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
            dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
            idcg = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
            ndcg += dcg / idcg
        query_s = time.perf_counter() - started

    n = len(answerable_conf)
    result: dict[str, float | int | str] = {
        "dataset": args.dataset.name, "documents": report.documents, "chunks": report.chunks,
        "queries": len(queries), "answerable_queries": n, "recall@1": round(r1 / n, 4),
        "recall@5": round(r5 / n, 4), "mrr@10": round(rr / n, 4), "ndcg@10": round(ndcg / n, 4),
        "ingest_seconds": round(ingest_s, 2), "calibration_seconds": round(calibrate_s, 2),
        "decline_center": kb.answerability.center, "query_ms_mean": round(1000 * query_s / max(1, len(queries)), 2),
    }
    if args.unanswerable_fraction > 0:
        result.update({
            "unanswerable_fraction": args.unanswerable_fraction, "seed": args.seed,
            "unanswerable_queries": len(unanswerable_conf),
            "answerability_auroc": round(auroc(answerable_conf, unanswerable_conf), 4),
            "unanswerable_caught": round(caught / max(1, len(unanswerable_conf)), 4),
            "answerable_declined": round(declined / max(1, n), 4),
            "caught_at_5pct_declined": round(ceiling(answerable_conf, unanswerable_conf, 0.05), 4),
            "orphaned_on_sibling": round(on_sibling / max(1, len(unanswerable_conf)), 4),
        })
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
