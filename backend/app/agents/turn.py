"""The input of one turn and the state a turn accumulates while providers and tools run."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.agents.events import AgentEvent, EscalationRaised, SourcesFound, ToolStatus
from app.knowledge.search import Retrieval, SearchHit
from app.tools.attachment_tool import FileText
from app.tools.base_tool import AttachmentRef, ToolContext, ToolResult
from app.tools.escalation_tool import EscalationTicket
from app.tools.memory_tool import MemorySnapshot
from app.tools.registry import ToolRegistry

log = logging.getLogger("app.agent")


@dataclass(frozen=True)
class HistoryItem:
    role: str
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnInput:
    text: str
    session_id: uuid.UUID | None = None
    user_id: str | None = None
    # Every attachment of the conversation; those of this message are listed in new_attachment_ids.
    attachments: tuple[AttachmentRef, ...] = ()
    new_attachment_ids: frozenset[uuid.UUID] = frozenset()
    # Earlier messages, oldest first, without this one.
    history: tuple[HistoryItem, ...] = ()
    channel: str = "rest"
    # The customer's memory as read with the stored message (the turn service's one transaction);
    # None: the agent loads it through the memory tool.
    memory: MemorySnapshot | None = None

    @property
    def context(self) -> ToolContext:
        return ToolContext(session_id=self.session_id, user_id=self.user_id, attachments=self.attachments,
                           user_text=self.text)

    @property
    def new_attachments(self) -> tuple[AttachmentRef, ...]:
        return tuple(a for a in self.attachments if a.id in self.new_attachment_ids)


@dataclass
class Turn:
    """Mutable per-turn state. Tool calls go through `call`, which records them and queues events."""

    input: TurnInput
    registry: ToolRegistry
    memory: MemorySnapshot = field(default_factory=MemorySnapshot)
    new_facts: dict[str, str] = field(default_factory=dict)
    files: list[FileText] = field(default_factory=list)
    hits: list[SearchHit] = field(default_factory=list)
    confidence: float | None = None
    ticket: EscalationTicket | None = None
    notices: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    answered: bool = True
    notices_shown: int = 0
    # Writes started beside the answer (the running summary): done before the turn completes.
    writes: list[asyncio.Future[None]] = field(default_factory=list)
    _pending: list[AgentEvent] = field(default_factory=list)

    def take_notices(self) -> list[str]:
        """Notices not yet shown to the customer (each is shown once)."""
        fresh = self.notices[self.notices_shown:]
        self.notices_shown = len(self.notices)
        return fresh

    def drain(self) -> list[AgentEvent]:
        events, self._pending = self._pending, []
        return events

    def enabled(self, name: str) -> bool:
        return self.registry.get(name) is not None

    async def call(self, name: str, arguments: dict[str, Any] | str | None) -> ToolResult:
        """Run a tool through the registry; record it, queue its status events, absorb its results."""
        self._pending.append(ToolStatus(name, "started"))
        result = await self.registry.call(name, arguments, self.input.context)
        status = str(result.metadata.get("status", "ok" if result.success else "error"))
        self._pending.append(ToolStatus(name, status, result.error))
        shown = arguments if isinstance(arguments, dict) else {"raw": str(arguments)[:200]}
        self.tool_calls.append({"name": name, "arguments": _loggable(shown), "success": result.success,
                                "status": status, "error": result.error,
                                "duration_ms": result.metadata.get("duration_ms")})
        if status in ("timeout", "breaker_open") and name != "escalation":
            self.notices.append(_UNAVAILABLE.get(name, "One of my tools is unavailable right now.")
                                + (" (it timed out)" if status == "timeout" else ""))
        if result.success:
            self._absorb(name, result)
        return result

    def _absorb(self, name: str, result: ToolResult) -> None:
        if name == "rag_search" and isinstance(result.data, Retrieval):
            retrieval = result.data
            self.confidence = max(self.confidence or 0.0, retrieval.confidence)
            new = [h for h in retrieval.hits if h.id not in {k.id for k in self.hits}]
            if retrieval.answerable and new:
                self.hits.extend(new)
                self._pending.append(SourcesFound([h.as_source() for h in self.hits]))
        elif name == "escalation" and isinstance(result.data, EscalationTicket) and self.ticket is None:
            self.ticket = result.data
            self._pending.append(EscalationRaised(True, self.ticket.reason, self.ticket.ticket_id,
                                                  self.ticket.priority))
        elif name == "attachment" and isinstance(result.data, list):
            for file in result.data:
                if isinstance(file, FileText) and file.id not in {f.id for f in self.files}:
                    self.files.append(file)
                    if file.problem:
                        self.notices.append(file.problem)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


_UNAVAILABLE = {
    "rag_search": "I couldn't search our help center just now.",
    "attachment": "I couldn't read your file just now.",
    "memory": "I couldn't reach my notes from earlier in our conversation just now.",
}


def _loggable(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: (v[:200] if isinstance(v, str) else v) for k, v in arguments.items()}
