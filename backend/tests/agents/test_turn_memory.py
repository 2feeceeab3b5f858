"""Memory on the turn's path: read with the stored message, the running summary written beside the answer.

The summary's write is held by a gate (a stand-in for a slow database): the reply cannot be returned
before the write is done, and a turn left early cancels it and waits for it, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.agents import chat_agent
from app.agents.events import TurnComplete
from app.agents.turn import HistoryItem, TurnInput
from app.db.models import Message
from app.tools.base_tool import ToolContext
from app.tools.memory_tool import MemorySnapshot, MemoryTool
from tests.agents.test_drafted_answer import searches
from tests.conftest import make_settings, running_app

# Old turns that no longer fit a 100-token history budget: the turn writes a new running summary.
LONG_HISTORY = tuple(HistoryItem(role, f"{role} message number {i} about returns, parcels and delivery times.")
                     for i in range(12) for role in ("user", "assistant"))


class GatedSummary:
    """The memory tool's save_summary, held until released; records whether it was cancelled."""

    def __init__(self, memory: MemoryTool) -> None:
        self.save, self.started, self.release = memory.save_summary, asyncio.Event(), asyncio.Event()
        self.cancelled = asyncio.Event()
        self.saved: list[str] = []

    async def __call__(self, context: ToolContext, summary: str) -> None:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        await self.save(context, summary)
        self.saved.append(summary)


def _gate(app: Any, monkeypatch: pytest.MonkeyPatch) -> GatedSummary:
    memory = app.state.services.chat.agent.registry.get("memory")
    assert isinstance(memory, MemoryTool)
    gate = GatedSummary(memory)
    monkeypatch.setattr(memory, "save_summary", gate)
    return gate


async def test_the_reply_waits_for_the_summary_written_beside_it(data_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_app(make_settings(data_dir, history_token_budget=100)) as (app, client):
        created = (await client.post("/chat/sessions", json={})).json()
        url, headers = f"/chat/sessions/{created['session_id']}/messages", {
            "Authorization": f"Bearer {created['session_token']}"}
        for question in ("Do you ship to Canada?", "How much is next day delivery?", "Can I change my address?"):
            assert (await client.post(url, json={"message": question}, headers=headers)).status_code == 200
        gate = _gate(app, monkeypatch)
        sending = asyncio.ensure_future(client.post(url, json={"message": "How long do I have to return an item?"},
                                                    headers=headers))
        await asyncio.wait_for(gate.started.wait(), 60)
        await asyncio.sleep(0.5)  # time enough for the answer itself (it does not wait for the write)
        assert not sending.done(), "the reply was returned before the summary was written"
        gate.release.set()
        response = await asyncio.wait_for(sending, 60)
        assert response.status_code == 200, response.text
        assert gate.saved and "- Customer: Do you ship to Canada?" in gate.saved[0]
        assert not gate.cancelled.is_set()


async def test_a_turn_left_early_cancels_its_summary_write_and_waits_for_it(data_dir: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_app(make_settings(data_dir, history_token_budget=100)) as (app, client):
        created = (await client.post("/chat/sessions", json={})).json()
        gate = _gate(app, monkeypatch)
        agent = app.state.services.chat.agent
        events = agent.stream(TurnInput(text="How long do I have to return an item?",
                                        session_id=uuid.UUID(created["session_id"]), history=LONG_HISTORY,
                                        memory=MemorySnapshot()))
        first = await asyncio.wait_for(anext(events), 60)  # the answer streams while the write is held
        assert not isinstance(first, TurnComplete) and gate.started.is_set()
        await events.aclose()  # the customer left (a socket closed mid-answer)
        assert gate.cancelled.is_set(), "aclose() returned with the summary write still running"
        assert not gate.saved


async def test_a_verdict_of_the_rules_starts_no_drafted_answer(app_client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request for a person is settled by the keyword rules at once: no answer is drafted only to be
    thrown away (an ordinary question still is)."""
    _, client = app_client
    drafts: list[str] = []

    class CountedDraft(chat_agent._Draft):
        def __init__(self, turn: Any, generate: Any) -> None:
            drafts.append(turn.input.text)
            super().__init__(turn, generate)

    monkeypatch.setattr(chat_agent, "_Draft", CountedDraft)
    created = (await client.post("/chat/sessions", json={})).json()
    url, headers = (f"/chat/sessions/{created['session_id']}/messages",
                    {"Authorization": f"Bearer {created['session_token']}"})
    asked = await client.post(url, json={"message": "How long do I have to return an item?"}, headers=headers)
    assert asked.status_code == 200 and drafts == ["How long do I have to return an item?"]
    before = searches()
    response = await client.post(url, json={"message": "I want to speak to a human please"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["requires_escalation"] is True
    assert drafts == ["How long do I have to return an item?"] and searches() == before


async def test_a_failing_memory_read_loses_neither_the_message_nor_the_answer(
        app_client, caplog: pytest.LogCaptureFixture) -> None:
    """The memory read rides in the message's transaction; when it fails the message is stored again
    without it, and the answer comes (memory is a help, not a requirement)."""
    app, client = app_client
    async with app.state.services.db.transaction() as db:
        await db.execute(text("ALTER TABLE memories RENAME TO memories_gone"))
    created = (await client.post("/chat/sessions", json={})).json()
    with caplog.at_level(logging.WARNING):
        response = await client.post(f"/chat/sessions/{created['session_id']}/messages",
                                     json={"message": "How long do I have to return an item?"},
                                     headers={"Authorization": f"Bearer {created['session_token']}"})
    assert response.status_code == 200, response.text
    assert "30 days" in response.json()["message"]
    assert any(r.getMessage() == "chat.memory.preload_failed" for r in caplog.records)
    async with app.state.services.db.sessionmaker() as db:
        stored = await db.scalar(select(func.count()).select_from(Message).where(
            Message.session_id == uuid.UUID(created["session_id"])))
    assert stored == 2  # the question (once) and its reply
