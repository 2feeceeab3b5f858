#!/usr/bin/env python3
"""Turn latency with the built-in (local) responder, over a realistic mix of messages.

    python scripts/bench_agent.py [--turns 200]

Runs the real app in-process (ASGI, no network hop) on a fresh data folder with the sample help
center, and sends one conversation's worth of varied messages per session: help-center questions,
facts to remember and recall, small talk, an attachment question and a handoff. Prints p50/p95/max
per kind and overall (milliseconds, concurrency 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONVERSATION = [
    ("question", "How do I reset my password?", None),
    ("question", "How long do I have to return an item?", None),
    ("memory", "my order number is TH-12345", None),
    ("question", "Do you ship to Canada?", None),
    ("recall", "what was my order number?", None),
    ("attachment", "What is the total due on this invoice?",
     ("invoice.txt", b"Trailhead invoice INV-2291\n\nItems: tent, stakes\n\nTotal due: $148.00\n")),
    ("small_talk", "thanks!", None),
    ("question", "How do I wash a down jacket?", None),
    ("declined", "What is the capital of Mongolia?", None),
    ("handoff", "I want to talk to a real person", None),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench(turns: int) -> None:
    import httpx
    from asgi_lifespan import LifespanManager

    from app.config import Settings
    from app.main import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), log_level="WARNING",  # type: ignore[call-arg]
                            llm_provider="local")
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=300) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
                by_kind: dict[str, list[float]] = {}
                done = 0
                warm = True
                while done < turns:
                    created = (await client.post("/chat/sessions", json={"user_id": f"bench-{done}"})).json()
                    headers = {"Authorization": f"Bearer {created['session_token']}"}
                    url = f"/chat/sessions/{created['session_id']}/messages"
                    for kind, text, attachment in CONVERSATION:
                        files = [("attachments", (attachment[0], attachment[1], "text/plain"))] if attachment else None
                        began = time.perf_counter()
                        response = await client.post(url, data={"message": text}, files=files, headers=headers)
                        elapsed = (time.perf_counter() - began) * 1000
                        assert response.status_code == 200, response.text
                        if not warm:  # the first conversation pays for lazy imports and caches
                            by_kind.setdefault(kind, []).append(elapsed)
                            done += 1
                    warm = False
    every = [v for values in by_kind.values() for v in values]
    print(f"{'kind':<12}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind, values in sorted(by_kind.items()):
        print(f"{kind:<12}{len(values):>6}{statistics.median(values):>10.1f}{pct(values, 0.95):>10.1f}"
              f"{max(values):>10.1f}")
    print(f"{'all':<12}{len(every):>6}{statistics.median(every):>10.1f}{pct(every, 0.95):>10.1f}{max(every):>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(bench(args.turns))


if __name__ == "__main__":
    main()
