"""Questions about the customer's own document: "what did I pay in total for that order?".

Two parts, both lexical (they run per turn on text the embedder never saw):
- `reference` tells whether the question points at an uploaded file: by name ("the invoice I sent",
  "this file", "the PDF"), by a deictic or possessive word before a document-like noun ("that order",
  "my receipt"), or by saying it was sent ("the one I uploaded"). A file word is a strong reference;
  an order word is weak: answered from the file only when the file holds what was asked.
- `answer` finds the asked field in the parsed text: the total (or the amount line the question names:
  shipping, tax...), the date (the one the question names: due, order, invoice...), or the item lines,
  and says it with the file named as the source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.tools.attachment_tool import FileText
from app.tools.extractive import terms

_FILE_NOUN = (r"(?:file|document|doc|attachment|upload|pdf|docx|txt|spreadsheet|invoice|receipt|statement|bill"
              r"|quote|quotation|confirmation|packing\s+slip)")
_ORDER_NOUN = r"(?:order|purchase|booking)"
_DEICTIC = r"(?:this|that|the|my|our|these|those)"
_SENT = r"(?:i|we)\s+(?:just\s+|have\s+|'ve\s+)?(?:sent|uploaded|attached|shared|gave\s+you|forwarded)"

_STRONG = re.compile(
    rf"\b{_DEICTIC}\s+(?:\w+\s+){{0,2}}?{_FILE_NOUN}s?\b"  # "the invoice", "this PDF", "my order confirmation"
    rf"|\b(?:attached|uploaded|enclosed)\b"  # "the attached", "what's in the uploaded one"
    rf"|\b{_SENT}\b", re.I)  # "the one I sent"
_WEAK = re.compile(rf"\b{_DEICTIC}\s+(?:\w+\s+){{0,2}}?{_ORDER_NOUN}s?\b"
                   r"|\bwhat\s+did\s+(?:i|we)\s+(?:order|buy|purchase|pay)\b"
                   r"|\bhow\s+much\s+did\s+(?:i|we)\s+pay\b", re.I)

# Linear on hostile text: a digit run is only started where it begins and is never given back (`*+`),
# so a file of 20,000 digits costs microseconds, not seconds of the event loop (it did: 16 s).
_MONEY = re.compile(r"(?:[$€£]\s?\d[\d,]*+(?:\.\d{1,2})?"
                    r"|(?<![\d,.])\d[\d,]*+(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|dollars|euros|pounds)\b"
                    r"|\b(?:USD|EUR|GBP)\s?\d[\d,]*+(?:\.\d{1,2})?)", re.I)
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATE = re.compile(rf"\b(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}"
                   rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+\d{{4}}"
                   rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)\b", re.I)

_ASKS_TOTAL = re.compile(r"\b(?:total|how\s+much|amount|pa(?:y|id)|cost|price|charged?|owe|due|sum|spent|spend"
                         r"|balance|shipping|tax|vat|subtotal|discount)\b", re.I)
# "When did I order?" asks the file; "when will it arrive?" asks about delivery, not a date on the file.
_ASKS_DATE = re.compile(r"\b(?:date|dated|what\s+day|which\s+day)\b|\bwhen\s+(?:did|was|were|had)\b"
                        r"|\bwhen\s+(?:is|are)\b[^.?!]*\bdue\b", re.I)
_ASKS_ITEMS = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(?:items?|products?|things|lines)\b"
                         r"|\b(?:items?|products?|lines?)\s+(?:in|on|listed|included|are)\b|\blist\b|\bcontents?\b"
                         r"|\bwhat\s+(?:did|have)\s+(?:i|we)\s+(?:order|buy|bought|purchase)|\bwhat(?:'s|\s+is)\s+in\b",
                         re.I)
_TOTAL_LABEL = re.compile(r"\b(?:grand\s+total|total(?:\s+(?:due|paid|amount|charged|payable))?|amount\s+(?:due|paid"
                          r"|charged|payable)|balance\s+due)\b", re.I)
_NOT_ITEM = re.compile(r"\b(?:sub-?total|total|tax|vat|shipping|delivery|postage|discount|balance|amount|paid"
                       r"|payment|due|invoice|order\s+(?:no|number|#)|date|tel|phone|iban|account)\b", re.I)
# Words of the question that say which field, not which line: left out when matching a line's label.
_FIELD_WORDS = frozenset(terms("total how much amount pay paid cost price charge charged owe due sum spent spend "
                               "date dated when day item items product products line lines content contents list "
                               "what order invoice receipt file document attachment sent uploaded attached this "
                               "that bill statement purchase"))


@dataclass(frozen=True)
class FieldAnswer:
    field: str  # total | date | items
    filename: str
    value: str
    lines: tuple[str, ...]

    def text(self) -> str:
        source = f"your file **{self.filename}**"
        if self.field == "items":
            listed = "\n".join(f"- {line}" for line in self.lines)
            return f"{source[0].upper() + source[1:]} lists {len(self.lines)} item(s):\n\n{listed}"
        quoted = "\n".join(f"> {' '.join(line.split())}" for line in self.lines)
        line = self.lines[0] if self.lines else ""
        label = _label(line)
        if self.field == "total" and _TOTAL_LABEL.search(label):
            lead = f"The total in {source} is **{self.value}**"
        elif label and ":" in line:
            lead = f"The {label.lower()} in {source} is **{self.value}**"  # "The shipping", "The due date"
        else:
            lead = f"{source[0].upper() + source[1:]} says **{self.value}**"
        return f"{lead}:\n\n{quoted}"


def reference(question: str) -> str | None:
    """`strong` when the question names a file, `weak` when it points at an order, else None."""
    if _STRONG.search(question):
        return "strong"
    if _WEAK.search(question):
        return "weak"
    return None


def asked_field(question: str) -> str | None:
    if _ASKS_ITEMS.search(question) and not _ASKS_TOTAL.search(question):
        return "items"
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_TOTAL.search(question):
        return "total"
    if _ASKS_ITEMS.search(question):
        return "items"
    return None


def answer(files: Sequence[FileText], question: str) -> str | None:
    """The asked field from each readable file that has it, the file named; None when none has it."""
    field = asked_field(question)
    if field is None:
        return None
    found = [a for f in files if f.status == "processed" and f.text
             for a in [extract(f.text, field, question, f.filename)] if a is not None]
    return "\n\n".join(a.text() for a in found) or None


def extract(text: str, field: str, question: str, filename: str = "") -> FieldAnswer | None:
    lines = [_clean(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    wanted = {t for t in terms(question) if t not in _FIELD_WORDS}
    if field == "total":
        return _amount(lines, wanted, filename, bool(re.search(r"\btotal\b", question, re.I)))
    if field == "date":
        return _date(lines, wanted, filename)
    return _items(lines, filename)


def _amount(lines: list[str], wanted: set[str], filename: str, says_total: bool) -> FieldAnswer | None:
    """The line whose label the question names (shipping, tax...); else the total when asked for or when
    the question names nothing else; else a priced line that mentions what the question names."""
    priced = [line for line in lines if _MONEY.search(line)]
    if not priced:
        return None
    by_label = max(((len(wanted & set(terms(_label(line)))), -i, line) for i, line in enumerate(priced)))
    by_text = max(((len(wanted & set(terms(line))), -i, line) for i, line in enumerate(priced)))
    totals = [line for line in priced if _TOTAL_LABEL.search(line) and not re.search(r"sub-?total", line, re.I)]
    grand = [line for line in totals if re.search(r"grand\s+total|amount\s+paid|total\s+paid", line, re.I)]
    if by_label[0] > 0:
        line = by_label[2]
    elif totals and (says_total or not wanted):
        line = (grand or totals)[-1]
    elif by_text[0] > 0:
        line = by_text[2]
    else:
        return None  # the question names something the file does not price
    value = _MONEY.findall(line)[-1]
    return FieldAnswer("total", filename, value.strip(), (line,))


def _date(lines: list[str], wanted: set[str], filename: str) -> FieldAnswer | None:
    """The date whose label the question names (due, order, delivery...), else the first labelled one."""
    dated = [(i, line) for i, line in enumerate(lines) if _DATE.search(line)]
    if not dated:
        return None
    scored = [(len(wanted & set(terms(_label(line)))), bool(re.search(r"\bdate\b|\bdated\b", line, re.I)), -i, line)
              for i, line in dated]
    line = max(scored)[3]
    return FieldAnswer("date", filename, _DATE.search(line).group(0), (line,))  # type: ignore[union-attr]


def _items(lines: list[str], filename: str) -> FieldAnswer | None:
    """Lines that price something and are not a total, tax, shipping or reference line; table rows too."""
    rows: list[str] = []
    for line in lines:
        if set(line) <= set("|-: "):
            continue  # a Markdown table's separator row
        cells = [c.strip() for c in line.strip("|").split("|")] if line.startswith("|") else []
        if cells and not any(_MONEY.search(c) or re.fullmatch(r"\d+", c) for c in cells):
            continue  # a table's header row
        if _MONEY.search(line) and not _NOT_ITEM.search(_label(line)):
            rows.append(" ".join(" | ".join(c for c in cells if c).split()) if cells else " ".join(line.split()))
    if not rows:
        return None
    return FieldAnswer("items", filename, str(len(rows)), tuple(rows))


def _label(line: str) -> str:
    """The words before a line's first figure or colon: "Shipping" in "Shipping: $9.95"."""
    head = re.split(r":|[$€£]|\d", line, maxsplit=1)[0]
    return head.strip(" |*-#\t")


def _clean(line: str) -> str:
    return line.strip().strip("*#>").strip()
