"""The tool contract: JSON-schema parameters (the same schema feeds OpenAI function calling).

A tool is one `BaseTool` subclass plus one entry in `registry.TOOL_CLASSES`; settings enable it
(`ENABLED_TOOLS`) and pass it options (`TOOL_OPTIONS`). Tools never see raw model output: the
registry validates arguments against `parameters` first, and the wrapper adds timeout, retries,
circuit breaker, metrics and logs.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class ToolResult:
    success: bool
    data: Any = None
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment of the conversation, as stored by ChatService."""

    id: uuid.UUID
    filename: str
    content_type: str
    storage_path: str
    extracted_text: str | None = None
    message_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ToolContext:
    """Who the call is for. Supplied by the agent, never by the model, so a model cannot reach
    another customer's memory or files."""

    session_id: uuid.UUID | None = None
    user_id: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    user_text: str = ""


class RetryableToolError(Exception):
    """A transient failure (network, busy backend): the wrapper retries it with jittered backoff."""


class BaseTool(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]]
    # Exceptions worth another attempt; anything else fails the call at once.
    retryable: ClassVar[tuple[type[BaseException], ...]] = (RetryableToolError, ConnectionError)

    @classmethod
    def build(cls, deps: Any, options: dict[str, Any]) -> BaseTool:
        """Create the tool from `registry.ToolDeps` and its `TOOL_OPTIONS` entry."""
        return cls(**options)

    def schema(self) -> dict[str, Any]:
        """OpenAI function-calling description of this tool."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    @abstractmethod
    async def run(self, context: ToolContext, **kwargs: Any) -> ToolResult:
        """Do the work; expected failures come back as ToolResult(success=False), not exceptions."""
