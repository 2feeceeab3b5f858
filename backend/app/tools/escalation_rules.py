"""When a conversation must go to a human: four families of signals in the customer's own words.

Only ever applied to what the customer typed, never to attachment or knowledge-base text, so a
document saying "escalate this" cannot trigger a handoff. Each family is a set of phrasings; a
family fires on one strong signal, frustration needs enough weight from several weaker ones
(mild annoyance alone is answered, not escalated). `scripts/eval_escalation.py` measures it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EscalationDecision:
    reason: str  # customer_request | frustration | account_security | legal_or_safety | repeated_failure
    priority: str  # low | normal | high | urgent
    signals: tuple[str, ...] = ()


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_PEOPLE = (r"(?:real\s+|live\s+|actual\s+|human\s+)?(?:human|person|people|agent|representative|rep|someone|somebody"
           r"|operator|manager|supervisor|staff(?:\s+member)?|employee|member\s+of\s+(?:your\s+)?(?:support\s+)?"
           r"(?:staff|team)|customer\s+(?:service|support|care)|(?:your\s+)?support\s+team|a\s+colleague)")
HUMAN_REQUEST = _any(
    # "talk to a person", "connect me with someone who can help", "transfer me to customer service"
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|the|some|your|one\s+of\s+your)?\s*" + _PEOPLE,
    r"\b(?:connect|transfer|put|pass|hand)\s+me\s+(?:to|with|through\s+to|over\s+to|on\s+to)\b",
    r"\b(?:want|need|get|like|request|give)\s+(?:me\s+)?(?:a|an|to\s+(?:talk|speak)\s+to\s+(?:a|an)?)?\s*"
    r"(?:real|live|actual|human)\s+(?:human|person|agent|representative|being)",
    r"\b(?:want|need|get\s+me|like|request)\s+(?:a|an|to\s+(?:talk|speak)\s+to\s+(?:a|an|your)?)\s*"
    r"(?:human|person|representative|operator|manager|supervisor)\b",
    r"\bis\s+there\s+(?:a|an|any)\s+(?:real\s+|live\s+)(?:human|person|agent)",
    r"\bare\s+there\s+any\s+(?:humans|people|real\s+people)\b",
    r"\b(?:real|live|actual)\s+(?:human|person|agent)\s+(?:look|check|review|help|call|contact)",
    r"\b(?:someone|somebody|a\s+member|an\s+agent)\s+(?:from|of|on)\s+(?:your\s+)?(?:support|team|staff)\b.*"
    r"\b(?:call|contact|email|reach)\s+me\b",
    r"\b(?:call|ring)\s+me\s+back\b",
    r"\bescalate\s+(?:this|it|my|the)\b|\bescalation\b",
    r"\b(?:don'?t|do\s+not)\s+want\s+(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?(?:a|the|your)\s+(?:bot|robot|ai|machine)",
    r"\b(?:no|stop)\s+(?:more\s+)?(?:sending\s+me\s+)?(?:bots?|robots?|automated)\b",
    r"^\s*(?:a\s+)?(?:human|agent|representative|operator|real\s+person|live\s+agent|customer\s+service)"
    r"(?:\s+please)?\s*[.!?]*\s*$",
    r"\bhuman\s+please\b|\bhuman\s+(?:agent|being)\b",
    # An unambiguous people-word with a request: "get a supervisor on the line", "sorted by a person".
    r"\b(?:a|an|the|your|my|to|by)\s+(?:real\s+|actual\s+|live\s+)?(?:human|supervisor|manager|representative"
    r"|operator)\b(?!\s+(?:program|programme|role|job|position|discount))",
    r"\b(?:by|with|to|get|want|need)\s+(?:a|an)\s+(?:real\s+|actual\s+|live\s+)?person\b",
    r"\b(?:someone|somebody|a\s+person|an\s+agent|your\s+team)\b[^.?!]{0,20}\b(?:call|phone|ring|contact|email)"
    r"\s+me\b",
    r"\bon\s+the\s+(?:line|phone)\b[^.?!]{0,15}$|\bget\s+(?:someone|somebody|a\s+person)\b",
    # A formal complaint is handled by people, whatever its tone.
    r"\b(?:file|make|lodge|submit|raise|register)\s+an?\s+(?:formal\s+|official\s+)?complaint\b",
)
# "How do I talk to someone about X?" asks for a contact route; the answer is in the help center.
_CONTACT_QUESTION = _any(
    r"^\s*(?:how|where|when|who|what\s+time)\b(?:\s+\S+){0,3}?\s+(?:talk|speak|contact|reach|call|chat|write)\b",
    # "Does a human check my return?" asks how things work.
    r"^\s*(?:does|do|will|did|is|are|would)\s+(?:a|an|the|your|any)\s+(?:real\s+)?(?:human|person|people|staff)\b")

ACCOUNT_SECURITY = _any(
    r"\b(?:hacked|compromised|account\s+takeover|identity\s+theft|phishing)\b",
    r"\b(?:unauthori[sz]ed|fraudulent|fraud)\b",
    r"\b(?:never|didn'?t|did\s+not|not)\s+(?:authori[sz]e|approve|make|place|order|buy)d?\b[^.?!]{0,30}"
    r"\b(?:payment|charge|order|purchase|transaction)",
    r"\b(?:someone|somebody|a\s+stranger)\s+(?:else\s+)?(?:has\s+)?(?:hacked|accessed|broke\s+into|took\s+over)\b",
    r"\baccessed\s+my\s+account\b",
    r"\b(?:don'?t|do\s+not|didn'?t|did\s+not)\s+recogni[sz]e\b",
    r"\bunrecogni[sz]ed\s+(?:charge|transaction|purchase|payment|login|sign-?in|device)",
    r"\b(?:someone|somebody|a\s+stranger)\s+(?:else\s+)?(?:has\s+)?(?:logged|signed|got|is)\s+(?:in|into)\b",
    r"\b(?:someone|somebody)\s+(?:else\s+)?(?:has\s+)?(?:changed|used|accessed|is\s+using)\s+my\b",
    r"\b(?:orders?|purchases?|charges?)\b[^.?!]{0,40}\b(?:i|we)\s+(?:didn'?t|did\s+not|never)\s+"
    r"(?:place|make|made|order|buy|authori[sz]e)",
    r"\b(?:password|e-?mail|address|phone\s+number)\s+was\s+changed\b[^.?!]{0,40}\b(?:didn'?t|did\s+not|wasn'?t\s+me)",
    r"\b(?:stole|stolen)\b[^.?!]{0,30}\b(?:card|account|details|identity|password)",
    r"\b(?:card|account|details|identity|password)\b[^.?!]{0,30}\b(?:stole|stolen)\b",
    r"\b(?:codes?|texts?)\b[^.?!]{0,40}\b(?:number|phone)\s+(?:that\s+)?(?:isn'?t|is\s+not)\s+mine\b",
)

LEGAL_OR_SAFETY = _any(
    r"\b(?:lawyer|attorney|solicitor|lawsuit|legal\s+action|legal\s+proceedings|class\s+action)\b",
    r"\b(?:sue|suing)\s+(?:you|your|trailhead|the\s+company)\b|\bsee\s+you\s+in\s+(?:small\s+claims\s+)?court\b",
    r"\bsmall\s+claims\b|\btake\s+(?:you|this)\s+to\s+court\b",
    r"\bbetter\s+business\s+bureau\b|\bBBB\b|\bconsumer\s+(?:protection|rights|affairs)\b|\bombudsman\b"
    r"|\btrading\s+standards\b|\battorney\s+general\b",
    r"\b(?:data\s+protection|privacy)\s+(?:authority|regulator|commissioner)\b|\breport(?:ing)?\s+you\s+to\b",
    r"\b(?:reverse|cancel|dispute)\s+the\s+(?:charge|payment|transaction)\b"
    r"|\bcontact(?:ing)?\s+my\s+(?:bank|credit\s+card\s+(?:company|issuer))\b",
    r"\b(?:got|was|were|been|am|is|be)\s+(?:badly\s+|seriously\s+)?(?:burn(?:ed|t)|hurt|injured|electrocuted)\b",
    r"\bchargeback\b|\bdisput(?:e|ing)\b[^.?!]{0,30}\b(?:bank|card\s+issuer|credit\s+card)\b",
    r"\b(?:injur(?:y|ed|ies)|burn(?:ed|t)\s+(?:my|me|his|her|our)|caught\s+fire|exploded|hospital|poison(?:ed|ing)?)\b",
)

# Frustration: (pattern, weight). Escalate at _FRUSTRATION_THRESHOLD.
_FRUSTRATION: list[tuple[re.Pattern[str], float]] = [
    (_any(r"\b(?:ridiculous|unacceptable|outrageous|disgraceful|disgusting|pathetic|incompetent|useless|furious"
          r"|livid|appalling|atrocious|a\s+scam|is\s+a\s+scam|a\s+joke|what\s+a\s+joke)\b",
          r"\bworst\s+(?:\w+\s+){0,2}(?:service|experience|company|support|ever)\b",
          r"\b(?:fed\s+up|sick\s+(?:and|&)\s+tired|had\s+enough|done\s+with\s+(?:you|this|your))\b",
          r"\bnever\s+(?:ordering|buying|shopping|order|buy|shop)\b[^.?!]{0,20}\bagain\b",
          r"\bbeyond\s+(?:frustrat|annoy|angr)\w*", r"\b(?:extremely|very|so|really|absolutely)\s+"
          r"(?:angry|upset|frustrated|disappointed|mad)\b",
          r"\b(?:terrible|awful|horrible|dreadful|shocking|unbelievable)\b[^.?!]{0,30}\b(?:service|company|support"
          r"|experience|customer\s+care)\b",
          r"\b(?:terrible|awful|horrible),?\s+(?:terrible|awful|horrible)\b",
          r"\b(?:waste\s+of\s+(?:my\s+)?(?:time|money)|complete\s+(?:joke|mess|disaster|shambles)|total\s+(?:joke"
          r"|mess|disaster|shambles))\b",
          r"\b(?:damn|dammit|hell|wtf|crap|shit\w*|f+u+c+k\w*|bs|bullshit)\b"), 2.0),
    # Contacting again and again about the same thing is as strong as an angry word.
    (_any(r"\b(?:third|fourth|fifth|sixth|3rd|4th|5th|6th|umpteenth)\s+(?:time|email|message|call|request|ticket"
          r"|chat|attempt)\b",
          r"\b(?:explained|asked|told|said|written|wrote|called|emailed|contacted|messaged)\b[^.?!]{0,25}"
          r"\b(?:twice|(?:three|four|five|six|several|many|multiple|\d+)\s+times)\b"), 2.0),
    (_any(r"\bseveral\s+time\b",
          r"\b(?:three|four|five|six|many|several|multiple|\d+)\s+times\b",
          r"\b(?:again\s+and\s+again|over\s+and\s+over|keeps?\s+(?:giving|sending|saying|happening))\b",
          r"\b(?:no\s*one|nobody)\s+(?:has\s+)?(?:replie[sd]|respond(?:s|ed)?|answer(?:s|ed)?|cares?|helps?|fixe[sd]"
          r"|got\s+back)\b",
          r"\bsame\s+(?:useless\s+)?answer\b",
          r"\bis\s+(?:anyone|anybody)\s+(?:even\s+)?(?:reading|listening|there|working)\b"), 1.5),
    (_any(r"\b(?:angry|upset|frustrated|frustrating|annoyed|disappointed|mad)\b",
          r"\b(?:still|yet)\s+(?:no|not|haven'?t|hasn'?t|nothing)\b", r"\bAGAIN\b"), 1.0),
    (_any(r"[!?]{2,}"), 0.5),
]
_FRUSTRATION_THRESHOLD = 2.0


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    return len(words) >= 4 and len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def frustration_score(text: str) -> float:
    score = sum(weight for pattern, weight in _FRUSTRATION if pattern.search(text))
    # A whole message in capitals is shouting; a short one ("WHERE IS IT") weighs less.
    if _shouting(text):
        score += 2.0 if len(text.split()) >= 6 else 1.5
    return score


def detect_escalation(text: str) -> EscalationDecision | None:
    """The strongest reason to hand this message to a human, or None."""
    if ACCOUNT_SECURITY.search(text):
        return EscalationDecision("account_security", "high", ("account_security",))
    if LEGAL_OR_SAFETY.search(text):
        return EscalationDecision("legal_or_safety", "high", ("legal_or_safety",))
    frustration = frustration_score(text)
    if HUMAN_REQUEST.search(text) and not (_CONTACT_QUESTION.search(text) and frustration < _FRUSTRATION_THRESHOLD):
        priority = "high" if frustration >= _FRUSTRATION_THRESHOLD else "normal"
        return EscalationDecision("customer_request", priority, ("human_request",))
    if frustration >= _FRUSTRATION_THRESHOLD:
        return EscalationDecision("frustration", "high" if frustration >= 3.5 else "normal", ("frustration",))
    return None
