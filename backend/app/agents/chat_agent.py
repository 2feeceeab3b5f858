"""CustomerSupportAgent: runs one turn with the tools and the built-in grounded responder."""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.agents import prompts
from app.knowledge.search import Retrieval, SearchHit
from app.tools.base_tool import BaseTool, ToolResult
from app.tools.escalation_tool import EscalationDecision, EscalationTool
from app.tools.rag_tool import RagSearchTool

log = logging.getLogger("app.agent")

_GREETING = re.compile(r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening)|hiya|greetings)\b[\s!.,]*$", re.I)
_THANKS = re.compile(r"^\s*(?:thanks|thank you|thx|cheers|great,? thanks)\b.{0,40}$", re.I)
_BYE = re.compile(r"^\s*(?:bye|goodbye|see you|that'?s all)\b.{0,30}$", re.I)


@dataclass
class AgentReply:
    message: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    requires_escalation: bool = False
    escalation: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    confidence: float | None = None
    degraded: bool = False


class CustomerSupportAgent:
    def __init__(self, rag: RagSearchTool, escalation: EscalationTool,
                 system_prompt: str = prompts.SYSTEM_PROMPT) -> None:
        self.rag = rag
        self.escalation = escalation
        self.system_prompt = system_prompt

    async def respond(self, message: str, history: list[dict[str, Any]] | None = None) -> AgentReply:
        calls: list[dict[str, Any]] = []
        decision_result = await self._call(self.escalation, calls, message=message)
        decision: EscalationDecision | None = decision_result.data if decision_result.success else None
        if decision is not None:
            ticket = uuid.uuid4()
            return AgentReply(
                message=prompts.HANDOFF.format(ticket=_ticket_number(ticket)),
                requires_escalation=True,
                escalation={"id": ticket, "ticket_id": _ticket_number(ticket), "reason": decision.reason,
                            "priority": decision.priority},
                tool_calls=calls,
            )
        small_talk = _small_talk(message)
        if small_talk:
            return AgentReply(message=small_talk, tool_calls=calls)

        result = await self._call(self.rag, calls, query=message)
        retrieval: Retrieval | None = result.data if result.success else None
        relevant = retrieval.hits if retrieval and retrieval.answerable else []
        confidence = retrieval.confidence if retrieval else 0.0
        if not relevant:
            return AgentReply(message=prompts.NO_ANSWER, tool_calls=calls, confidence=confidence)
        # A second article is worth showing only when it is nearly as close as the best one.
        chosen = [relevant[0]] + [h for h in relevant[1:2] if h.distance - relevant[0].distance <= 0.06]
        return AgentReply(message=_compose(chosen), sources=[h.as_source() for h in chosen],
                          tool_calls=calls, confidence=confidence)

    async def _call(self, tool: BaseTool, calls: list[dict[str, Any]], **arguments: Any) -> ToolResult:
        start = time.perf_counter()
        try:
            result = await tool.run(**arguments)
        except Exception as exc:  # a broken tool must not lose the turn
            log.exception("tool.call.failed", extra={"tool": tool.name})
            result = ToolResult(success=False, error=f"{type(exc).__name__}")
        calls.append({"name": tool.name, "arguments": _loggable(arguments), "success": result.success,
                      "error": result.error, "duration_ms": round((time.perf_counter() - start) * 1000, 2)})
        return result


def _ticket_number(ticket: uuid.UUID) -> str:
    return f"ESC-{ticket.hex[:8].upper()}"


def _loggable(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: (v[:200] if isinstance(v, str) else v) for k, v in arguments.items()}


def _small_talk(message: str) -> str | None:
    if _GREETING.match(message):
        return "Hello! I'm the support assistant. Ask me anything about your account, orders, shipping or returns."
    if _THANKS.match(message):
        return "You're welcome! Is there anything else I can help you with?"
    if _BYE.match(message):
        return "Thanks for chatting with us. Have a great day!"
    return None


def _compose(hits: list[SearchHit]) -> str:
    parts = []
    for number, hit in enumerate(hits, start=1):
        title = str(hit.metadata.get("title") or hit.metadata.get("source") or "our help center")
        section = str(hit.metadata.get("section") or "")
        where = f"**{title}**" + (f" ({section})" if section and "sections" not in hit.metadata else "")
        lead = "Here is what our help center says in" if number == 1 else "Also relevant, from"
        parts.append(f"{lead} {where} [{number}]:\n\n{hit.content.strip()}")
    return "\n\n".join(parts)
