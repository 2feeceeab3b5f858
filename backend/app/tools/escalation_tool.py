"""escalation: decide when a conversation must go to a human."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from app.tools.base_tool import BaseTool, ToolResult

# An explicit ask for a person. Kept to phrasings where the customer asks for someone, so that
# "does a human check my return?" does not trigger a handoff.
_HUMAN_REQUEST = re.compile(
    r"\b(?:"
    r"(?:talk|speak|chat|connect|transfer|put)\s+(?:me\s+)?(?:to|with|through to)\s+(?:a|an|the|some|your)?\s*"
    r"(?:real\s+|live\s+|actual\s+)?(?:human|person|agent|representative|rep|someone|somebody|operator|manager|"
    r"supervisor|staff|employee)"
    r"|(?:want|need|get|like|request)\s+(?:a|an|to\s+talk\s+to\s+a)?\s*(?:real\s+|live\s+|actual\s+)?"
    r"(?:human|person|representative|live\s+agent|human\s+agent|operator|manager|supervisor)"
    r"|human\s+(?:agent|support|being|please)|real\s+person|live\s+(?:agent|person|chat\s+agent)"
    r"|escalate|customer\s+service\s+rep"
    r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EscalationDecision:
    reason: str
    priority: str


def detect_escalation(text: str) -> EscalationDecision | None:
    if _HUMAN_REQUEST.search(text):
        return EscalationDecision(reason="customer_request", priority="normal")
    return None


class EscalationTool(BaseTool):
    name = "escalation"
    description = "Hand the conversation to a human support agent when the customer asks for one."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"message": {"type": "string", "description": "The customer's latest message"}},
        "required": ["message"],
        "additionalProperties": False,
    }

    async def run(self, **kwargs: Any) -> ToolResult:
        decision = detect_escalation(str(kwargs.get("message", "")))
        return ToolResult(success=True, data=decision, metadata={"escalate": decision is not None})
