"""The handoff packet: what the human needs at a glance, written once at the handoff."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.db.engine import Database
from app.db.enums import MessageRole
from app.db.models import Memory
from app.db.repository import MessageRepository


def ticket_id(handoff_id: uuid.UUID | None) -> str | None:
    return f"ESC-{handoff_id.hex[:8].upper()}" if handoff_id else None


async def build_packet(db: Database, repo: MessageRepository, session_id: uuid.UUID,
                       escalation: dict[str, Any]) -> dict[str, Any]:
    """What the human needs at a glance: why, how urgent, what was asked and answered (with the passages
    cited), the facts remembered, the files uploaded. Written once, at the handoff."""
    messages = await repo.latest(session_id, 20)
    files = await repo.attachments(session_id)
    async with db.sessionmaker() as s:
        facts = list(await s.scalars(select(Memory).where(Memory.session_id == session_id, Memory.kind == "fact")))
    asked = [m.content[:500] for m in messages if m.role == MessageRole.USER]
    answered = [{"content": m.content[:500],
                 "sources": [{"source": (src.get("metadata") or {}).get("source"),
                              "title": (src.get("metadata") or {}).get("title"),
                              "excerpt": src.get("content", "")[:300]}
                             for src in (m.sources or [])]}
                for m in messages if m.role == MessageRole.ASSISTANT and m.sources]
    return {"ticket_id": ticket_id(escalation["id"]), "reason": escalation["reason"],
            "priority": escalation["priority"], "summary": escalation.get("summary", ""),
            "customer_asked": asked[-5:], "assistant_answered": answered[-3:],
            "facts": {f.key: f.value for f in facts},
            "uploads": [{"id": str(a.id), "filename": a.filename, "content_type": a.content_type,
                         "size_bytes": a.size_bytes, "status": a.status} for a in files]}
