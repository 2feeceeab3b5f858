"""The built-in responder drafts its answer while the escalation check runs, and the verdict decides.

The check's verdict is held by a gate here (a stand-in for the meaning classifier, whose own tests are
in tests/tools): the test releases it only once the draft has searched the help center, so the draft
provably ran before the verdict, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.observability import metrics
from app.tools.escalation_rules import EscalationDecision
from tests.conftest import make_settings, running_app


def searches() -> float:
    return sum(s.value for m in metrics.RAG_QUERIES.collect() for s in m.samples if s.name.endswith("_total"))


class GatedVerdict:
    def __init__(self, decision: EscalationDecision | None) -> None:
        self.decision, self.asked, self.release = decision, asyncio.Event(), asyncio.Event()

    async def detect(self, _text: str) -> EscalationDecision | None:
        self.asked.set()
        await self.release.wait()
        return self.decision

    async def aclose(self) -> None:
        return None


async def _turn(data_dir: Path, decision: EscalationDecision | None) -> dict:
    async with running_app(make_settings(data_dir)) as (app, client):
        gate = GatedVerdict(decision)
        app.state.services.chat.agent.intents = gate
        created = (await client.post("/chat/sessions", json={})).json()
        headers = {"Authorization": f"Bearer {created['session_token']}"}
        before = searches()
        sending = asyncio.ensure_future(client.post(f"/chat/sessions/{created['session_id']}/messages",
                                                    json={"message": "How long do I have to return an item?"},
                                                    headers=headers))
        await asyncio.wait_for(gate.asked.wait(), 60)
        for _ in range(600):  # the draft's search, while the verdict is still held
            if searches() > before:
                break
            await asyncio.sleep(0.05)
        assert searches() > before, "the answer was not drafted while the check ran"
        assert not sending.done()  # nothing is said before the verdict
        gate.release.set()
        response = await asyncio.wait_for(sending, 60)
        assert response.status_code == 200, response.text
        return response.json()


async def test_the_drafted_answer_is_delivered_when_the_check_finds_nothing(data_dir: Path) -> None:
    body = await _turn(data_dir, None)
    assert body["requires_escalation"] is False and body["grounded"] is True
    assert body["sources"][0]["metadata"]["source"] == "returns-policy.md"


async def test_the_drafted_answer_is_discarded_when_the_check_hands_over(data_dir: Path) -> None:
    body = await _turn(data_dir, EscalationDecision("customer_request", "normal", ("intent_similarity",)))
    assert body["requires_escalation"] is True and body["escalation"]["reason"] == "customer_request"
    assert body["sources"] == [] and body["grounded"] is False
    assert "30 days" not in body["message"]  # nothing of the returns article leaks into the hand-over
