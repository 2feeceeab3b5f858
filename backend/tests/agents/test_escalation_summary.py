"""The summary handed to the escalation tool always fits the tool's own schema."""

from app.agents.chat_agent import SUMMARY_CHARS, _summary
from app.agents.turn import HistoryItem, Turn, TurnInput
from app.tools.escalation_tool import EscalationTool
from app.tools.memory_tool import MemorySnapshot


def test_a_long_conversation_still_gives_a_summary_the_tool_accepts() -> None:
    story = "My order arrived late and the box was crushed. " * 60
    turn = Turn(input=TurnInput(text=story + " I want a human.",
                                history=tuple(HistoryItem("user", story) for _ in range(3))),
                registry=None,  # type: ignore[arg-type]  # _summary reads only the input and memory
                memory=MemorySnapshot(facts={"order_number": "TH-12345", "email": "a@example.com"}))
    summary = _summary(turn)
    assert summary.startswith("Customer wrote: My order arrived late")
    assert len(summary) <= SUMMARY_CHARS == EscalationTool.parameters["properties"]["summary"]["maxLength"]
