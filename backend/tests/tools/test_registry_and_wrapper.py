import asyncio
from typing import Any, ClassVar

import pytest

from app.tools.base_tool import BaseTool, RetryableToolError, ToolContext, ToolResult
from app.tools.registry import ToolRegistry
from app.tools.tool_call_wrapper import ResiliencePolicy
from tests.conftest import make_settings

CTX = ToolContext()


class FlakyTool(BaseTool):
    """Fails with a transient error `failures` times, then succeeds; counts its runs."""

    name = "flaky"
    description = "test tool"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"],
        "additionalProperties": False}

    def __init__(self, failures: int = 0, error: type[Exception] = RetryableToolError, delay: float = 0.0) -> None:
        self.failures = failures
        self.error = error
        self.delay = delay
        self.runs = 0

    async def run(self, context: ToolContext, **kwargs: Any) -> ToolResult:
        self.runs += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.runs <= self.failures:
            raise self.error("transient")
        return ToolResult(success=True, data=kwargs["n"] * 2)


def registry(tool: BaseTool, **policy: Any) -> ToolRegistry:
    return ToolRegistry([tool], {tool.name: ResiliencePolicy(backoff_base_seconds=0.001, **policy)})


async def test_invalid_calls_come_back_as_tool_errors_without_running_the_tool() -> None:
    tool = FlakyTool()
    reg = registry(tool)
    cases = {
        "unknown tool": ("nope", {"n": 1}, "unknown tool"),
        "not json": ("flaky", '{"n": ', "not valid JSON"),
        "wrong type": ("flaky", {"n": "three"}, "invalid arguments"),
        "missing field": ("flaky", {}, "'n' is a required property"),
        "extra field": ("flaky", {"n": 1, "x": 2}, "Additional properties"),
        "not an object": ("flaky", "[1]", "must be a JSON object"),
    }
    for label, (name, arguments, expected) in cases.items():
        result = await reg.call(name, arguments, CTX)
        assert not result.success, label
        assert expected in (result.error or ""), (label, result.error)
        assert result.metadata["status"] == "invalid_arguments"
    assert tool.runs == 0
    ok = await reg.call("flaky", '{"n": 21}', CTX)
    assert ok.success and ok.data == 42


async def test_transient_errors_are_retried_and_others_are_not() -> None:
    tool = FlakyTool(failures=2)
    result = await registry(tool, max_retries=2).call("flaky", {"n": 1}, CTX)
    assert result.success and result.metadata["attempts"] == 3

    broken = FlakyTool(failures=1, error=ValueError)
    result = await registry(broken, max_retries=2).call("flaky", {"n": 1}, CTX)
    assert not result.success and result.metadata["attempts"] == 1
    assert "ValueError" in (result.error or "")


async def test_a_tool_that_times_out_is_reported_not_raised() -> None:
    tool = FlakyTool(delay=5)
    result = await registry(tool, timeout_seconds=0.05, max_retries=2).call("flaky", {"n": 1}, CTX)
    assert not result.success
    assert result.metadata["status"] == "timeout"
    assert result.metadata["attempts"] == 1  # a timeout is not retried: the turn must stay bounded
    assert "timed out" in (result.error or "")


async def test_breaker_opens_after_repeated_failures_and_stops_calling_the_tool() -> None:
    tool = FlakyTool(failures=100, error=ValueError)
    reg = registry(tool, max_retries=0, breaker_fail_max=3, breaker_reset_seconds=60)
    statuses = [(await reg.call("flaky", {"n": 1}, CTX)).metadata["status"] for _ in range(5)]
    assert statuses[:2] == ["error", "error"]
    assert statuses[3:] == ["breaker_open", "breaker_open"]
    assert tool.runs == 3


def test_registry_builds_enabled_tools_with_their_options(tmp_path) -> None:
    settings = make_settings(tmp_path, enabled_tools=["escalation"],
                             tool_options={"escalation": {"timeout_seconds": 2, "summary_chars": 50}})
    reg = ToolRegistry.from_settings(settings)
    assert reg.names == ["escalation"]
    assert reg.wrapper("escalation").policy.timeout_seconds == 2  # type: ignore[union-attr]
    assert reg.get("escalation").summary_chars == 50  # type: ignore[union-attr]
    assert [s["function"]["name"] for s in reg.schemas()] == ["escalation"]
    with pytest.raises(ValueError, match="unknown tool"):
        ToolRegistry.from_settings(make_settings(tmp_path, enabled_tools=["crm"]))
