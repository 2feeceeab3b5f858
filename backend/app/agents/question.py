"""What a customer's question asks for: one thing, several things, or a choice between two named options.

Pure text analysis, no model: the built-in responder uses it to retrieve and quote per part, and to
name the winner of a comparison. Nothing here knows any help center's product names; options are
found from the shape of the sentence ("A or B", "A vs B", "difference between A and B").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from app.tools.extractive import STOPWORDS, terms

_TOKEN = re.compile(r"[\w$%.'-]*[\w$%]|[:;?!(),]")
_BOUNDARY = frozenset(":;?!(),")
_CONNECTOR = re.compile(r"\s+(?:or|vs\.?|versus)\s+", re.I)
_BETWEEN = re.compile(r"\b(?:difference between|compare|comparing)\s+(.+?)\s+(?:and|with|to|vs\.?|versus)\s+(.+?)"
                      r"(?:[?.!]|$)", re.I)
_LOWER = re.compile(r"\b(?:lower|lowest|less|least|cheaper|cheapest|smaller|smallest|fewer|fewest|shorter|"
                    r"shortest|faster|fastest|sooner)\b", re.I)
_HIGHER = re.compile(r"\b(?:higher|highest|more|most|greater|greatest|bigger|biggest|larger|largest|longer|"
                     r"longest|better|best|pays? more|earns? more)\b", re.I)
_WH = r"(?:how|what|when|where|why|which|who|whom|can|could|do|does|did|is|are|will|would|should|may)"
_AND_QUESTION = re.compile(rf"\s*(?:,|;|\band\b|\balso\b)\s+(?={_WH}\b)", re.I)
_SITUATION = re.compile(r"\s*(?:i|i'm|im|i've|ive|my|we|we're|our)\b", re.I)
_SUBJECT = re.compile(r"^\s*([^:?]{3,80}?)\s*(?::|\s[-–—]\s)\s*(.+)$")
_PRONOUN = re.compile(r"\b(?:it|they|them|this|that|these|those|its|their)\b", re.I)
_LIST_SPLIT = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s*/\s*)\s*", re.I)
# Words that ask about the option rather than name it: they end an option's name when read backwards.
_NOT_NAME = STOPWORDS | frozenset("which better cheaper lower higher more less cost costs pay pays earn earns charge "
                                  "charges get pick choose".split())


@dataclass(frozen=True)
class QuestionPlan:
    kind: Literal["single", "parts", "comparison"]
    parts: list[str]  # what to retrieve for, one query per part
    labels: list[str] = field(default_factory=list)  # how each part is named in the answer
    aspect: str = ""  # comparison: what is compared ("APR", "monthly fee")
    direction: Literal["min", "max", ""] = ""


# A message longer than this is a story around a question, not a list of asks: it is searched whole.
MAX_PLANNED_CHARS = 300


def plan(question: str) -> QuestionPlan:
    text = " ".join(question.split())
    if len(text) > MAX_PLANNED_CHARS:
        return QuestionPlan("single", [question])
    return _comparison(text) or _parts(text) or QuestionPlan("single", [text])


def _comparison(text: str) -> QuestionPlan | None:
    options: tuple[str, str] | None = None
    match = _BETWEEN.search(text)
    queries: list[str] = []
    if match:
        a, b = match.group(1).strip(" ,"), match.group(2).strip(" ,")
        # "standard and express shipping": the noun after the second option belongs to both.
        if len(b.split()) > len(a.split()) == 1:
            a = f"{a} {' '.join(b.split()[1:])}"
        options = (a, b)
        queries = list(options)
    else:
        found = _CONNECTOR.search(text)
        if found is None:
            return None
        left = _option_before(text[:found.start()])
        right = _option_after(text[found.end():], len(left.split())) if left else None
        if not left or not right:
            return None
        a, b = left, right[0]
        start, end = found.start() - len(left), found.end() + right[1]
        options = (a, b)
        queries = [text[:start] + a + text[end:], text[:start] + b + text[end:]]
    if not options or not all(terms(o) for o in options):
        return None
    direction: Literal["min", "max", ""] = "min" if _LOWER.search(text) else "max" if _HIGHER.search(text) else ""
    if not direction and not re.search(r"\b(?:which|compare|difference|vs\.?|versus)\b", text, re.I):
        return None  # "can I pay by card or PayPal?" is a question about both, not a contest
    named = set(terms(" ".join(options)))
    aspect = " ".join(w for w in re.findall(r"[\w$%'-]+", text) if terms(w) and terms(w)[0] not in named
                      and not _LOWER.fullmatch(w) and not _HIGHER.fullmatch(w)
                      and w.lower() not in _NOT_NAME)
    return QuestionPlan("comparison", queries, list(options), aspect, direction)


def _option_before(text: str) -> str:
    """The name that ends right before the connector: words back to punctuation or a question word."""
    tokens = _TOKEN.findall(text)
    name: list[str] = []
    for token in reversed(tokens):
        if token in _BOUNDARY or token.lower() in _NOT_NAME:
            break
        name.insert(0, token)
    if not name:
        return ""
    joined = " ".join(name)
    return joined if text.rstrip().endswith(joined) else ""


def _option_after(text: str, left_words: int) -> tuple[str, int] | None:
    """The name right after the connector and where it ends. Ended by punctuation when it is; else
    as long as the first option's name: the words after it describe both options."""
    match = re.match(r"\s*(?:(?:the|a|an)\s+)?([^:;?!(),]+)", text, re.I)
    if not match:
        return None
    words = match.group(1).split()
    name = words if len(words) <= left_words + 1 else words[:max(1, left_words)]
    if not name:
        return None
    phrase = " ".join(name)
    return phrase, text.find(phrase) + len(phrase)


