#!/usr/bin/env python3
"""Answer quality end to end: the questions go through the same path a customer's message takes.

    python scripts/eval_answers.py KB_DIR [--questions FILE] [--data-dir DIR] [--show]

KB_DIR is a help-center folder (any format the ingestor reads). It is ingested with the real Ingestor
into a temporary store (or into --data-dir, kept between runs: unchanged files are skipped), then the
real app is started in-process (create_app + lifespan, httpx over the ASGI transport, as the tests
do) and every question of the JSON Lines file (default KB_DIR/answers.dev.jsonl) is sent as a customer
message on a fresh session: `POST /chat/sessions/{id}/messages`.

Each question line: `question`, `answerable`, `expect` (facts; each a list of accepted spellings,
matched case-insensitively after collapsing whitespace and dropping `*_\\`` characters), `sources`
(file names without extension), `kind`. Reported per kind and overall: the share of answers holding
every expected fact, the share citing an expected source, answerable questions declined,
unanswerable questions declined, median answer length. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

import httpx  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402

from app.config import Settings  # noqa: E402
from app.knowledge.embeddings import load_embedder  # noqa: E402
from app.knowledge.ingestion import Ingestor  # noqa: E402
from app.knowledge.vector_store import VectorStore  # noqa: E402
from app.main import create_app  # noqa: E402

COLLECTION = "knowledge_base"


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*_`]", "", text)).strip().lower()


def has_fact(answer: str, spellings: list[str]) -> bool:
    return any(normalise(s) in answer for s in spellings)


def declined(reply: dict[str, Any]) -> bool:
    """Not grounded in the help center: the `grounded` flag when the API has it, else no sources."""
    if "grounded" in reply:
        return not reply["grounded"]
    return not reply.get("sources")


def ingest(kb_dir: Path, data_dir: Path) -> dict[str, Any]:
    store = VectorStore(COLLECTION, path=data_dir / "chroma")
    started = time.perf_counter()
    report = Ingestor(load_embedder(""), store).ingest_directory(kb_dir)
    return {"documents": report.documents, "chunks": report.chunks, "skipped": report.skipped,
            "failed": len(report.failed), "ingest_seconds": round(time.perf_counter() - started, 1)}


async def ask_all(data_dir: Path, questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    settings = Settings(_env_file=None, environment="test", data_dir=data_dir, log_level="WARNING",  # type: ignore[call-arg]
                        kb_auto_ingest=False, rag_cache="off", chroma_collection=COLLECTION,
                        rate_limits_enabled=False)  # one client asks every question: not what the limits are for
    app = create_app(settings)
    replies = []
    async with LifespanManager(app, startup_timeout=300, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eval", timeout=120) as client:
            await warm_up(client)
            for q in questions:
                created = await client.post("/chat/sessions", json={"user_id": "eval"})
                created.raise_for_status()
                session = created.json()
                headers = {"Authorization": f"Bearer {session['session_token']}"}
                response = await client.post(f"/chat/sessions/{session['session_id']}/messages",
                                             json={"message": q["question"]}, headers=headers)
                response.raise_for_status()
                replies.append(response.json())
    return replies


async def warm_up(client: httpx.AsyncClient) -> None:
    """One uncounted question first: the lexical index is built on the first search after start, and on a
    busy machine that can exceed the tool timeout, which would count as a decline."""
    session = (await client.post("/chat/sessions", json={"user_id": "eval-warm-up"})).json()
    await client.post(f"/chat/sessions/{session['session_id']}/messages", json={"message": "How do I contact you?"},
                      headers={"Authorization": f"Bearer {session['session_token']}"})


def judge(q: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    answer = normalise(reply["message"])
    cited = [str(s["metadata"]["source"]).rsplit(".", 1)[0] for s in reply.get("sources", [])]
    return {"id": q.get("id"), "kind": q.get("kind", "all"), "answerable": bool(q["answerable"]),
            "declined": declined(reply), "facts": all(has_fact(answer, f) for f in q.get("expect", [])),
            "cited": bool(set(cited) & set(q.get("sources", []))), "chars": len(reply["message"]),
            "cited_sources": cited}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["declined"]]

    def share(items: list[dict[str, Any]], key: str) -> float | None:
        return round(sum(bool(r[key]) for r in items) / len(items), 4) if items else None

    return {"questions": len(rows), "facts": share(answerable, "facts"), "cited": share(answerable, "cited"),
            "answerable_declined": share(answerable, "declined"),
            "unanswerable_declined": share(unanswerable, "declined"),
            "median_chars": statistics.median(r["chars"] for r in answered) if answered else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kb_dir", type=Path)
    parser.add_argument("--questions", type=Path, help="JSON Lines; default KB_DIR/answers.dev.jsonl")
    parser.add_argument("--data-dir", type=Path, help="keep the store here between runs (default: temporary)")
    parser.add_argument("--show", action="store_true", help="print every question's answer")
    args = parser.parse_args()
    path = args.questions or args.kb_dir / "answers.dev.jsonl"
    questions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        ingested = ingest(args.kb_dir, data_dir)
        started = time.perf_counter()
        replies = asyncio.run(ask_all(data_dir, questions))
        ask_s = time.perf_counter() - started

    rows = [judge(q, r) for q, r in zip(questions, replies, strict=True)]
    for q, row, reply in zip(questions, rows, replies, strict=True):
        ok = "ok " if (row["declined"] != row["answerable"]) and (not row["answerable"] or row["facts"]) else "MISS"
        print(f"{ok} {row['id']} [{row['kind']}] facts={row['facts']} cited={row['cited']} "
              f"declined={row['declined']} chars={row['chars']} :: {q['question']}")
        if args.show:
            print("    sources:", row["cited_sources"])
            print("    " + reply["message"].replace("\n", "\n    "))
    kinds = sorted({r["kind"] for r in rows})
    result: dict[str, Any] = {"kb": args.kb_dir.name, "questions_file": path.name, **ingested,
                              "seconds_per_question": round(ask_s / max(1, len(rows)), 3),
                              "overall": summarise(rows),
                              "by_kind": {k: summarise([r for r in rows if r["kind"] == k]) for k in kinds}}
    print(f"{'kind':<14} {'n':>3} {'facts':>6} {'cited':>6} {'ans_decl':>8} {'unans_decl':>10} {'median':>7}")
    for name, s in [("overall", result["overall"]), *result["by_kind"].items()]:
        cells = [s["facts"], s["cited"], s["answerable_declined"], s["unanswerable_declined"], s["median_chars"]]
        shown = ["-" if c is None else f"{c:.2f}" if isinstance(c, float) and c <= 1 else str(c) for c in cells]
        print(f"{name:<14} {s['questions']:>3} {shown[0]:>6} {shown[1]:>6} {shown[2]:>8} {shown[3]:>10} "
              f"{shown[4]:>7}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
