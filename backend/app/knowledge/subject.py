"""Prefer the document about the thing the question names over a sibling with an extra qualifier.

Help centers title articles "Subject: topic" ("Business Gold Card: Annual fee"). When a question names
"Gold Card" and both "Gold Card: ..." and "Business Gold Card: ..." articles are candidates, the one
adding a word the question does not say is about another product, however close its embedding is.
Only titles with such a separator are judged, only against a sibling subject (one contains the
other) and only when the subject shares a word with the question; the rest keep their fused score.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from app.tools.extractive import terms

if TYPE_CHECKING:
    from app.knowledge.search import SearchHit

_SEPARATOR = re.compile(r"\s*(?::|\s[-–—|]\s)\s*")
# Per word of fit worse than a sibling's (two at most): enough to move a sibling product below the
# named one, small next to the gap between an answer and an unrelated article.
PENALTY = 0.08
MAX_WORSE = 2


def subject_terms(title: str) -> set[str] | None:
    """The words of the title before its separator, or None for a title without one."""
    parts = _SEPARATOR.split(title, maxsplit=1)
    return set(terms(parts[0])) if len(parts) == 2 and parts[0].strip() else None


def fit(asked: set[str], subject: set[str]) -> int:
    """Words the subject shares with the question minus the words it adds."""
    return len(subject & asked) - len(subject - asked)


def rerank(question: str, hits: list[SearchHit]) -> list[SearchHit]:
    """Lower a hit whose subject is a sibling (one subject contains the other: "Gold Card" and
    "Business Gold Card") of a subject that fits the question better, by how much worse it fits."""
    asked = set(terms(question))
    subjects = [subject_terms(str(hit.metadata.get("title") or "")) for hit in hits]
    comparable = {frozenset(s) for s in subjects if s and s & asked}
    adjusted = []
    for hit, subject in zip(hits, subjects, strict=True):
        if subject and subject & asked:
            siblings = [o for o in comparable if o != subject and (o < subject or o > subject)]
            worse = max((fit(asked, set(o)) - fit(asked, subject) for o in siblings), default=0)
            if worse > 0:
                penalty = PENALTY * min(worse, MAX_WORSE)
                hit = replace(hit, score=hit.score - penalty, signals={**hit.signals, "subject_penalty": penalty})
        adjusted.append(hit)
    return sorted(adjusted, key=lambda h: -h.score)
