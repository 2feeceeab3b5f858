"""Prefer the document about the thing the question names over a sibling with an extra qualifier.

Help centers title articles "Subject: topic" ("Business Gold Card: Annual fee"). When a question names
"Gold Card", an article whose subject adds a word the question does not say ("Business") is about
another product, however close its embedding is. Only titles with such a separator are judged, and
only when their subject shares a word with the question; everything else keeps its fused score.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from app.tools.extractive import terms

if TYPE_CHECKING:
    from app.knowledge.search import SearchHit

_SEPARATOR = re.compile(r"\s*(?::|\s[-–—|]\s)\s*")
# Per subject word the question does not say, or question word the subject lacks (two at most):
# enough to move a sibling product below the named one, small next to an unrelated article's gap.
PENALTY = 0.08
MAX_EXTRA = 2


def subject_terms(title: str) -> set[str] | None:
    """The words of the title before its separator, or None for a title without one."""
    parts = _SEPARATOR.split(title, maxsplit=1)
    return set(terms(parts[0])) if len(parts) == 2 and parts[0].strip() else None


def mismatch(question: str, subject: set[str] | None, named: set[str]) -> int | None:
    """Subject words the question does not say, plus question words that other candidates' subjects
    say and this one does not ("Business" asked, personal card offered); None when not comparable."""
    asked = set(terms(question))
    if not subject or not subject & asked:
        return None
    return len(subject - asked) + len(named - subject)


def rerank(question: str, hits: list[SearchHit]) -> list[SearchHit]:
    subjects = [subject_terms(str(hit.metadata.get("title") or "")) for hit in hits]
    asked = set(terms(question))
    named = set().union(*(s for s in subjects if s)) & asked
    adjusted = []
    for hit, subject in zip(hits, subjects, strict=True):
        wrong = mismatch(question, subject, named)
        if wrong:
            penalty = PENALTY * min(wrong, MAX_EXTRA)
            hit = replace(hit, score=hit.score - penalty, signals={**hit.signals, "subject_penalty": penalty})
        adjusted.append(hit)
    return sorted(adjusted, key=lambda h: -h.score)
