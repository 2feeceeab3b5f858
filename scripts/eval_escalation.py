#!/usr/bin/env python3
"""Precision and recall of the escalation decision on labelled messages.

    python scripts/eval_escalation.py docs/eval/escalation.jsonl [--show-errors] [--rules-only]

Each line is {"text": "...", "escalate": true|false}. Runs the same decision the agent makes on the
customer's text alone: the rules (app.tools.escalation_rules), then the similarity to the described
intents in the app's embedding (app.tools.escalation_intents); `--rules-only` measures the rules alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from app.tools.escalation_rules import EscalationDecision, detect_escalation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--show-errors", action="store_true", help="print every misclassified message")
    parser.add_argument("--rules-only", action="store_true", help="the keyword rules without the intent similarity")
    parser.add_argument("--model", default="", help="EMBEDDING_MODEL (default: the packaged all-MiniLM-L6-v2)")
    args = parser.parse_args()
    detect = detect_escalation if args.rules_only else _rules_and_meaning(args.model)

    rows = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    tp = fp = fn = tn = 0
    reasons: Counter[str] = Counter()
    errors: list[str] = []
    for row in rows:
        decision = detect(row["text"])
        predicted, expected = decision is not None, bool(row["escalate"])
        if decision:
            reasons[decision.reason] += 1
        if predicted and expected:
            tp += 1
        elif predicted:
            fp += 1
            errors.append(f"  false positive ({decision.reason if decision else ''}): {row['text']}")
        elif expected:
            fn += 1
            errors.append(f"  false negative: {row['text']}")
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"messages: {len(rows)} (escalate: {tp + fn}, answer: {fp + tn})")
    print(f"precision: {precision:.3f}  recall: {recall:.3f}  f1: {f1:.3f}")
    print(f"tp={tp} fp={fp} fn={fn} tn={tn}")
    print("reasons: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    if args.show_errors and errors:
        print("errors:")
        print("\n".join(errors))


def _rules_and_meaning(model: str) -> Callable[[str], EscalationDecision | None]:
    from app.knowledge.embeddings import load_embedder
    from app.tools.escalation_intents import EscalationIntents

    return EscalationIntents(load_embedder(model)).detect_sync


if __name__ == "__main__":
    main()
