"""Facts a customer states about themselves, and questions asking for them back.

Rule-based on purpose: the offline responder must remember "my order number is TH-12345" without a
model, and the same extraction runs in OpenAI mode so memory does not depend on the model calling
the tool.
"""

from __future__ import annotations

import re

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
# Order references look like TH-12345, #123456, A1B2C3D4: letters optional, digits required.
_ORDER_REF = r"#?\s*((?:[A-Z]{1,5}-?)?\d[\dA-Z-]{3,19})"

_FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("order_number", re.compile(
        r"\border\s*(?:number|no\.?|num|#|id|reference|ref)?\s*(?:is|was|=|:)?\s*" + _ORDER_REF, re.I)),
    ("email", re.compile(
        r"\b(?:my\s+(?:e-?mail(?:\s+address)?|address)\s*(?:is|:)?|reach me at|contact me at|e-?mail me at)\s*<?("
        + _EMAIL + ")", re.I)),
    ("name", re.compile(r"\b(?i:my name is|my name's|call me|this is)\s+([A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)")),
    ("name", re.compile(r"(?i:\bmy name is)\s+([a-zA-Z][a-zA-Z'-]+)")),
    ("phone", re.compile(r"\b(?:my\s+(?:phone|mobile|cell)(?:\s+number)?\s*(?:is|:)?|call me at)\s*"
                         r"(\+?[\d][\d ()-]{6,18}\d)", re.I)),
    ("preferred_contact", re.compile(
        r"\b(?:i(?:\s+would|'d)?\s+prefer|please\s+(?:only\s+)?contact me)\s+(?:to be contacted\s+)?"
        r"(?:by|via|through|over)\s+(e-?mail|phone|text|sms|chat|post|mail)\b", re.I)),
    ("preferred_language", re.compile(r"\bi(?:\s+would|'d)?\s+prefer\s+(?:to\s+(?:speak|write|chat)\s+)?"
                                      r"(?:in\s+)?(english|spanish|french|german|italian|portuguese|dutch)\b", re.I)),
]
# Words after "this is"/"call me" that are not names.
_NOT_NAMES = {"Ridiculous", "Unacceptable", "Urgent", "The", "A", "An", "It", "Not", "What", "Why", "How"}

LABELS = {"order_number": "order number", "email": "email address", "name": "name", "phone": "phone number",
          "preferred_contact": "preferred way to be contacted", "preferred_language": "preferred language"}

_ASKING = re.compile(
    r"\b(?:what(?:'s|\s+is|\s+was|\s+were)?|which|do you (?:remember|know|have|recall)|did i (?:tell|give|say|mention)"
    r"|can you (?:remind|tell) me|remind me|tell me|recall)\b", re.I)
_RECALL_TOPICS: list[tuple[str, re.Pattern[str]]] = [
    ("order_number", re.compile(r"\border\s*(?:number|no\.?|num|#|id|reference|ref)\b", re.I)),
    ("email", re.compile(r"\be-?mail\b", re.I)),
    ("name", re.compile(r"\bmy name\b|\bwho am i\b", re.I)),
    ("phone", re.compile(r"\b(?:phone|mobile|cell)\b", re.I)),
    ("preferred_contact", re.compile(r"\bprefer\w*\b.*\bcontact", re.I)),
    ("preferred_language", re.compile(r"\blanguage\b", re.I)),
]
_ABOUT_ME = re.compile(
    r"\bwhat (?:do you|did i) (?:know|remember|tell you|told you) about me\b|\bwhat have i told you\b", re.I)
_SELF_REFERENCE = re.compile(r"\b(?:my|i|me)\b", re.I)


def extract_facts(text: str) -> dict[str, str]:
    """Facts stated in `text`, keyed by a stable name ("order_number", "email", ...)."""
    facts: dict[str, str] = {}
    for key, pattern in _FACT_PATTERNS:
        if key in facts:
            continue
        match = pattern.search(text)
        if not match:
            continue
        value = match.group(1).strip().rstrip(".,;")
        if key == "name" and (value.split()[0] in _NOT_NAMES or len(value) < 2):
            continue
        if key == "order_number":
            value = value.upper().replace(" ", "")
            if not any(ch.isdigit() for ch in value):
                continue
        if key in ("preferred_contact", "preferred_language"):
            value = value.lower()
        facts[key] = value
    return facts


def recall_request(text: str) -> list[str] | None:
    """The fact keys a question asks back ("what was my order number?"), [] for "everything", or None."""
    if _ABOUT_ME.search(text):
        return []
    if not (_ASKING.search(text) and _SELF_REFERENCE.search(text)):
        return None
    # "What is my order status?" asks about the order, not the number; only questions naming the fact.
    keys = [key for key, pattern in _RECALL_TOPICS if pattern.search(text)]
    if not keys or extract_facts(text):
        return None
    if re.search(r"\b(?:status|where is|track|arrive|shipp|deliver|refund|cancel|change)\w*", text, re.I):
        return None
    return keys