def _parts(text: str) -> QuestionPlan | None:
    """Two or more things asked at once: separate questions, or "subject: a and b?"."""
    sentences = [s.strip() for s in re.split(r"(?<=\?)\s+", text) if terms(s)]
    if len(sentences) < 2:
        sentences = _asks([s.strip() for s in _AND_QUESTION.split(text) if terms(s)])
    if len(sentences) >= 2:
        sentences = sentences[:4]
        labels = [_label(s) for s in sentences]
        lead = _SUBJECT.match(sentences[0])
        context = lead.group(1) if lead else " ".join(terms(sentences[0]))
        # A later part that leans on the first ("...and how long does it take?") gets its subject.
        queries = [sentences[0]] + [s if not lead and len(terms(s)) > 2 and not _PRONOUN.search(s)
                                    else f"{context} {s}" for s in sentences[1:]]
        return QuestionPlan("parts", queries, labels)
    subject = _SUBJECT.match(text)
    if subject:
        head, rest = subject.group(1), subject.group(2).rstrip("?.! ")
        pieces = [p for p in _LIST_SPLIT.split(rest) if terms(p)]
        if 2 <= len(pieces) <= 4:
            return QuestionPlan("parts", [f"{head} {p}" for p in pieces], [_label(p) for p in pieces])
    return None


def _asks(pieces: list[str]) -> list[str]:
    """A piece in which the customer tells their situation ("my parcel has not arrived, will you replace
    it?") is the context of the question after it, not a question of its own; a request ("reset my
    password, and how long...") still is one."""
    asks: list[str] = []
    context = ""
    for piece in pieces:
        if not _SITUATION.match(piece) or piece.rstrip().endswith("?"):
            asks.append(f"{context}, {piece}" if context else piece)
            context = ""
        else:
            context = f"{context}, {piece}" if context else piece
    if context and asks:
        asks[-1] = f"{asks[-1]} {context}"
    return asks


def _label(part: str) -> str:
    words = part.strip().rstrip("?.!").split()
    label = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
    return label[:1].upper() + label[1:]
