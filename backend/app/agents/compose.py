"""Turning retrieved passages into a short answer: which passage, which lines, which value.

Pure functions used by the built-in responder.
"""

from __future__ import annotations

import math
import re

from app.knowledge.search import SearchHit
from app.tools.extractive import STOPWORDS, blocks, is_list, score, select, terms

_HEADING_ONLY = re.compile(r"^\s*(?:#{1,6}\s+.+|\*\*[^*]+\*\*:?)\s*$")
_NUMBER = re.compile(r"(\$\s?)?(\d[\d,]*(?:\.\d+)?)\s*(%)?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


def title_of(hit: SearchHit) -> str:
    return str(hit.metadata.get("title") or hit.metadata.get("source") or "our help center")


def best_hit(question: str, hits: list[SearchHit], margin: float = 0.05) -> SearchHit:
    """The top hit, unless a nearly-as-relevant one contains more of what was asked: "min credit
    score" is answered by the passage that says "credit score", not the one about minimum payments.
    Words every close passage contains (the product's name) decide nothing; rarer ones weigh more."""
    top = hits[0]
    close = [h for h in hits if top.score - h.score <= margin]
    asked = set(terms(question))
    if len(close) < 2 or not asked:
        return top
    present = [asked & set(terms(title_of(h) + " " + h.content)) for h in close]
    weight = {t: math.log((1 + len(close)) / (1 + sum(t in p for p in present))) for t in asked}
    covered = [sum(weight[t] for t in p) for p in present]
    return close[max(range(len(close)), key=lambda i: (covered[i], -i))]


def same_subject(first: SearchHit, second: SearchHit) -> bool:
    """A second passage may add to the first only when it is about the same thing, not a sibling
    product (see app.knowledge.subject)."""
    return second.signals.get("subject_penalty", 0.0) <= first.signals.get("subject_penalty", 0.0)


def trim_tables(text: str, question: str) -> str:
    """A table keeps its header and the rows that match the question (a price is a cell, not a table)."""
    asked = set(terms(question))
    out = []
    for block in blocks(text):
        lines = block.splitlines()
        rows = [i for i, line in enumerate(lines) if line.lstrip().startswith("|")]
        if len(rows) > 4 and asked:
            head = [i for i in rows[:2] if i == rows[0] or _TABLE_RULE.match(lines[i])]
            body = [i for i in rows if i not in head]
            matched = {i: len(asked & set(terms(lines[i]))) for i in body}
            most = max(matched.values(), default=0)
            hits = [i for i in body if most and matched[i] == most]
            if hits and len(hits) < len(body):
                keep = set(head) | set(hits) | {i for i in range(len(lines)) if i not in rows}
                block = "\n".join(line for i, line in enumerate(lines) if i in keep)
        out.append(block)
    return "\n\n".join(out)


def drop_empty_headings(text: str) -> str:
    """Never end on a heading with nothing under it (a cut passage can leave one)."""
    parts = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    while parts and _HEADING_ONLY.match(parts[-1].splitlines()[-1]) and len(parts[-1].splitlines()) == 1:
        parts.pop()
    cleaned = []
    for part in parts:  # a heading followed directly by another heading has lost its content
        lines = part.splitlines()
        while len(lines) > 1 and _HEADING_ONLY.match(lines[-1]):
            lines.pop()
        cleaned.append("\n".join(lines))
    return "\n\n".join(cleaned)


def excerpt(content: str, question: str, max_chars: int) -> str:
    """The blocks that answer, tables cut to their matching rows, never ending on a bare heading."""
    picked = select(content, question, max_chars=max_chars)
    text = "\n\n".join(picked) if picked else (blocks(content)[0] if content.strip() else "")
    return drop_empty_headings(trim_tables(text, question))


def value_line(content: str, question: str) -> tuple[str, float | None, str, str]:
    """The line (table row, list item or sentence) that best answers `question` and holds a number,
    with that number, its unit ("$" or "%") and its spelling; ("", None, "", "") when no line has one."""
    asked = set(terms(question))
    wants = "%" if re.search(r"%|\b(?:apr|apy|rate|interest|percent)", question, re.I) else \
        "$" if re.search(r"\$|\b(?:fee|fees|cost|costs|price|pay|charge|cheap|expensive|much)\b", question, re.I) \
        else ""
    candidates = []
    for block in blocks(content):
        units = block.splitlines() if is_list(block) or "|" in block else re.split(r"(?<=[.!?])\s+", block)
        for line in units:
            numbers = [m for m in _NUMBER.finditer(line) if m.group(2).strip(",")]
            if not numbers or _TABLE_RULE.match(line):
                continue
            fitting = [m for m in numbers if (m.group(3) or m.group(1) or "").strip() == wants] if wants else numbers
            chosen = (fitting or numbers)[0]
            s = score(terms(line), asked, {}) + (0.5 if fitting and wants else 0.0)
            candidates.append((s, line.strip(), chosen))
    if not candidates:
        return "", None, "", ""
    best = max(candidates, key=lambda c: c[0])
    if best[0] <= 0:
        return "", None, "", ""
    number = best[2]
    unit = "%" if number.group(3) else "$" if number.group(1) else ""
    return best[1], float(number.group(2).replace(",", "")), unit, number.group(0).strip()


def content_words(text: str) -> str:
    return " ".join(w for w in re.findall(r"[\w'-]+", text) if w.lower() not in STOPWORDS)
