"""The OpenAI path with the real SDK against a real OpenAI-compatible HTTP server (tests/agents/openai_server.py)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.agents.chat_agent import CustomerSupportAgent
from app.agents.events import AgentEvent, Degraded, EscalationRaised, SourcesFound, TextDelta, ToolStatus, TurnComplete
from app.agents.providers.openai import OpenAIProvider
from app.agents.turn import TurnInput
from app.knowledge.search import KnowledgeBase
from app.tools.escalation_tool import EscalationTool
from app.tools.rag_tool import RagSearchTool
from app.tools.registry import ToolRegistry
from tests.agents.openai_server import FakeOpenAI, Step
from tests.conftest import make_settings


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def make_agent(knowledge: KnowledgeBase, server: FakeOpenAI, tmp_path: Path, **overrides: Any) -> CustomerSupportAgent:
    values: dict[str, Any] = {"llm_provider": "openai", "openai_base_url": server.url, "openai_api_key": "test",
                              "openai_max_retries": 0, "openai_timeout_seconds": 5}
    values.update(overrides)
    settings = make_settings(tmp_path, **values)
    registry = ToolRegistry([RagSearchTool(knowledge), EscalationTool()])
    return CustomerSupportAgent(registry, OpenAIProvider(settings))


async def run(agent: CustomerSupportAgent, text: str) -> list[AgentEvent]:
    return [event async for event in agent.stream(TurnInput(text=text))]


def reply_of(events: list[AgentEvent]) -> Any:
    assert isinstance(events[-1], TurnComplete)
    return events[-1].reply


async def test_text_is_streamed_as_it_arrives(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path)
    server.script = [Step(text="Our returns window is thirty days from delivery.")]
    events = await run(agent, "How long do returns take?")
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 3  # forwarded chunk by chunk, not buffered
    reply = reply_of(events)
    assert "".join(deltas).strip() == reply.message == "Our returns window is thirty days from delivery."
    assert reply.degraded is False and reply.provider == "openai"
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["messages"][0]["role"] == "system"
    await agent.close()


async def test_tool_call_loop_feeds_results_back_as_delimited_data(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path)
    server.script = [Step(tool_calls=[("rag_search", {"query": "reset my password"})]),
                     Step(text="Use Forgot password? on the sign-in page [1].")]
    events = await run(agent, "I forgot my password")
    reply = reply_of(events)
    assert reply.sources and reply.sources[0]["metadata"]["source"] == "account-password-reset.md"
    assert any(isinstance(e, SourcesFound) for e in events)
    assert [(e.name, e.status) for e in events if isinstance(e, ToolStatus)] == [("rag_search", "started"),
                                                                               ("rag_search", "ok")]
    tool_message = server.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_0"
    assert '<document index="1" source="account-password-reset.md"' in tool_message["content"]
    assert {t["function"]["name"] for t in server.requests[0]["tools"]} == {"rag_search", "escalation"}
    await agent.close()


async def test_an_invalid_tool_call_goes_back_to_the_model_as_an_error(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path)
    server.script = [Step(tool_calls=[("rag_search", '{"k": "three"')]),
                     Step(tool_calls=[("rag_search", {"k": 2})]),
                     Step(tool_calls=[("no_such_tool", {})]),
                     Step(text="Sorry, I could not search just now.")]
    reply = reply_of(await run(agent, "How do I return boots?"))
    errors = [r["messages"][-1]["content"] for r in server.requests[1:]]
    assert "not valid JSON" in errors[0]
    assert "'query' is a required property" in errors[1]
    assert "unknown tool" in errors[2]
    assert reply.message == "Sorry, I could not search just now."
    await agent.close()


async def test_tool_rounds_are_bounded_and_the_last_round_has_no_tools(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path, llm_max_tool_steps=2)
    server.script = [Step(tool_calls=[("rag_search", {"query": "returns"})]), Step(text="Thirty days [1].")]
    reply = reply_of(await run(agent, "returns?"))
    assert len(server.requests) == 2 and "tools" not in server.requests[1]
    assert reply.message == "Thirty days [1]."
    await agent.close()


async def test_model_can_escalate_through_the_tool(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path)
    server.script = [Step(tool_calls=[("escalation", {"reason": "other", "summary": "Wants a custom quote"})]),
                     Step(text="A colleague will contact you.")]
    events = await run(agent, "Can you make me a custom tent for an expedition?")
    reply = reply_of(events)
    assert reply.requires_escalation and reply.escalation["summary"] == "Wants a custom quote"
    raised = [e for e in events if isinstance(e, EscalationRaised)]
    assert raised and raised[0].ticket_id == reply.escalation["ticket_id"]
    assert reply.escalation["ticket_id"] in server.requests[1]["messages"][-1]["content"]
    await agent.close()


async def test_server_errors_are_retried(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path, openai_max_retries=2)
    server.script = [Step(status=500), Step(status=503), Step(text="Fine now.")]
    reply = reply_of(await run(agent, "hello there, anyone?"))
    assert reply.message == "Fine now." and reply.degraded is False
    assert len(server.requests) == 3
    await agent.close()


async def test_timeouts_fail_over_to_the_local_responder(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path, openai_timeout_seconds=0.3)
    server.script = [Step(delay=1, text="too late")]
    events = await run(agent, "How long do I have to return an item?")
    reply = reply_of(events)
    assert reply.degraded is True and reply.provider == "local"
    assert any(isinstance(e, Degraded) for e in events)
    assert reply.sources[0]["metadata"]["source"] == "returns-policy.md"
    await agent.close()


async def test_a_stream_that_breaks_midway_is_replaced_not_mixed(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path)
    server.script = [Step(text="Partial answer that will never finish properly", break_after=3)]
    events = await run(agent, "How long do I have to return an item?")
    reply = reply_of(events)
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Degraded") > kinds.index("TextDelta")  # text had started before the failure
    assert reply.degraded is True and "Partial answer" not in reply.message
    assert "30 days" in reply.message
    await agent.close()


async def test_breaker_opens_and_later_turns_skip_the_endpoint(knowledge, server, tmp_path) -> None:
    agent = make_agent(knowledge, server, tmp_path, llm_breaker_fail_max=2, llm_breaker_reset_seconds=60)
    server.script = [Step(status=500), Step(status=500), Step(text="never requested")]
    for _ in range(2):
        assert reply_of(await run(agent, "Do you ship to Canada?")).degraded is True
    assert len(server.requests) == 2
    events = await run(agent, "Do you ship to Canada?")
    reply = reply_of(events)
    assert reply.degraded is True and reply.sources
    assert len(server.requests) == 2  # the open breaker answered locally without calling the endpoint
    assert "circuit breaker open" in next(e.reason for e in events if isinstance(e, Degraded))
    await agent.close()
