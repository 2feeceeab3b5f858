"""Escalation by meaning: a message's similarity to described intents, next to the rules' keywords.

`escalation_rules` catches the phrasings it lists; a customer who says the same thing in other
words ("can someone from your side take this over?") slips past it. Here each reason to hand over
is described by a few short, generic sentences saying what it means, and a message is compared with
them in the app's own sentence embedding (the model the knowledge base uses, through a MicroBatcher
so concurrent turns share one encode). Precision comes from the other side: ordinary support
questions (about accounts, cards, orders, payments, contacting support, thanks) are described as
well, and an intent fires only when the message is clearly closer to it than to any of them.

A message is judged whole and sentence by sentence (a long message's one angry sentence is not
averaged away). The descriptions were written from what each intent means, not from any evaluation
set; `scripts/eval_escalation.py` measures rules and meaning together.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.knowledge.batching import MicroBatcher
from app.knowledge.embeddings import Embedder
from app.tools.escalation_rules import _CONTACT_QUESTION, EscalationDecision, detect_escalation

log = logging.getLogger("app.tools")

# What each reason to hand over means, said plainly in the customer's voice.
INTENTS: dict[str, tuple[str, ...]] = {
    "customer_request": (
        "I would like a person to help me instead of this chatbot.",
        "Please pass this conversation on to someone on your team.",
        "Can a member of staff take over this chat?",
        "I'd rather deal with a human being than an automated assistant.",
        "Let me speak to somebody who works there.",
        "Have someone get in touch with me about this.",
    ),
    "frustration": (
        "I am very angry about how I have been treated.",
        "This is the worst experience I have had with any company.",
        "I've had enough, nothing you say is helping and I'm losing my patience.",
        "I keep asking the same thing and getting nowhere, this is infuriating.",
        "You people have let me down completely and I am fuming.",
        "I'm extremely unhappy and fed up with this whole situation.",
    ),
    "account_security": (
        "Someone else has got into my account without my permission.",
        "There are charges on my card that I did not make.",
        "I think my login details have been stolen.",
        "My account settings were changed by somebody who is not me.",
        "I received a suspicious message pretending to be from you asking for my password.",
        "A payment I never agreed to has been taken from my account.",
    ),
    "legal_or_safety": (
        "I am going to take legal action against your company.",
        "My solicitor will be contacting you about this.",
        "I will report your business to the regulator.",
        "The product you sold me injured me.",
        "Your item was dangerous and hurt my child.",
        "I intend to take this matter to court.",
    ),
}

# Ordinary support messages: the neighbours an intent must stand clear of.
ORDINARY: tuple[str, ...] = (
    "I moved to a new email provider, where do I update it on my profile?",
    "I can't remember my password, what now?",
    "How do I update the card I pay with?",
    "Can I pay with a bank transfer or only by card?",
    "Has my order been sent yet?",
    "When will my package arrive?",
    "I'd like to send something back.",
    "Can I get a refund for something I bought?",
    "What are your opening hours for phone support?",
    "How can I contact customer service?",
    "What is the phone number for your support team?",
    "Do you deliver abroad?",
    "How much does delivery cost?",
    "Is this product in stock?",
    "Can I change the size of an item I ordered?",
    "How do I close my account?",
    "What is the annual fee on this card?",
    "What interest rate does the savings account pay?",
    "Can I get login codes sent to my phone for extra safety?",
    "What should I do if I forget my login?",
    "Thanks, that answered my question.",
    "That's great, thank you for your help.",
    "I'm happy with my purchase, just a quick question.",
    "Do your staff check returned items before refunding?",
    "How long is the guarantee on your products?",
    "How do I cancel my subscription?",
    # Each intent's subject asked about in the ordinary way: a question about charges, data, safety or
    # people is not a report of fraud, a legal threat or a request for one.
    "Why is there a pending charge on my card?",
    "What is this charge on my statement for?",
    "How do you keep my payment details safe?",
    "Can I see the personal data you hold about me?",
    "What are your terms and conditions?",
    "Is this product safe for children to use?",
    "The item arrived damaged, what should I do?",
    "Can I phone you instead of using the chat?",
    "Do you have a shop where I can talk to staff?",
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_SEGMENTS = 4  # the whole message and up to this many of its sentences


@dataclass(frozen=True)
class IntentScores:
    reason: str
    similarity: float  # to the closest description of `reason`
    ordinary: float  # to the closest ordinary question

    @property
    def margin(self) -> float:
        return self.similarity - self.ordinary


PRIORITY = {"customer_request": "normal", "frustration": "normal", "account_security": "high",
            "legal_or_safety": "high"}


class EscalationIntents:
    """Similarity of customer messages to the described intents, in the app's embedding."""

    def __init__(self, embedder: Embedder, *, threshold: float = 0.30, margin: float = 0.10,
                 max_batch: int = 32, encode: Callable[[Sequence[str]], Awaitable[np.ndarray]] | None = None) -> None:
        self.embedder = embedder
        # The app passes KnowledgeBase.aencode: the message is encoded in the searches' batch (one model
        # call, one thread) and the search for it then finds its vector. Without it, a batcher of its own.
        self._encode = encode
        self.threshold = threshold
        self.margin = margin
        self._reasons: list[str] = []
        self._intents: np.ndarray | None = None
        self._ordinary: np.ndarray | None = None
        self._batcher: MicroBatcher[str, IntentScores | None] = MicroBatcher(
            self.score_many, max_batch=max_batch, name="escalation")

    def prepare(self) -> None:
        """Encode the descriptions (once; blocking)."""
        if self._intents is not None:
            return
        reasons, texts = zip(*[(r, t) for r, ts in INTENTS.items() for t in ts], strict=True)
        self._reasons = list(reasons)
        self._intents = self.embedder.encode_array(list(texts))
        self._ordinary = self.embedder.encode_array(list(ORDINARY))

    def score_many(self, texts: Sequence[str]) -> list[IntentScores | None]:
        """The closest intent of each message (whole or by sentence), or None for an empty one. Blocking."""
        self.prepare()
        assert self._intents is not None and self._ordinary is not None
        segments: list[list[str]] = [_segments(t) for t in texts]
        flat = [s for segs in segments for s in segs]
        if not flat:
            return [None for _ in texts]
        return self._scores(segments, self.embedder.encode_array(flat, remember=True))

    def _scores(self, segments: list[list[str]], vectors: np.ndarray) -> list[IntentScores | None]:
        assert self._intents is not None and self._ordinary is not None
        to_intents = vectors @ self._intents.T
        to_ordinary = (vectors @ self._ordinary.T).max(axis=1)
        results: list[IntentScores | None] = []
        row = 0
        for segs in segments:
            if not segs:
                results.append(None)
                continue
            best: IntentScores | None = None
            for i in range(row, row + len(segs)):
                j = int(to_intents[i].argmax())
                candidate = IntentScores(self._reasons[j], float(to_intents[i, j]), float(to_ordinary[i]))
                if best is None or _rank(candidate, self) > _rank(best, self):
                    best = candidate
            row += len(segs)
            results.append(best)
        return results

    def decide(self, text: str, scores: IntentScores | None) -> EscalationDecision | None:
        if scores is None or scores.similarity < self.threshold or scores.margin < self.margin:
            return None
        if scores.reason == "customer_request" and _CONTACT_QUESTION.search(text):
            return None  # "how can I reach someone about X?" asks for a contact route: the help center answers
        return EscalationDecision(scores.reason, PRIORITY[scores.reason], ("intent_similarity",))

    def detect_sync(self, text: str) -> EscalationDecision | None:
        """Rules first, then meaning. Blocking (scripts)."""
        return detect_escalation(text) or self.decide(text, self.score_many([text])[0])

    async def detect(self, text: str) -> EscalationDecision | None:
        """Rules first, then meaning (the encode is batched with concurrent turns' messages)."""
        decision = detect_escalation(text)
        if decision is not None:
            return decision
        if self._encode is None:
            return self.decide(text, await self._batcher.submit(text))
        segments = _segments(text)
        if not segments:
            return None
        self.prepare()
        return self.decide(text, self._scores([segments], await self._encode(segments))[0])

    async def aclose(self) -> None:
        await self._batcher.aclose()


MIN_WORDS = 4  # a shorter message ("And my plan?") has no meaning to judge beyond the rules' keywords


def _segments(text: str) -> list[str]:
    text = text.strip()
    if len(text.split()) < MIN_WORDS:
        return []
    sentences = [s.strip() for s in _SENTENCE.split(text) if len(s.strip().split()) >= 3]
    return [text] + (sentences[:MAX_SEGMENTS] if len(sentences) > 1 else [])


def _rank(scores: IntentScores, model: EscalationIntents) -> tuple[bool, float]:
    """Segments that pass both bars first, then by margin."""
    passes = scores.similarity >= model.threshold and scores.margin >= model.margin
    return passes, scores.margin
