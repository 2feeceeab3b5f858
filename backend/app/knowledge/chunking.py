"""Heading-aware chunking: every chunk keeps its document title and section path."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    title: str
    section: str  # "Heading > Subheading"; empty for text before the first section
    text: str

    def embedding_text(self) -> str:
        """What gets embedded: the passage in the context of where it sits."""
        return f"{self.heading_text()}\n{self.text}"

    def heading_text(self) -> str:
        """The chunk's place in the document on its own: for a FAQ, the question it answers."""
        return self.title if not self.section else f"{self.title} - {self.section}"


def _blocks(lines: list[str]) -> list[str]:
    """Paragraphs and whole lists as units, so a numbered procedure is never cut mid-way if it fits."""
    blocks: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    # Join a list that was written with blank lines between its items.
    merged: list[str] = []
    for block in blocks:
        if merged and _is_list(block) and _is_list(merged[-1]):
            merged[-1] = merged[-1] + "\n" + block
        else:
            merged.append(block)
    return merged


def _is_list(block: str) -> bool:
    return bool(re.match(r"^\s*(?:[-*+]|\d+[.)])\s+", block))


def split_markdown(text: str, fallback_title: str, max_chars: int = 1200, overlap_chars: int = 200,
                   min_chars: int = 250) -> list[Chunk]:
    title = ""
    sections: list[tuple[str, list[str]]] = [("", [])]
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            level, heading = len(match.group(1)), match.group(2).strip()
            if level == 1 and not title:
                title = heading
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            sections.append((" > ".join(h for _, h in stack), []))
        else:
            sections[-1][1].append(line)
    title = title or fallback_title

    chunks: list[Chunk] = []
    carry: list[str] = []  # a short intro before the first heading joins the first section
    for index, (section, lines) in enumerate(sections):
        blocks = carry + _blocks(lines)
        if not blocks:
            continue
        is_last = index == len(sections) - 1
        if not section and not is_last and sum(len(b) for b in blocks) < min_chars:
            carry = blocks
            continue
        carry = []
        current: list[str] = []
        size = 0
        for block in blocks:
            for piece in _split_long(block, max_chars):
                if current and size + len(piece) > max_chars:
                    chunks.append(Chunk(title, section, "\n\n".join(current)))
                    # Carry the tail block over when short, so a sentence that bridges two chunks survives.
                    tail = current[-1]
                    current, size = ([tail], len(tail)) if len(tail) <= overlap_chars else ([], 0)
                current.append(piece)
                size += len(piece) + 2
        if current:
            chunks.append(Chunk(title, section, "\n\n".join(current)))
    return chunks


def _split_long(block: str, max_chars: int) -> list[str]:
    if len(block) <= max_chars:
        return [block]
    sentences = re.split(r"(?<=[.!?])\s+|\n", block)
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        if current and len(current) + len(sentence) + 1 > max_chars:
            pieces.append(current)
            current = ""
        while len(sentence) > max_chars:  # a "sentence" with no break at all
            pieces.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces
