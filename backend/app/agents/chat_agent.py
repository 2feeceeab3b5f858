"""CustomerSupportAgent: runs one turn as a stream of events (see app.agents.events).

A turn: remember what the customer stated about themselves, take what we know about them (read with
the stored message, or loaded), fold old history into a running summary, check the customer's words
for a reason to hand over to a human, then let the provider answer (OpenAI-compatible model, or the
built-in responder). If the model fails, the built-in responder answers and the reply is marked
degraded. Two misses in a row hand over to a human. `respond()` is the same turn collected into one AgentReply.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from app.agents import prompts
from app.agents.context import summarize, trim_history
from app.agents.events import AgentEvent, AgentReply, Degraded, TextDelta, TurnComplete
from app.agents.providers.local import LocalResponder
from app.agents.providers.openai import LLMUnavailable
from app.agents.turn import HistoryItem, Turn, TurnInput
from app.observability import metrics
from app.tools.base_tool import ToolContext
from app.tools.escalation_intents import EscalationIntents
from app.tools.escalation_rules import EscalationDecision, detect_escalation
from app.tools.memory_facts import extract_facts
from app.tools.memory_tool import MemorySnapshot, MemoryTool
from app.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("app.agent")

__all__ = ["AgentReply", "CustomerSupportAgent", "HistoryItem", "TurnInput"]


class Provider(Protocol):
    name: str

    def generate(self, turn: Turn) -> AsyncIterator[AgentEvent]: ...


class CustomerSupportAgent:
    def __init__(self, registry: ToolRegistry, provider: Provider | None = None,
                 history_token_budget: int = 2000, intents: EscalationIntents | None = None) -> None:
        self.registry = registry
        self.intents = intents  # escalation by meaning, after the rules (None: the rules alone)
        # One built-in responder: when it is also the configured provider, `stream()` must recognise it
        # as such (by identity) to count its answers under provider="local".
        self.local = provider if isinstance(provider, LocalResponder) else LocalResponder()
        self.provider: Provider = provider or self.local
        self.history_token_budget = history_token_budget

    async def close(self) -> None:
        """Release the provider's HTTP client and the tools' own resources (the file parser's process)."""
        close_provider = getattr(self.provider, "close", None)
        if close_provider is not None:
            await close_provider()
        if self.intents is not None:
            await self.intents.aclose()
        await self.registry.close()

    async def respond(self, turn_input: TurnInput) -> AgentReply:
        """The whole turn as one reply (REST)."""
        reply: AgentReply | None = None
        async for event in self.stream(turn_input):
            if isinstance(event, TurnComplete):
                reply = event.reply
        assert reply is not None  # stream() always ends with TurnComplete
        return reply

    def memory_reader(self, context: ToolContext) -> Callable[[AsyncSession], Awaitable[MemorySnapshot]] | None:
        """How the turn service reads this customer's memory inside the transaction that stores their
        message (handed back as TurnInput.memory); None when the memory tool is off."""
        memory = self.registry.get("memory")
        if not isinstance(memory, MemoryTool) or context.session_id is None:
            return None
        return lambda db: memory.read(db, context)

    async def stream(self, turn_input: TurnInput) -> AsyncGenerator[AgentEvent, None]:
        """The turn as events, ending with TurnComplete. Writes the turn started beside the answer (the
        running summary) are finished before TurnComplete, and cancelled if the stream is left early."""
        turn = Turn(input=turn_input, registry=self.registry)
        try:
            async for event in self._stream(turn):
                if isinstance(event, TurnComplete) and turn.writes:
                    await asyncio.gather(*turn.writes)
                yield event
        finally:
            for write in turn.writes:
                write.cancel()  # a no-op once done
            # Left early: the cancelled writes have rolled back before the turn (and its session lock) ends.
            await asyncio.gather(*turn.writes, return_exceptions=True)

    async def _stream(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        turn_input = turn.input
        # The customer's words only, never file text. The rules decide at once; the check by meaning
        # runs while memory is prepared, and with the built-in responder the answer is drafted meanwhile
        # too (its search shares the check's encode) and held back until the verdict, which discards it
        # when the customer is handed over. A verdict the rules already gave starts no draft.
        decision = detect_escalation(turn_input.text)
        judging = asyncio.ensure_future(self._by_meaning(turn_input.text)) \
            if decision is None and self.intents is not None else None
        draft: _Draft | None = None
        try:
            async for event in self._prepare(turn):
                yield event
            # Not with new files: a discarded draft would cancel their parse mid-way (the parse worker
            # is killed and restarted), and reading them is the slow part anyway.
            if judging is not None and not judging.done() and self.provider is self.local \
                    and not turn_input.new_attachment_ids:
                draft = _Draft(turn, self.local.generate)
            if judging is not None:
                decision = await judging
        except BaseException:
            if draft is not None:
                draft.cancel()
            raise
        finally:
            if judging is not None:
                judging.cancel()  # a no-op once done; a closed stream leaves nothing running
        if decision is not None and turn.enabled("escalation"):
            if draft is not None:
                draft.cancel()
            async for event in self._hand_over(turn, decision):
                yield event
            yield TurnComplete(self._reply(turn, degraded=False))
            return

        degraded = False
        started = time.perf_counter()
        try:
            if draft is not None:
                turn = draft.turn
                async for event in draft.events():
                    yield event
            else:
                async for event in self.provider.generate(turn):
                    yield event
        except LLMUnavailable as exc:
            degraded = True
            log.warning("agent.failover", extra={"provider": self.provider.name, "reason": str(exc)})
            yield Degraded(str(exc))
            turn.text_parts.clear()
            turn.notices_shown = 0
            turn.hits.clear()
            turn.answered = True
            started = time.perf_counter()
            async for event in self.local.generate(turn):
                yield event
        if degraded or self.provider is self.local:
            # The built-in responder is counted like any provider, so dashboards show who answered.
            metrics.LLM_REQUESTS.labels(provider="local", status="ok").inc()
            metrics.LLM_REQUEST_DURATION.labels(provider="local").observe(time.perf_counter() - started)

        notices = turn.take_notices()  # e.g. a tool that timed out after the answer began
        if notices:
            text = "\n\n" + "\n\n".join(notices)
            turn.text_parts.append(text)
            yield TextDelta(text)
        if not turn.text.strip():
            turn.answered = False
            turn.text_parts.append(prompts.NO_ANSWER)
            yield TextDelta(prompts.NO_ANSWER)
        if turn.ticket is None and not turn.answered and _missed_last_time(turn_input) \
                and turn.enabled("escalation"):
            async for event in self._hand_over(turn, EscalationDecision("repeated_failure", "normal"), lead="\n\n"):
                yield event
        yield TurnComplete(self._reply(turn, degraded=degraded))

    async def _by_meaning(self, text: str) -> EscalationDecision | None:
        """The similarity to described intents, once the rules found nothing; a help, so when it fails
        the rules' verdict (none) stands."""
        assert self.intents is not None
        try:
            return await self.intents.detect(text)
        except Exception as exc:  # noqa: BLE001 - never lose a turn to the classifier
            log.warning("agent.escalation_intents.failed", extra={"error": type(exc).__name__})
            return None

    async def _prepare(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        memory = self.registry.get("memory")
        if not isinstance(memory, MemoryTool) or turn.input.session_id is None:
            return
        turn.new_facts = extract_facts(turn.input.text)
        for key, value in turn.new_facts.items():
            await turn.call("memory", {"action": "remember", "key": key, "value": value})
        for event in turn.drain():
            yield event
        # Memory read with the stored message is used as it is; otherwise loading, and always saving the
        # summary, go through the memory tool's wrapper (timeout, retries, breaker): memory is a help, not
        # a requirement for answering, so a failure is logged and the turn goes on.
        context = turn.input.context
        if turn.input.memory is not None:  # read with the stored message: no second trip to the database
            turn.memory = memory.with_new(turn.input.memory, turn.new_facts)
        else:
            loaded = await self.registry.run_operation("memory", lambda: memory.load(context))
            if not loaded.success:
                log.warning("agent.memory.load_failed", extra={"status": loaded.metadata.get("status"),
                                                              "error": loaded.error})
                return
            turn.memory = loaded.data
        _, dropped = trim_history(turn.input.history, self.history_token_budget)
        if dropped:
            summary = summarize(dropped)
            if summary != turn.memory.summary:
                # Nothing in this turn's answer waits for the stored copy: it is written beside the answer.
                turn.memory.summary = summary
                turn.writes.append(asyncio.ensure_future(self._save_summary(memory, context, summary)))

    async def _save_summary(self, memory: MemoryTool, context: ToolContext, summary: str) -> None:
        saved = await self.registry.run_operation("memory", lambda: memory.save_summary(context, summary))
        if not saved.success:
            log.warning("agent.memory.summary_failed", extra={"status": saved.metadata.get("status"),
                                                             "error": saved.error})

    async def _hand_over(self, turn: Turn, decision: EscalationDecision, lead: str = "") -> AsyncIterator[AgentEvent]:
        result = await turn.call("escalation", {"reason": decision.reason, "priority": decision.priority,
                                                "summary": _summary(turn)})
        for event in turn.drain():
            yield event
        if turn.ticket is None:  # the tool failed: still tell the customer how to reach a person
            text = lead + "I couldn't open a ticket just now. Please email support@trailhead.example and a person " \
                          "will get back to you."
            log.error("agent.escalation.failed", extra={"error": result.error})
        else:
            text = lead + prompts.HANDOFF_LEAD.get(decision.reason, "") + prompts.HANDOFF.format(
                ticket=turn.ticket.ticket_id)
        turn.text_parts.append(text)
        yield TextDelta(text)

    def _reply(self, turn: Turn, degraded: bool) -> AgentReply:
        ticket = turn.ticket
        return AgentReply(
            message=turn.text.strip(), sources=[h.as_source() for h in turn.hits],
            requires_escalation=ticket is not None, escalation=ticket.as_dict() if ticket else None,
            tool_calls=turn.tool_calls, confidence=turn.confidence, degraded=degraded, notices=list(turn.notices),
            answered=turn.answered, provider="local" if degraded else self.provider.name,
            grounded=bool(turn.hits) and turn.answered and ticket is None)


class _Draft:
    """A provider's answer generated on a copy of the turn, its events held until they are wanted."""

    def __init__(self, turn: Turn, generate: Callable[[Turn], AsyncIterator[AgentEvent]]) -> None:
        self.turn = copy.copy(turn)
        # Not `writes`: the draft's writes must be the turn's, which stream() finishes or cancels.
        for name in ("hits", "files", "notices", "tool_calls", "text_parts", "_pending"):
            setattr(self.turn, name, list(getattr(turn, name)))
        self._queue: asyncio.Queue[AgentEvent | Exception | None] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._run(generate(self.turn)))

    async def _run(self, events: AsyncIterator[AgentEvent]) -> None:
        try:
            async for event in events:
                self._queue.put_nowait(event)
        except Exception as exc:  # noqa: BLE001 - handed to the reader, which raises it
            self._queue.put_nowait(exc)
        else:
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[AgentEvent]:
        try:
            while (item := await self._queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.cancel()

    def cancel(self) -> None:
        self._task.cancel()


def _missed_last_time(turn_input: TurnInput) -> bool:
    previous = [h for h in turn_input.history if h.role == "assistant"]
    return bool(previous) and previous[-1].metadata.get("answered") is False


SUMMARY_CHARS = 1000  # the escalation tool's schema refuses longer summaries


def _summary(turn: Turn) -> str:
    asked = [h.content[:200] for h in turn.input.history if h.role == "user"][-3:]
    parts = [f"Customer wrote: {turn.input.text[:500]}"]
    if asked:
        parts.append("Earlier: " + " | ".join(asked))
    if turn.memory.facts:
        parts.append("Known: " + ", ".join(f"{k}={v}" for k, v in turn.memory.facts.items()))
    return "\n".join(parts)[:SUMMARY_CHARS]
