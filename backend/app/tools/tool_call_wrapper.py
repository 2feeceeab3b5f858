"""One resilience wrapper for every tool call: timeout, retries, circuit breaker, metrics, logs.

Never raises: whatever happens, the caller gets a ToolResult whose metadata says what happened
(`status`: ok | error | timeout | breaker_open, `attempts`, `duration_ms`), so a broken tool can
never lose a turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiobreaker import CircuitBreakerError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from app.observability import metrics
from app.resilience import new_breaker
from app.tools.base_tool import BaseTool, ToolContext, ToolResult

log = logging.getLogger("app.tools")

@dataclass(frozen=True)
class ResiliencePolicy:
    timeout_seconds: float = 10.0
    max_retries: int = 2
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0
    # Backoff between retries: random in [0, min(max, base * 2**n)] ("full jitter").
    backoff_base_seconds: float = 0.05
    backoff_max_seconds: float = 1.0


class ToolCallWrapper:
    def __init__(self, tool: BaseTool, policy: ResiliencePolicy) -> None:
        self.tool = tool
        self.policy = policy
        self.breaker = new_breaker(f"tool:{tool.name}", policy.breaker_fail_max, policy.breaker_reset_seconds)

    async def call(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        """The model's (or the agent's) call of the tool with JSON arguments."""
        return await self.guard(lambda: self.tool.run(context, **arguments))

    async def run_operation(self, operation: Callable[[], Awaitable[Any]]) -> ToolResult:
        """One of the tool's own operations outside its JSON interface (memory's load or summary), under
        the same timeout, retries and breaker; its return value is the result's `data`."""
        async def wrapped() -> ToolResult:
            return ToolResult(success=True, data=await operation())

        return await self.guard(wrapped)

    async def guard(self, run: Callable[[], Awaitable[ToolResult]]) -> ToolResult:
        name = self.tool.name
        start = time.perf_counter()
        attempts = 0

        async def attempt() -> ToolResult:
            nonlocal attempts
            attempts += 1
            async with asyncio.timeout(self.policy.timeout_seconds):
                return await run()

        try:
            retrying = AsyncRetrying(
                stop=stop_after_attempt(self.policy.max_retries + 1),
                wait=wait_random_exponential(multiplier=self.policy.backoff_base_seconds,
                                             max=self.policy.backoff_max_seconds),
                retry=retry_if_exception_type(self.tool.retryable), reraise=True)
            result: ToolResult = await retrying(self.breaker.call_async, attempt)
            status = "ok" if result.success else "error"
        except CircuitBreakerError as exc:
            # The failure that trips the breaker arrives wrapped; report what really happened.
            if isinstance(exc.__cause__, TimeoutError):
                result = ToolResult(success=False, error=f"{name} timed out after {self.policy.timeout_seconds:g} s")
                status = "timeout"
            else:
                result = ToolResult(success=False, error=f"{name} is temporarily unavailable (circuit open)")
                status = "breaker_open"
        except TimeoutError:
            result = ToolResult(success=False, error=f"{name} timed out after {self.policy.timeout_seconds:g} s")
            status = "timeout"
        except Exception as exc:  # a broken tool must not lose the turn
            log.exception("tool.call.crashed", extra={"tool": name})
            result = ToolResult(success=False, error=f"{name} failed ({type(exc).__name__})")
            status = "error"
        duration = time.perf_counter() - start
        result.metadata.update({"status": status, "attempts": attempts, "duration_ms": round(duration * 1000, 2)})
        metrics.TOOL_CALLS.labels(tool=name, status=status).inc()
        metrics.TOOL_CALL_DURATION.labels(tool=name).observe(duration)
        level = logging.INFO if status == "ok" else logging.WARNING
        log.log(level, "tool.call.completed" if status == "ok" else "tool.call.failed",
                extra={"tool": name, "status": status, "attempts": attempts,
                       "duration_ms": result.metadata["duration_ms"], "error": result.error})
        return result
