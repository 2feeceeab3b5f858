"""OpenAI-compatible chat completions with a bounded tool-calling loop, streamed.

Works with OpenAI, Azure OpenAI, vLLM, Ollama and llama.cpp servers (`OPENAI_BASE_URL`). Requests
are retried with jittered backoff on 5xx, 429, timeouts and connection errors (tenacity; the SDK's
own retries are off), and guarded by one circuit breaker. Any failure raises `LLMUnavailable`,
on which the agent lets the built-in responder answer (`degraded: true`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import openai
from aiobreaker import CircuitBreakerError
from openai import AsyncOpenAI
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from app.agents import prompts
from app.agents.context import build_messages, render_tool_result
from app.agents.events import AgentEvent, TextDelta
from app.agents.turn import Turn
from app.config import Settings
from app.observability import metrics
from app.resilience import breaker_is_open, new_breaker

log = logging.getLogger("app.llm")


class LLMUnavailable(Exception):
    """The endpoint failed (after retries) or its breaker is open."""


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | openai.APITimeoutError)


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: Settings, client: AsyncOpenAI | None = None) -> None:
        self.settings = settings
        self.model = settings.openai_model
        self.system_prompt = (settings.system_prompt or prompts.SYSTEM_PROMPT) + prompts.DATA_RULES
        self.client = client or AsyncOpenAI(
            api_key=settings.openai_api_key or "not-needed", base_url=settings.openai_base_url or None,
            timeout=settings.openai_timeout_seconds, max_retries=0)
        self.breaker = new_breaker("llm:openai", settings.llm_breaker_fail_max, settings.llm_breaker_reset_seconds)
        self.endpoint = safe_endpoint(str(self.client.base_url))
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.last_ok_at: str | None = None

    def status(self) -> dict[str, Any]:
        """What /health/detailed shows: where the model is, its breaker, and the last error it gave."""
        breaker = str(self.breaker.current_state).split(".")[-1].lower()
        degraded = breaker_is_open(self.breaker) or (self.last_error is not None and (
            self.last_ok_at is None or (self.last_error_at or "") > self.last_ok_at))
        return {"status": "degraded" if degraded else "ok", "provider": self.name, "endpoint": self.endpoint,
                "model": self.model, "breaker": breaker, "last_error": self.last_error,
                "last_error_at": self.last_error_at, "last_ok_at": self.last_ok_at}

    async def check(self) -> bool:
        """Startup check: one tiny streamed request that offers a tool. Logs one clear line either way."""
        where = {"endpoint": self.endpoint, "model": self.model}
        ping_tool: dict[str, Any] = {"type": "function", "function": {"name": "ping", "description": "Health check",
                                                       "parameters": {"type": "object", "properties": {}}}}
        try:
            kwargs: dict[str, Any] = {"model": self.model, "messages": [{"role": "user", "content": "ping"}],
                                      "tools": [ping_tool], "max_tokens": 1, "stream": True}
            stream: Any = await self.client.chat.completions.create(**kwargs)
            async for _ in stream:
                break
        except openai.APIConnectionError as exc:
            log.error("llm.startup.unreachable", extra={**where, "error": _describe(exc)})
            return False
        except openai.APIStatusError as exc:
            event = "llm.startup.no_tool_calling" if exc.status_code in (400, 422) and "tool" in \
                _describe(exc).lower() else "llm.startup.rejected"
            log.error(event, extra={**where, "error": _describe(exc)})
            return False
        except Exception as exc:
            log.error("llm.startup.failed", extra={**where, "error": _describe(exc)})
            return False
        log.info("llm.startup.ok", extra=where)
        return True

    async def close(self) -> None:
        await self.client.close()

    async def generate(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        """Stream the answer; run the tools the model asks for, up to LLM_MAX_TOOL_STEPS rounds."""
        if turn.input.new_attachments and turn.enabled("attachment") and not turn.files:
            await turn.call("attachment", {"question": turn.input.text})
            for event in turn.drain():
                yield event
        messages = build_messages(turn, self.system_prompt, self.settings.history_token_budget)
        steps = self.settings.llm_max_tool_steps
        for step in range(steps):
            # The last round has no tools, so the loop always ends with an answer.
            tools = turn.registry.schemas() if step < steps - 1 else None
            calls: dict[int, dict[str, str]] = {}
            content: list[str] = []
            async for chunk in self._stream(messages, tools):
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta.content:
                        content.append(delta.content)
                        turn.text_parts.append(delta.content)
                        yield TextDelta(delta.content)
                    for call in delta.tool_calls or []:
                        slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = call.id or slot["id"]
                        if call.function:
                            slot["name"] += call.function.name or ""
                            slot["arguments"] += call.function.arguments or ""
            if not calls:
                return
            ordered = [calls[i] for i in sorted(calls)]
            for n, call in enumerate(ordered):
                call["id"] = call["id"] or f"call_{step}_{n}"
            messages.append({"role": "assistant", "content": "".join(content) or None, "tool_calls": [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in ordered]})
            for call in ordered:
                result = await turn.call(call["name"], call["arguments"])
                for event in turn.drain():
                    yield event
                messages.append({"role": "tool", "tool_call_id": call["id"],
                                 "content": render_tool_result(call["name"], result, turn)})

    async def _stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> AsyncIterator[Any]:
        if breaker_is_open(self.breaker):
            metrics.LLM_REQUESTS.labels(provider="openai", status="breaker_open").inc()
            raise LLMUnavailable("circuit breaker open")
        start = time.perf_counter()
        try:
            retrying = AsyncRetrying(
                stop=stop_after_attempt(self.settings.openai_max_retries + 1),
                wait=wait_random_exponential(multiplier=0.2, max=4.0),
                retry=retry_if_exception(_retryable), reraise=True,
                before_sleep=lambda state: log.warning("llm.request.retry", extra={
                    "attempt": state.attempt_number, "error": type(state.outcome.exception()).__name__
                    if state.outcome else None}))
            stream: Any = await retrying(self.breaker.call_async, self._create, messages, tools)
        except CircuitBreakerError as exc:
            self._failed("breaker_open", exc.__cause__ or exc, start)
            raise LLMUnavailable("circuit breaker open") from exc
        except Exception as exc:
            self._failed("error", exc, start)
            raise LLMUnavailable(_describe(exc)) from exc
        try:
            async for chunk in stream:
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    metrics.LLM_TOKENS.labels(provider="openai", kind="prompt").inc(usage.prompt_tokens or 0)
                    metrics.LLM_TOKENS.labels(provider="openai", kind="completion").inc(usage.completion_tokens or 0)
                yield chunk
        except Exception as exc:  # the stream broke after it started: counts against the breaker too
            await self._record_failure(exc)
            self._failed("error", exc, start)
            raise LLMUnavailable(_describe(exc)) from exc
        self.last_ok_at = _now()
        metrics.LLM_REQUESTS.labels(provider="openai", status="ok").inc()
        metrics.LLM_REQUEST_DURATION.labels(provider="openai").observe(time.perf_counter() - start)

    async def _create(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Any:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True,
                                  "temperature": self.settings.openai_temperature,
                                  "stream_options": {"include_usage": True}}
        if tools:
            kwargs["tools"] = tools
        return await self.client.chat.completions.create(**kwargs)

    async def _record_failure(self, exc: Exception) -> None:
        async def fail() -> None:
            raise exc

        try:
            await self.breaker.call_async(fail)
        except Exception:  # noqa: S110 - the failure is being recorded, not handled
            pass

    def _failed(self, status: str, exc: BaseException, start: float) -> None:
        metrics.LLM_REQUESTS.labels(provider="openai", status=status).inc()
        metrics.LLM_REQUEST_DURATION.labels(provider="openai").observe(time.perf_counter() - start)
        self.last_error, self.last_error_at = _describe(exc), _now()
        log.warning("llm.request.failed", extra={"status": status, "error": self.last_error,
                                                 "endpoint": self.endpoint, "model": self.model})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def safe_endpoint(url: str) -> str:
    """The endpoint for logs and health: scheme, host, port and path; never credentials or a query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


def _describe(exc: BaseException) -> str:
    """The error with the provider's own message (an SDK message never includes the API key)."""
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        inner = body.get("error", body) if isinstance(body, dict) else {}
        message = inner.get("message") if isinstance(inner, dict) else None
        return f"HTTP {exc.status_code}: {message or exc.message}"[:500]
    if isinstance(exc, openai.APIConnectionError) and exc.__cause__ is not None:
        return f"{type(exc).__name__}: {type(exc.__cause__).__name__}: {exc.__cause__}"[:500]
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__
