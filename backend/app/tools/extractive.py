"""Pick the parts of a text that answer a question, keeping steps and lists whole.

Used by the offline responder for help-center passages and by the attachment tool for uploaded
files. Lexical on purpose: it runs per turn on text the embedder never saw, in microseconds.
"""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+.+|\*\*[^*]+\*\*:?)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*])")
STOPWORDS = frozenset("""a about above after again all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our out over own same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
yours yourself please hi hello thanks thank want need like know tell get got also much many may might must shall
let lets im ive id dont cant""".split())


def stem(word: str) -> str:
    """Crude suffix stripping, enough to match "returns"/"returned"/"returning"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    return [stem(w.replace("'", "")) for w in _WORD.findall(text.lower()) if w.replace("'", "") not in STOPWORDS]


def blocks(text: str) -> list[str]:
    """Paragraphs, whole lists and tables as units; a heading stays with what follows it."""
    units: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            units.append("\n".join(current).strip())
            current.clear()

    previous_kind = ""
    for line in text.splitlines():
        if not line.strip():
            flush()
            previous_kind = ""
            continue
        kind = "list" if _LIST_ITEM.match(line) else "table" if line.lstrip().startswith("|") else "text"
        # A list written with blank lines between items is still one list.
        if kind == "list" and not current and units and _LIST_ITEM.match(units[-1].splitlines()[-1]):
            current.extend(units.pop().splitlines())
        elif current and kind != previous_kind and previous_kind in ("list", "table") and kind == "text" \
                and not line.startswith((" ", "\t")):
            flush()
        current.append(line.rstrip())
        previous_kind = kind
    flush()
    merged: list[str] = []
    for unit in units:
        # A heading, or a lead-in ending with ":", belongs with what follows it.
        if merged and ((_HEADING.match(merged[-1]) and "\n" not in merged[-1])
                       or (merged[-1].rstrip().endswith(":") and is_list(unit))):
            merged[-1] = merged[-1] + "\n\n" + unit
        else:
            merged.append(unit)
    return [u for u in merged if u]


def is_list(block: str) -> bool:
    return any(_LIST_ITEM.match(line) for line in block.splitlines())


def score(block_terms: list[str], query: set[str], weights: dict[str, float]) -> float:
    if not block_terms or not query:
        return 0.0
    present = query.intersection(block_terms)
    return sum(weights.get(t, 1.0) for t in present) / math.sqrt(1 + len(set(block_terms)) / 40)


def select(text: str, question: str, max_chars: int = 900, min_ratio: float = 0.5) -> list[str]:
    """The blocks of `text` most relevant to `question`, in their original order.

    The best block is always kept; a list stays with its lead-in ("Here is how:") and heading;
    long prose is cut to its relevant sentences. Empty when nothing matches at all.
    """
    units = blocks(text)
    query = set(terms(question))
    if not units or not query:
        return []
    unit_terms = [terms(u) for u in units]
    # Rarer words in this text say more about relevance than words found everywhere in it.
    df = {t: sum(1 for ut in unit_terms if t in ut) for t in query}
    weights = {t: 1.0 + math.log((1 + len(units)) / (1 + df[t])) for t in query}
    scores = [score(ut, query, weights) for ut in unit_terms]
    best = max(scores)
    if best <= 0:
        return []
    chosen = {i for i, s in enumerate(scores) if s >= best * min_ratio}
    picked: dict[int, str] = {}
    used = 0
    for i in sorted(chosen, key=lambda i: -scores[i]):
        unit = units[i] if is_list(units[i]) or len(units[i]) <= 400 else _sentences(units[i], query, weights)
        if picked and used + len(unit) > max_chars:
            continue
        picked[i] = unit
        used += len(unit)
    return [picked[i] for i in sorted(picked)]


def _sentences(paragraph: str, query: set[str], weights: dict[str, float], keep: int = 3) -> str:
    sentences = _SENTENCE_END.split(paragraph)
    ranked = sorted(range(len(sentences)), key=lambda i: -score(terms(sentences[i]), query, weights))[:keep]
    return " ".join(sentences[i] for i in sorted(ranked) if score(terms(sentences[i]), query, weights) > 0) \
        or sentences[0]
