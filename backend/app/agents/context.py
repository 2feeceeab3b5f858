"""What the model sees: instructions, remembered facts, trimmed history, delimited data.

Knowledge passages, file text and memory are wrapped in tags the system prompt declares as data,
and any closing tag inside them is neutralised, so text in a document cannot pose as instructions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.agents.turn import HistoryItem, Turn
from app.knowledge.search import Retrieval
from app.tools.attachment_tool import FileText
from app.tools.base_tool import ToolResult
from app.tools.escalation_tool import EscalationTicket

CHARS_PER_TOKEN = 4  # rough, model-independent; good enough to keep within a budget
_TAG = re.compile(r"</?\s*(document|attachment|memory|tool_result)\b", re.I)


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 4


def trim_history(history: tuple[HistoryItem, ...], budget_tokens: int) -> tuple[list[HistoryItem], list[HistoryItem]]:
    """(kept, dropped): the newest messages that fit the budget, and the older ones left out."""
    kept: list[HistoryItem] = []
    used = 0
    for item in reversed(history):
        cost = estimate_tokens(item.content)
        if used + cost > budget_tokens:
            break
        kept.append(item)
        used += cost
    kept.reverse()
    return kept, list(history[: len(history) - len(kept)])


def summarize(dropped: list[HistoryItem], previous: str = "", max_lines: int = 12) -> str:
    """A running summary of turns that no longer fit: what the customer asked, and how it ended."""
    lines = [line for line in previous.splitlines() if line.strip()]
    for item in dropped:
        first = re.split(r"(?<=[.!?])\s", item.content.strip(), maxsplit=1)[0][:160]
        if item.role == "user":
            lines.append(f"- Customer: {first}")
        elif item.metadata.get("requires_escalation"):
            lines.append("- Assistant handed the conversation to a human.")
        elif item.metadata.get("answered") is False:
            lines.append("- Assistant could not answer.")
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return "\n".join(seen[-max_lines:])


def _data(text: str) -> str:
    return _TAG.sub(lambda m: m.group(0).replace("<", "&lt;"), text)


def build_messages(turn: Turn, system_prompt: str, budget_tokens: int) -> list[dict[str, Any]]:
    system = system_prompt
    if turn.memory.facts or turn.memory.summary:
        facts = "\n".join(f"{k}: {v}" for k, v in turn.memory.facts.items())
        summary = f"\nEarlier in the conversation:\n{turn.memory.summary}" if turn.memory.summary else ""
        system += f"\n<memory>\nKnown about this customer:\n{_data(facts) or '(nothing)'}{_data(summary)}\n</memory>"
    kept, _ = trim_history(turn.input.history, budget_tokens)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    messages += [_history_message(h) for h in kept if h.role in ("user", "assistant", "agent")]
    user = turn.input.text
    files = [f for f in turn.files if f.status == "processed"]
    if files:
        user += "\n\n" + "\n".join(_file_block(f) for f in files)
    if turn.notices:
        user += "\n\n(Note for the assistant: " + " ".join(turn.notices) + ")"
    messages.append({"role": "user", "content": user})
    return messages


def _history_message(item: HistoryItem) -> dict[str, Any]:
    """A person's reply (role `agent`, human handoff) is shown to the model as said on the company's side,
    so after a return to the bot it neither repeats nor contradicts what the person told the customer."""
    if item.role == "agent":
        name = (item.metadata.get("author") or {}).get("name", "a support agent")
        return {"role": "assistant", "content": f"[{_data(str(name))}, a member of the support team, wrote:] "
                                                f"{_data(item.content)}"}
    return {"role": item.role, "content": item.content}


def _file_block(file: FileText, max_chars: int = 6000) -> str:
    text = "\n\n".join(file.excerpts) if file.excerpts else file.text[:max_chars]
    return f'<attachment filename="{_data(file.filename)}">\n{_data(text)}\n</attachment>'


def render_tool_result(name: str, result: ToolResult, turn: Turn) -> str:
    """The tool message the model reads: data in tags, errors spelled out so it can correct itself."""
    if not result.success:
        return f'<tool_result name="{name}" error="true">\n{_data(result.error or "failed")}\n</tool_result>'
    data = result.data
    if isinstance(data, Retrieval):
        if not data.answerable:
            body = "No help-center passage answers this. Say so and offer a human agent."
        else:
            numbers = {h.id: i for i, h in enumerate(turn.hits, start=1)}
            body = "\n".join(
                f'<document index="{numbers.get(h.id, "?")}" source="{_data(str(h.metadata.get("source", "")))}" '
                f'title="{_data(str(h.metadata.get("title", "")))}">\n{_data(h.content)}\n</document>'
                for h in data.hits)
    elif isinstance(data, list) and all(isinstance(f, FileText) for f in data):
        body = "\n".join(_file_block(f) if f.status == "processed" else f"{f.filename}: {f.problem}" for f in data)
    elif isinstance(data, EscalationTicket):
        body = f"Ticket {data.ticket_id} opened ({data.reason}, {data.priority}). Tell the customer the ticket number."
    else:
        body = _data(json.dumps(data, default=str))
    return f'<tool_result name="{name}">\n{body}\n</tool_result>'
