"""Turning retrieved passages into a short answer: which passage, which lines, which value.

Pure functions used by the built-in responder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

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


def lead_with_answer(text: str, question: str) -> str:
    """The block that answers first (with its heading), then the rest in their order.

    Moved only when the passage's first block would not count as relevant by itself (under half the
    best block's score, the bar `select` uses): a passage that opens with its rule keeps its order.
    """
    units = blocks(text)
    asked = set(terms(question))
    content = [i for i, u in enumerate(units) if not _HEADING_ONLY.match(u)]
    if len(content) < 2 or not asked:
        return text
    unit_terms = [terms(u) for u in units]
    df = {t: sum(1 for ut in unit_terms if t in ut) for t in asked}
    weights = {t: 1.0 + math.log((1 + len(units)) / (1 + df[t])) for t in asked}
    scores = [score(ut, asked, weights) for ut in unit_terms]
    best = max(content, key=lambda i: (scores[i], -i))
    first = content[0]
    if best == first or scores[first] >= 0.5 * scores[best]:
        return text
    return drop_empty_headings("\n\n".join([units[best]] + [u for i, u in enumerate(units) if i != best]))


def cited_as(hit: SearchHit, quoted: str) -> tuple[SearchHit, str]:
    """The hit as cited for `quoted`: a passage joined from several sections names the one(s) actually
    quoted (its inline heading moves into the citation when only one is)."""
    sections = [str(s) for s in hit.metadata.get("sections") or []]
    if not sections:
        return hit, quoted
    shown = [s for s in sections if s and f"**{s}**" in quoted] or sections[:1]
    metadata = {**hit.metadata, "section": shown[0]}
    if len(shown) == 1:
        metadata.pop("sections", None)
        marker = f"**{shown[0]}**"
        if quoted.startswith(marker):
            quoted = quoted[len(marker):].lstrip("\n")
    else:
        metadata["sections"] = shown
    return replace(hit, metadata=metadata), quoted


def adds(first: str, extra: str, question: str) -> bool:
    """A second passage is worth quoting only when it says something asked about that the first does not."""
    asked = set(terms(question))
    return bool((asked & set(terms(extra))) - set(terms(first)))


def excerpt(content: str, question: str, max_chars: int) -> str:
    """The blocks that answer, tables cut to their matching rows, never ending on a bare heading."""
    picked = select(content, question, max_chars=max_chars)
    text = "\n\n".join(picked) if picked else (blocks(content)[0] if content.strip() else "")
    return drop_empty_headings(trim_tables(text, question))


@dataclass(frozen=True)
class Figure:
    """A line (table row, list item or sentence) holding a number, with how well it fits the question."""

    line: str
    value: float
    unit: str  # "$", "%" or ""
    spelled: str  # the number as written ("$24.95")
    fit: float


def figures(content: str, question: str) -> list[Figure]:
    """Every line of `content` that holds a number, scored against `question` (a line whose number has the
    unit the question asks about, "%" for a rate, "$" for a fee, fits better), best first."""
    asked = set(terms(question))
    wants = "%" if re.search(r"%|\b(?:apr|apy|rate|interest|percent)", question, re.I) else \
        "$" if re.search(r"\$|\b(?:fee|fees|cost|costs|price|pay|charge|cheap|expensive|much)\b", question, re.I) \
        else ""
    found = []
    for block in blocks(content):
        units = block.splitlines() if is_list(block) or "|" in block else re.split(r"(?<=[.!?])\s+", block)
        for line in units:
            numbers = [m for m in _NUMBER.finditer(line) if m.group(2).strip(",")]
            if not numbers or _TABLE_RULE.match(line):
                continue
            fitting = [m for m in numbers if (m.group(3) or m.group(1) or "").strip() == wants] if wants else numbers
            number = (fitting or numbers)[0]
            fit = score(terms(line), asked, {}) + (0.5 if fitting and wants else 0.0)
            unit = "%" if number.group(3) else "$" if number.group(1) else ""
            found.append(Figure(line.strip(), float(number.group(2).replace(",", "")), unit,
                                number.group(0).strip(), fit))
    return sorted(found, key=lambda f: -f.fit)


def value_line(content: str, question: str) -> tuple[str, float | None, str, str]:
    """The line that best answers `question` and holds a number, with that number, its unit ("$" or "%")
    and its spelling; ("", None, "", "") when no line has one."""
    found = figures(content, question)
    if not found or found[0].fit <= 0:
        return "", None, "", ""
    best = found[0]
    return best.line, best.value, best.unit, best.spelled


# A comparison's two figures must state the same thing: a full match of their lines' wording (without
# the figures and the options' names) counts as much as two more question words matched.
LABEL_WEIGHT = 2.0


def label(line: str, names: set[str]) -> set[str]:
    """What a figure's line says, without its numbers and the compared options' names."""
    return {t for t in terms(_NUMBER.sub(" ", line)) if t not in names and not t.isdigit()}


# Pairs scoring within this share of the best match equally well: the length normalisation of the fit
# moves a score by a few percent, a question word more or less by far more.
AS_WELL = 0.9


def paired_figures(a: list[Figure], b: list[Figure], names: set[str]) -> tuple[int, int] | None:
    """Indexes of the two options' figures for the same attribute: same unit, lines worded alike, both
    fitting the question. "Introductory APR: 0%" is never set against "standard APR of 20.49%"; between
    pairs that match as well, the one whose figures differ is what tells the options apart (a "which is
    lower" question presumes they differ)."""
    pairs = []
    for i, fa in enumerate(a):
        for j, fb in enumerate(b):
            if fa.unit != fb.unit or fa.fit <= 0 or fb.fit <= 0:
                continue
            la, lb = label(fa.line, names), label(fb.line, names)
            alike = len(la & lb) / len(la | lb) if la | lb else 0.0
            pairs.append((fa.fit + fb.fit + LABEL_WEIGHT * alike, fa.value != fb.value, i, j))
    if not pairs:
        return None
    top = max(p[0] for p in pairs)
    best = max((p for p in pairs if p[0] >= AS_WELL * top), key=lambda p: (p[1], p[0]))
    return best[2], best[3]


@dataclass(frozen=True)
class Side:
    """One option of a comparison: the passage quoted for it and the figure it states (if any)."""

    option: str
    hit: SearchHit | None
    figure: Figure | None = None


def compare(aspect: str, options: list[tuple[str, str, list[SearchHit]]], passages: int = 2) -> list[Side]:
    """Each option's (name, query, hits) to the passage and figure quoted for it. Only passages that name
    the option (its own, not a sibling's: see same_subject) are read, up to `passages` each, and the two
    figures are chosen together so that they state the same thing (paired_figures)."""
    names = set(terms(" ".join(name for name, _, _ in options)))
    pools: list[tuple[str, SearchHit | None, list[tuple[SearchHit, Figure]]]] = []
    for name, query, hits in options:
        own = [h for h in hits if about(h, name)] or hits
        if not own:
            pools.append((name, None, []))
            continue
        first = best_hit(query, own)
        read = [first] + [h for h in own if h is not first and same_subject(first, h)][:passages - 1]
        pools.append((name, first, [(h, f) for h in read for f in figures(h.content, f"{aspect} {query}")]))
    if len(pools) == 2 and all(p[2] for p in pools):
        pair = paired_figures([f for _, f in pools[0][2]], [f for _, f in pools[1][2]], names)
        if pair is not None:
            return [Side(name, *figs[k]) for (name, _, figs), k in zip(pools, pair, strict=True)]
    sides = []
    for name, passage, figs in pools:
        fitting = [(h, f) for h, f in figs if f.fit > 0]
        sides.append(Side(name, *fitting[0]) if fitting else Side(name, passage))
    return sides


def about(hit: SearchHit, option: str) -> bool:
    """The passage names the option in its title (or, for an untitled one, its text)."""
    wanted = set(terms(option))
    return bool(wanted) and wanted <= set(terms(title_of(hit) if hit.metadata.get("title") else hit.content))


def content_words(text: str) -> str:
    return " ".join(w for w in re.findall(r"[\w'-]+", text) if w.lower() not in STOPWORDS)
