"""Escalation by meaning, with the real embedder: phrasings the keyword rules do not list are handed
over, ordinary questions about the same subjects (account, card, charges, people) are not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.knowledge.embeddings import Embedder
from app.tools.escalation_intents import EscalationIntents
from app.tools.escalation_rules import detect_escalation
from tests.conftest import make_settings, running_app

UNLISTED = {
    "Could one of your coworkers deal with this rather than the automated thing?": "customer_request",
    "My tolerance for this company is gone, this has been a miserable ordeal.": "frustration",
    "A person I have never met has been buying things with my login.": "account_security",
    "I will be taking this matter up with my legal representative.": "legal_or_safety",
}
ORDINARY = [
    "How do I update the billing address on my account?",
    "Can I use a credit card from another country?",
    "Why was my card charged before the parcel shipped?",
    "Is there a number I can ring to place an order by phone?",
    "Great, that fixed it, thank you!",
    "Are the headlamps waterproof?",
]


# Follow-ups too short to carry an intent: a sentence embedding of three words lands anywhere.
FRAGMENTS = ["And my plan?", "One more?", "ok", "And now?", "What about my plan"]


@pytest.mark.parametrize("text", FRAGMENTS)
def test_short_follow_ups_are_not_judged_by_meaning(intents: EscalationIntents, text: str) -> None:
    assert intents.detect_sync(text) is None


@pytest.fixture(scope="module")
def intents(embedder: Embedder) -> EscalationIntents:
    return EscalationIntents(embedder)


def test_the_fixtures_are_beyond_the_keyword_rules() -> None:
    assert [t for t in UNLISTED if detect_escalation(t)] == []


@pytest.mark.parametrize(("text", "reason"), list(UNLISTED.items()))
def test_unlisted_phrasings_are_handed_over_for_their_reason(intents: EscalationIntents, text: str,
                                                             reason: str) -> None:
    decision = intents.detect_sync(text)
    assert decision is not None, intents.score_many([text])
    assert decision.reason == reason and decision.signals == ("intent_similarity",)
    assert decision.priority == ("high" if reason in ("account_security", "legal_or_safety") else "normal")


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_questions_on_the_same_subjects_are_answered(intents: EscalationIntents, text: str) -> None:
    assert intents.detect_sync(text) is None, intents.score_many([text])


def test_one_angry_sentence_in_a_long_message_is_not_averaged_away(intents: EscalationIntents) -> None:
    text = ("I ordered a tent and a stove in May and paid for express delivery. The tent came but the stove "
            "did not. My tolerance for this company is gone, this has been a miserable ordeal.")
    decision = intents.detect_sync(text)
    assert decision is not None and decision.reason == "frustration"


def test_a_question_about_how_to_reach_people_is_not_a_request(intents: EscalationIntents) -> None:
    assert intents.detect_sync("How can I get hold of someone on your team about a bulk order?") is None


async def test_concurrent_messages_share_one_batch_and_keep_their_own_verdict(intents: EscalationIntents) -> None:
    texts = list(UNLISTED) + ORDINARY
    verdicts = await asyncio.gather(*(intents.detect(t) for t in texts))
    assert [v.reason if v else None for v in verdicts] == list(UNLISTED.values()) + [None] * len(ORDINARY)
    await intents.aclose()


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_rest_path_hands_over_on_meaning_unless_turned_off(data_dir: Path, enabled: bool) -> None:
    async with running_app(make_settings(data_dir, escalation_intents=enabled)) as (_, client):
        session = (await client.post("/chat/sessions", json={"user_id": "u-intents"})).json()
        headers = {"Authorization": f"Bearer {session['session_token']}"}
        url = f"/chat/sessions/{session['session_id']}/messages"
        ordinary = (await client.post(url, data={"message": "How do I update the billing address on my account?"},
                                      headers=headers)).json()
        assert ordinary["requires_escalation"] is False and ordinary["escalation"] is None
        assert ordinary["sources"], ordinary  # answered from the help center
        body = (await client.post(url, data={"message": "Could one of your coworkers deal with this rather than "
                                                        "the automated thing?"}, headers=headers)).json()
        assert body["requires_escalation"] is enabled
        if enabled:
            assert body["escalation"]["reason"] == "customer_request"
            assert body["escalation"]["ticket_id"] in body["message"]
            # The answer drafted while the check ran is discarded: no help-center passage, no search recorded.
            assert body["sources"] == [] and body["grounded"] is False
            history = (await client.get(f"/chat/sessions/{session['session_id']}/history", headers=headers)).json()
            reply = [m for m in history["messages"] if m["role"] == "assistant"][-1]
            assert reply["id"] == body["message_id"] and reply["sources"] == []
