"""One resilience wrapper for every tool call: timeout, retries, circuit breaker, metrics, logs.

Never raises: whatever happens, the caller gets a ToolResult whose metadata says what happened
(`status`: ok | error | timeout | breaker_open, `attempts`, `duration_ms`), so a broken tool can
never lose a turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiobreaker import CircuitBreaker, CircuitBreakerError, CircuitBreakerListener
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from app.observability import metrics
from app.tools.base_tool import BaseTool, ToolContext, ToolResult

log = logging.getLogger("app.tools")

_STATE_VALUE = {"closed": 0, "half-open": 1, "half_open": 1, "open": 2}


@dataclass(frozen=True)
class ResiliencePolicy:
    timeout_seconds: float = 10.0
    max_retries: int = 2
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0
    # Backoff between retries: random in [0, min(max, base * 2**n)] ("full jitter").
    backoff_base_seconds: float = 0.05
    backoff_max_seconds: float = 1.0


class BreakerMetrics(CircuitBreakerListener):
    """Mirrors a breaker's state into the shared gauge and logs every transition."""

    def __init__(self, label: str) -> None:
        self.label = label
        metrics.CIRCUIT_BREAKER_STATE.labels(breaker=label).set(0)

    def state_change(self, breaker: Any, old: Any, new: Any) -> None:
        name = str(getattr(new, "state", new)).split(".")[-1].lower()
        value = _STATE_VALUE.get(name, 0)
        metrics.CIRCUIT_BREAKER_STATE.labels(breaker=self.label).set(value)
        log.warning("breaker.state.changed", extra={"breaker": self.label, "state": name})


def new_breaker(label: str, fail_max: int, reset_seconds: float) -> CircuitBreaker:
    return CircuitBreaker(fail_max=fail_max, timeout_duration=timedelta(seconds=reset_seconds),
                          listeners=[BreakerMetrics(label)], name=label)


def breaker_is_open(breaker: CircuitBreaker) -> bool:
    """Open and still cooling down (half-open lets one trial call through)."""
    state = str(breaker.current_state).split(".")[-1].lower()
    return state == "open" and (breaker.time_until_open is None or breaker.time_until_open.total_seconds() > 0)


class ToolCallWrapper:
    def __init__(self, tool: BaseTool, policy: ResiliencePolicy) -> None:
        self.tool = tool
        self.policy = policy
        self.breaker = new_breaker(f"tool:{tool.name}", policy.breaker_fail_max, policy.breaker_reset_seconds)

    async def call(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        name = self.tool.name
        start = time.perf_counter()
        attempts = 0

        async def attempt() -> ToolResult:
            nonlocal attempts
            attempts += 1
            async with asyncio.timeout(self.policy.timeout_seconds):
                return await self.tool.run(context, **arguments)

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
