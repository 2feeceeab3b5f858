"""What one turn produces, as a stream of small events (forwarded as-is by the WebSocket).

In order of appearance within a turn:

- ``ToolStatus(name, status, detail)``: a tool started or finished. ``status`` is ``started`` then one
  of ``ok | error | timeout | breaker_open | invalid_arguments``; ``detail`` is a short error text.
- ``SourcesFound(sources)``: help-center passages the answer cites, in citation order ([1], [2], ...),
  each in the REST source shape ``{id, content, metadata, distance}``. Sent when they are known.
- ``EscalationRaised(required, reason, ticket_id, priority)``: the conversation goes to a human.
- ``TextDelta(text)``: the next piece of the answer. Concatenated, the deltas are the reply.
- ``Degraded(reason)``: the language model failed mid-turn. Discard the text received so far; the
  built-in responder answers next (its deltas follow) and the reply carries ``degraded: true``.
- ``TurnComplete(reply)``: always last; the full ``AgentReply`` (what REST returns and what is stored).

Every event has ``type`` and ``as_dict()`` (JSON-ready) for transports.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class AgentReply:
    message: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    requires_escalation: bool = False
    # {id (UUID), ticket_id, reason, priority, summary} when requires_escalation
    escalation: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    confidence: float | None = None
    degraded: bool = False
    # Plain-language problems the customer should know about (an unreadable file, a tool that timed out).
    notices: list[str] = field(default_factory=list)
    # Whether the reply answered the question (False for "I couldn't find that"); repeated misses escalate.
    answered: bool = True
    provider: str = "local"
    # The reply rests on cited help-center passages (False for "I don't know", small talk, handoffs).
    grounded: bool = False


class _Event:
    type: ClassVar[str]

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **_jsonable(asdict(self))}  # type: ignore[call-overload]


@dataclass(frozen=True)
class TextDelta(_Event):
    text: str
    type: ClassVar[str] = "text_delta"


@dataclass(frozen=True)
class ToolStatus(_Event):
    name: str
    status: str
    detail: str | None = None
    type: ClassVar[str] = "tool_status"


@dataclass(frozen=True)
class SourcesFound(_Event):
    sources: list[dict[str, Any]]
    type: ClassVar[str] = "sources"


@dataclass(frozen=True)
class EscalationRaised(_Event):
    required: bool
    reason: str
    ticket_id: str
    priority: str
    type: ClassVar[str] = "escalation"


@dataclass(frozen=True)
class Degraded(_Event):
    reason: str
    type: ClassVar[str] = "degraded"


@dataclass(frozen=True)
class TurnComplete(_Event):
    reply: AgentReply
    type: ClassVar[str] = "complete"


AgentEvent = TextDelta | ToolStatus | SourcesFound | EscalationRaised | Degraded | TurnComplete
