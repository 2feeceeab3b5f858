"""The built-in responder: grounded answers with no network, and the fallback when the LLM fails.

It answers from what the turn's tools found: facts the customer told us, the text of their files
and help-center passages (the most relevant blocks, steps and lists kept whole, numbered
citations). Small talk gets small talk; when nothing relevant is found it says so and offers a human.
Each piece of the answer is yielded as soon as it is composed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from app.agents import compose, prompts
from app.agents.events import AgentEvent, TextDelta
from app.agents.question import QuestionPlan, plan
from app.agents.turn import Turn
from app.knowledge.search import Retrieval, SearchHit
from app.tools import attachment_fields
from app.tools.attachment_tool import FileText
from app.tools.extractive import blocks, select
from app.tools.memory_facts import LABELS, recall_request

_GREETING = re.compile(r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening)|hiya|greetings)\b[\s!.,]*"
                       r"(?:there|team|all)?[\s!.,]*$", re.I)
_THANKS = re.compile(r"^\s*(?:thanks|thank you|thx|cheers|great,? thanks|ok,? thanks)\b.{0,40}$", re.I)
_BYE = re.compile(r"^\s*(?:ok(?:ay)?,?\s+)?(?:bye|goodbye|see you|that'?s all)\b.{0,30}$", re.I)
_ABOUT_FILE = re.compile(r"\b(?:file|document|attachment|attached|upload(?:ed)?|pdf|spreadsheet|invoice|receipt"
                         r"|statement|sheet|slides?|this|it)\b", re.I)
_QUESTION = re.compile(r"\?|\b(?:how|what|when|where|why|which|who|can|could|do|does|is|are|will|should)\b", re.I)
# A passage up to this long is quoted whole: cutting a short section loses more than it saves.
# Longer ones (several sections joined) are cut to their most relevant blocks within this budget.
WHOLE_PASSAGE_CHARS = 1000
# A second article only adds its most relevant blocks, within this budget.
SECOND_PASSAGE_CHARS = 400
# Each part of a multi-part question or each option of a comparison gets this much.
PART_CHARS = 350


class LocalResponder:
    name = "local"

    def __init__(self, second_hit_margin: float = 0.03) -> None:
        self.second_hit_margin = second_hit_margin

    async def generate(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        text = turn.input.text
        if turn.new_facts:
            said = ", ".join(f"your {LABELS.get(k, k.replace('_', ' '))} **{v}**" for k, v in turn.new_facts.items())
            yield self._say(turn, f"Thanks, I've noted {said}.\n\n")
        recall = recall_request(text)
        if recall is not None:
            yield self._say(turn, _recall_answer(turn, recall))
            return
        small_talk = None if turn.input.new_attachments else _small_talk(text)
        if small_talk:
            yield self._say(turn, small_talk)
            return
        if turn.new_facts and not _QUESTION.search(_without_facts(text, turn.new_facts)):
            yield self._say(turn, "Is there anything I can help you with about it?")
            return

        # "that order", "the invoice I sent": the customer's file answers first (attachment_fields).
        reference = attachment_fields.reference(text) if turn.input.attachments else None
        if reference == "weak" and attachment_fields.asked_field(text) is None:
            reference = None  # "where is my order?": nothing a file could answer
        about_files = bool(turn.input.new_attachments) or (bool(turn.input.attachments)
                                                           and (bool(_ABOUT_FILE.search(text)) or bool(reference)))
        if about_files and turn.enabled("attachment") and not turn.files:
            await turn.call("attachment", {"question": text})
            for event in turn.drain():
                yield event
        readable = [f for f in turn.files if f.status == "processed"]
        notices = turn.take_notices()
        if notices:
            yield self._say(turn, "\n\n".join(notices) + "\n\n")
        from_file = attachment_fields.answer(readable, text) if reference else None
        if from_file:  # the total, date or items asked for, found in the file: the answer, the file its source
            yield self._say(turn, from_file)
            return
        # An order word alone ("that order") points at the file only when the file holds what was asked.
        weak_only = reference == "weak" and not turn.input.new_attachments and not _ABOUT_FILE.search(text)
        for file in [] if weak_only else readable:
            yield self._say(turn, _file_answer(file, text) + "\n\n")
        asks_about_file = readable and (reference == "strong" or re.search(
            r"\b(?:file|document|attachment|attached|upload|pdf|invoice|receipt|statement|spreadsheet)\b", text, re.I))
        if asks_about_file:
            return

        if not turn.enabled("rag_search"):
            if not readable:
                turn.answered = False
                yield self._say(turn, _no_answer(turn))
            return
        question = _question_part(text, turn.new_facts)
        shape = plan(question)
        if shape.kind == "single":
            chosen = await self._single(turn, question)
        elif shape.kind == "comparison":
            chosen = await self._comparison(turn, shape)
        else:
            chosen = await self._parts(turn, shape)
        for event in turn.drain():
            yield event
        if not chosen:
            turn.hits.clear()
            if not readable:
                turn.answered = False
                yield self._say(turn, _no_answer(turn))
            return
        turn.hits[:] = chosen[0]  # cite only what the answer quotes, numbered as quoted
        # Block by block (lead, each paragraph, step list...), as the reader would read it.
        for piece in re.split(r"(?<=\n\n)", chosen[1]):
            if piece:
                yield self._say(turn, piece)

    async def _retrieve(self, turn: Turn, query: str, k: int = 5) -> list[SearchHit]:
        result = await turn.call("rag_search", {"query": query, "k": k})
        data = result.data
        return list(data.hits) if result.success and isinstance(data, Retrieval) and data.answerable else []

    async def _single(self, turn: Turn, question: str) -> tuple[list[SearchHit], str] | None:
        hits = await self._retrieve(turn, question)
        if not hits:
            return None
        best = compose.best_hit(question, hits)
        chosen = [compose.cited_as(best, _passage_text(best, question, WHOLE_PASSAGE_CHARS))]
        for hit in [h for h in hits if h is not best][:1]:
            if abs(best.distance - hit.distance) <= self.second_hit_margin \
                    and compose.same_subject(best, hit):
                extra = compose.excerpt(hit.content, question, SECOND_PASSAGE_CHARS)
                if extra and compose.adds(chosen[0][1], extra, question):
                    chosen.append(compose.cited_as(hit, extra))
        text = "\n\n".join(_passage_answer(hit, n, content) for n, (hit, content) in enumerate(chosen, start=1))
        return [hit for hit, _ in chosen], text

    async def _parts(self, turn: Turn, shape: QuestionPlan) -> tuple[list[SearchHit], str] | None:
        """Each part answered from its own best passage, with its own citation."""
        cited: list[SearchHit] = []
        sections, missing = [], []
        for label, query in zip(shape.labels, shape.parts, strict=True):
            hits = await self._retrieve(turn, query)
            if not hits:
                missing.append(label)
                continue
            hit = compose.best_hit(query, hits)
            number = _cite(cited, hit)
            quote = compose.excerpt(hit.content, query, PART_CHARS)
            sections.append(f"**{label}** (from **{compose.title_of(hit)}** [{number}]):\n\n{quote}")
        if not sections:
            return None
        if missing:
            sections.append("I couldn't find anything in our help center about: " + "; ".join(missing) + ".")
        return cited, "\n\n".join(sections)

    async def _comparison(self, turn: Turn, shape: QuestionPlan) -> tuple[list[SearchHit], str] | None:
        """Both options from their own passages, and the winner named when the figures compare."""
        cited: list[SearchHit] = []
        options = [(option, query, await self._retrieve(turn, query))
                   for option, query in zip(shape.labels, shape.parts, strict=True)]
        sides = compose.compare(shape.aspect, options)
        if not any(side.hit for side in sides):
            return None
        lines = []
        numbers = {}
        for side in sides:
            if side.hit is None:
                lines.append(f"**{side.option}**: I couldn't find this in our help center.")
                continue
            number = _cite(cited, side.hit)
            numbers[side.option] = number
            quote = side.figure.line if side.figure else compose.excerpt(side.hit.content,
                                                                         f"{shape.aspect} {side.option}", PART_CHARS)
            lines.append(f"**{side.option}** (from **{compose.title_of(side.hit)}** [{number}]):\n\n{quote}")
        found = [(s.option, s.hit, "", s.figure.value if s.figure else None, s.figure.unit if s.figure else "",
                  s.figure.spelled if s.figure else "") for s in sides]
        verdict = _verdict(shape, found, numbers)
        return cited, "\n\n".join(([verdict] if verdict else []) + lines)

    def _say(self, turn: Turn, text: str) -> TextDelta:
        turn.text_parts.append(text)
        return TextDelta(text)


def _no_answer(turn: Turn) -> str:
    """Offer a human once per conversation: after an earlier miss the offer stands (and a second miss
    in a row hands over anyway)."""
    offered = any(h.role == "assistant" and h.metadata.get("answered") is False for h in turn.input.history)
    return prompts.NO_ANSWER_AGAIN if offered else prompts.NO_ANSWER


def _small_talk(message: str) -> str | None:
    if _GREETING.match(message):
        return prompts.GREETING
    if _THANKS.match(message):
        return prompts.THANKS
    if _BYE.match(message):
        return prompts.GOODBYE
    return None


def _without_facts(text: str, facts: dict[str, str]) -> str:
    for value in facts.values():
        text = text.replace(value, " ")
    return re.sub(r"\b(?:my|is|order|number|email|name|phone)\b", " ", text, flags=re.I)


def _recall_answer(turn: Turn, keys: list[str]) -> str:
    facts = turn.memory.facts
    if not keys:  # "what do you know about me?"
        if not facts:
            return "You haven't told me anything about yourself yet in our conversations."
        listed = "; ".join(f"your {LABELS.get(k, k.replace('_', ' '))} is **{v}**" for k, v in facts.items())
        return f"Here's what I have noted: {listed}."
    found = [(k, facts[k]) for k in keys if k in facts]
    if not found:
        wanted = " or ".join(LABELS.get(k, k) for k in keys)
        return f"I don't have your {wanted} yet. If you tell me, I'll remember it for the rest of our conversation."
    return " ".join(f"Your {LABELS.get(k, k.replace('_', ' '))} is **{v}**." for k, v in found)


def _file_answer(file: FileText, question: str) -> str:
    excerpts = file.excerpts if file.excerpts is not None else select(file.text, question, max_chars=1200)
    if excerpts:
        lead = f"From your file **{file.filename}**:"
    else:
        excerpts = select(file.text, file.text[:300], max_chars=600) or [file.text[:600]]
        lead = f"I've read **{file.filename}**. It begins:"
    quoted = "\n>\n".join("\n".join("> " + line for line in e.splitlines()) for e in excerpts)
    return f"{lead}\n\n{quoted}"


def _question_part(text: str, facts: dict[str, str]) -> str:
    """The text without sentences that only state facts ("My order number is TH-1. Where is it?")."""
    if not facts:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept = [s for s in sentences if not any(v in s for v in facts.values()) or _QUESTION.search(s)]
    return " ".join(kept).strip() or text


def _passage_text(hit: SearchHit, question: str, budget: int) -> str:
    content = compose.drop_empty_headings(compose.trim_tables(hit.content.strip(), question))
    if len(content) <= budget:
        return compose.lead_with_answer(content, question)
    picked = select(content, question, max_chars=budget)
    # A section's first block usually states its rule ("Items can be returned within 30 days...");
    # keep it in front of the matching blocks so a broad question still gets the main answer.
    lead = blocks(content)[0] if content else ""
    if picked and lead and lead not in picked and len(lead) + sum(len(p) for p in picked) <= budget:
        picked.insert(0, lead)
    return compose.lead_with_answer(compose.drop_empty_headings("\n\n".join(picked)), question) or content[:budget]


def _cite(cited: list[SearchHit], hit: SearchHit) -> int:
    """The citation number of `hit`, adding it when it is new (one number per passage)."""
    for number, known in enumerate(cited, start=1):
        if known.id == hit.id:
            return number
    cited.append(hit)
    return len(cited)


def _verdict(shape: QuestionPlan, found: list[tuple[Any, ...]], numbers: dict[str, int]) -> str:
    """"**A** is lower: 18.99% [1], against 20.49% for **B** [2]." when both figures are comparable."""
    values = [(o, v, u, t) for o, hit, _, v, u, t in found if hit is not None and v is not None]
    if len(values) != 2 or values[0][2] != values[1][2] or not shape.direction or values[0][1] == values[1][1]:
        return ""
    (a, va, _, ta), (b, vb, _, tb) = values
    win, lose = ((a, ta), (b, tb)) if (va < vb) == (shape.direction == "min") else ((b, tb), (a, ta))
    word = "lower" if shape.direction == "min" else "higher"
    return (f"**{win[0]}** is {word}: {win[1]} [{numbers[win[0]]}], against {lose[1]} for "
            f"**{lose[0]}** [{numbers[lose[0]]}].")


def _passage_answer(hit: SearchHit, number: int, content: str) -> str:
    title = str(hit.metadata.get("title") or hit.metadata.get("source") or "our help center")
    section = str(hit.metadata.get("section") or "")
    where = f"**{title}**" + (f" ({section})" if section and "sections" not in hit.metadata else "")
    lead = "Here is what our help center says in" if number == 1 else "Also relevant, from"
    return f"{lead} {where} [{number}]:\n\n{content}"
