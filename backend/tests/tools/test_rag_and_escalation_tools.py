import json

from app.config import REPO_ROOT
from app.knowledge.search import KnowledgeBase, Retrieval
from app.tools.base_tool import ToolContext
from app.tools.escalation_rules import detect_escalation
from app.tools.escalation_tool import EscalationTicket, EscalationTool
from app.tools.rag_tool import RagSearchTool

CTX = ToolContext(user_text="I want to talk to a person")


async def test_rag_search_finds_the_article_and_declines_what_it_does_not_cover(knowledge: KnowledgeBase) -> None:
    tool = RagSearchTool(knowledge, top_k=3)
    found = await tool.run(CTX, query="How long do I have to return an item?")
    assert found.success and isinstance(found.data, Retrieval)
    assert found.data.answerable
    assert found.data.hits[0].as_source()["metadata"]["source"] == "returns-policy.md"
    off_topic = await tool.run(CTX, query="What is the capital of Mongolia?")
    assert off_topic.success and not off_topic.data.answerable


async def test_escalation_tool_opens_a_ticket_with_reason_priority_and_summary() -> None:
    result = await EscalationTool().run(CTX, reason="account_security", summary="Customer reports a hacked account")
    ticket = result.data
    assert isinstance(ticket, EscalationTicket)
    assert ticket.priority == "high"  # security defaults to high
    assert ticket.ticket_id.startswith("ESC-") and len(ticket.ticket_id) == 12
    assert ticket.as_dict()["summary"] == "Customer reports a hacked account"


def test_escalation_rules_cover_each_reason_and_leave_ordinary_questions_alone() -> None:
    expected = {
        "Can I speak with a human?": "customer_request",
        "Someone logged into my account from another country": "account_security",
        "If this isn't fixed I'm contacting my lawyer": "legal_or_safety",
        "This is ridiculous, third time I'm asking!!!": "frustration",
    }
    for text, reason in expected.items():
        decision = detect_escalation(text)
        assert decision is not None and decision.reason == reason, text
    for text in ("How do I reset my password?", "Does a human check my return when it arrives?",
                 "I'm a bit annoyed my parcel is late, when will it arrive?"):
        assert detect_escalation(text) is None, text


def test_shipped_escalation_set_meets_the_goal() -> None:
    rows = [json.loads(line) for line in (REPO_ROOT / "docs/eval/escalation.jsonl").read_text().splitlines()]
    assert len(rows) >= 100
    predicted = [(detect_escalation(r["text"]) is not None, r["escalate"]) for r in rows]
    tp = sum(p and e for p, e in predicted)
    precision = tp / max(1, sum(p for p, _ in predicted))
    recall = tp / max(1, sum(e for _, e in predicted))
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
