"""ToolRegistry: builds the enabled tools from settings and runs every call through one path.

Adding a tool: write a `BaseTool` subclass with a `build(deps, options)` classmethod and add it to
`TOOL_CLASSES`; enable it with `ENABLED_TOOLS` and configure it with `TOOL_OPTIONS` (the keys
`timeout_seconds`, `max_retries`, `breaker_fail_max`, `breaker_reset_seconds` tune the wrapper,
the rest go to the tool).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any

from jsonschema import Draft202012Validator

from app.config import Settings
from app.db.engine import Database
from app.knowledge.search import KnowledgeBase
from app.observability import metrics
from app.tools.attachment_tool import AttachmentTool
from app.tools.base_tool import BaseTool, ToolContext, ToolResult
from app.tools.escalation_tool import EscalationTool
from app.tools.memory_tool import MemoryTool
from app.tools.rag_tool import RagSearchTool
from app.tools.tool_call_wrapper import ResiliencePolicy, ToolCallWrapper

log = logging.getLogger("app.tools")

TOOL_CLASSES: dict[str, type[BaseTool]] = {
    cls.name: cls for cls in (RagSearchTool, MemoryTool, AttachmentTool, EscalationTool)
}
_POLICY_KEYS = {f.name for f in fields(ResiliencePolicy)}


@dataclass(frozen=True)
class ToolDeps:
    """What tools may be built from; each tool takes the parts it needs."""

    settings: Settings
    knowledge: KnowledgeBase | None = None
    db: Database | None = None


class ToolRegistry:
    def __init__(self, tools: list[BaseTool], policies: dict[str, ResiliencePolicy] | None = None) -> None:
        policies = policies or {}
        self._wrappers = {t.name: ToolCallWrapper(t, policies.get(t.name, ResiliencePolicy())) for t in tools}
        self._validators = {t.name: Draft202012Validator(t.parameters) for t in tools}

    @classmethod
    def from_settings(cls, settings: Settings, knowledge: KnowledgeBase | None = None,
                      db: Database | None = None) -> ToolRegistry:
        deps = ToolDeps(settings=settings, knowledge=knowledge, db=db)
        tools: list[BaseTool] = []
        policies: dict[str, ResiliencePolicy] = {}
        for name in settings.enabled_tools:
            tool_cls = TOOL_CLASSES.get(name)
            if tool_cls is None:
                raise ValueError(f"ENABLED_TOOLS names an unknown tool {name!r}; known: {sorted(TOOL_CLASSES)}")
            options = dict(settings.tool_options.get(name, {}))
            policy_options = {k: options.pop(k) for k in list(options) if k in _POLICY_KEYS}
            policies[name] = ResiliencePolicy(**{
                "timeout_seconds": settings.tool_timeout_seconds, "max_retries": settings.tool_max_retries,
                "breaker_fail_max": settings.tool_breaker_fail_max,
                "breaker_reset_seconds": settings.tool_breaker_reset_seconds, **policy_options})
            tools.append(tool_cls.build(deps, options))
        log.info("tools.registry.built", extra={"tools": [t.name for t in tools]})
        return cls(tools, policies)

    async def start(self) -> None:
        """Warm what tools keep running (the file parser's worker process)."""
        for wrapper in self._wrappers.values():
            start = getattr(wrapper.tool, "start", None)
            if start is not None:
                await start()

    async def close(self) -> None:
        for wrapper in self._wrappers.values():
            close = getattr(wrapper.tool, "close", None)
            if close is not None:
                await close()

    @property
    def names(self) -> list[str]:
        return list(self._wrappers)

    def get(self, name: str) -> BaseTool | None:
        wrapper = self._wrappers.get(name)
        return wrapper.tool if wrapper else None

    def wrapper(self, name: str) -> ToolCallWrapper | None:
        return self._wrappers.get(name)

    async def run_operation(self, name: str, operation: Callable[[], Awaitable[Any]]) -> ToolResult:
        """A tool's own operation (not a model call, so no argument schema) through the tool's wrapper:
        the same timeout, retries, breaker and metrics as its calls."""
        wrapper = self._wrappers.get(name)
        if wrapper is None:
            return _rejected(name, f"unknown tool {name!r}")
        return await wrapper.run_operation(operation)

    def schemas(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """OpenAI `tools=[...]` entries for the enabled tools (optionally only `names`)."""
        return [w.tool.schema() for n, w in self._wrappers.items() if names is None or n in names]

    async def call(self, name: str, arguments: dict[str, Any] | str | None, context: ToolContext) -> ToolResult:
        """Validate, then run through the wrapper. Bad calls come back as a failed ToolResult whose
        error the model can read and correct, never as an exception."""
        wrapper = self._wrappers.get(name)
        if wrapper is None:
            return _rejected(name, f"unknown tool {name!r}; available: {', '.join(self._wrappers)}")
        if isinstance(arguments, str) or arguments is None:
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                return _rejected(name, f"arguments are not valid JSON: {exc.msg}")
        if not isinstance(arguments, dict):
            return _rejected(name, "arguments must be a JSON object")
        errors = sorted(self._validators[name].iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            detail = "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:3])
            return _rejected(name, f"invalid arguments: {detail}")
        return await wrapper.call(context, arguments)


def _rejected(name: str, error: str) -> ToolResult:
    label = name if name in TOOL_CLASSES else "unknown"
    metrics.TOOL_CALLS.labels(tool=label, status="invalid_arguments").inc()
    log.warning("tool.call.rejected", extra={"tool": label, "error": error[:300]})
    return ToolResult(success=False, error=error, metadata={"status": "invalid_arguments", "attempts": 0})
