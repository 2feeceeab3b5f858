"""memory: remember and recall facts about the customer (per user, else per session), in SQL.

Facts are keyed ("order_number", "email", "name", ...): remembering a key again replaces its value.
A signed-in customer (`user_id`) gets their facts back in any later session; an anonymous one only
within the session. The conversation's running summary is stored here too (kind "summary").
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.db.models import Memory, utcnow
from app.tools.base_tool import BaseTool, RetryableToolError, ToolContext, ToolResult

SUMMARY_KEY = "conversation_summary"


@dataclass
class MemorySnapshot:
    facts: dict[str, str] = field(default_factory=dict)
    summary: str = ""


class MemoryTool(BaseTool):
    name = "memory"
    description = ("Remember a fact the customer told you (order number, email, name, phone, preferences) or "
                   "recall facts remembered earlier in this or previous conversations.")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["remember", "recall"]},
            "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$",
                    "description": "Snake-case name such as order_number, email, name, preferred_contact"},
            "value": {"type": "string", "minLength": 1, "maxLength": 500,
                      "description": "The fact to remember (remember only)"},
        },
        "required": ["action"],
        "additionalProperties": False,
    }

    def __init__(self, db: Database, max_facts: int = 50) -> None:
        self.db = db
        self.max_facts = max_facts

    @classmethod
    def build(cls, deps: Any, options: dict[str, Any]) -> BaseTool:
        if deps.db is None:
            raise ValueError("memory needs the database")
        return cls(deps.db, **options)

    async def run(self, context: ToolContext, **kwargs: Any) -> ToolResult:
        if context.session_id is None and not context.user_id:
            return ToolResult(success=False, error="memory needs a conversation")
        action = kwargs.get("action")
        key = kwargs.get("key")
        if action == "remember":
            value = str(kwargs.get("value") or "").strip()
            if not key or not value:
                return ToolResult(success=False, error="remember needs both key and value")
            await self.remember(context, {key: value})
            return ToolResult(success=True, data={key: value}, metadata={"action": "remember"})
        snapshot = await self.load(context)
        facts = {key: snapshot.facts[key]} if key and key in snapshot.facts else (
            {} if key else snapshot.facts)
        return ToolResult(success=True, data=facts, metadata={"action": "recall", "count": len(facts)})

    async def remember(self, context: ToolContext, facts: dict[str, str], kind: str = "fact") -> None:
        """Upsert facts in the customer's scope (user if known, else session)."""
        if not facts:
            return
        async with _retryable(), self.db.transaction() as db:
            for key, value in facts.items():
                query = select(Memory).where(Memory.key == key, Memory.kind == kind)
                if context.user_id and kind == "fact":
                    query = query.where(Memory.user_id == context.user_id)
                else:
                    query = query.where(Memory.session_id == context.session_id)
                row = (await db.scalars(query.order_by(Memory.updated_at.desc()).limit(1))).first()
                if row is None:
                    db.add(Memory(session_id=context.session_id, user_id=context.user_id, key=key,
                                  value=value[:2000], kind=kind))
                elif row.value != value:
                    row.value = value[:2000]
                    row.session_id = context.session_id
                    row.updated_at = utcnow()

    async def save_summary(self, context: ToolContext, summary: str) -> None:
        await self.remember(context, {SUMMARY_KEY: summary}, kind="summary")

    async def load(self, context: ToolContext) -> MemorySnapshot:
        """Every fact for this user or session (newest wins per key) and the session's summary."""
        async with _retryable(), self.db.sessionmaker() as db:
            return await self.read(db, context)

    async def read(self, db: AsyncSession, context: ToolContext) -> MemorySnapshot:
        """`load` inside a caller's transaction: the turn service reads memory together with the
        customer's message, so a turn takes the database once before the agent runs, not twice."""
        scope = [Memory.session_id == context.session_id]
        if context.user_id:
            scope.append(Memory.user_id == context.user_id)
        rows = list(await db.scalars(select(Memory).where(or_(*scope))
                                     .order_by(Memory.updated_at.desc()).limit(self.max_facts * 2)))
        snapshot = MemorySnapshot()
        for row in rows:
            if row.kind == "summary":
                if row.session_id == context.session_id and not snapshot.summary:
                    snapshot.summary = row.value
            elif row.key not in snapshot.facts and len(snapshot.facts) < self.max_facts:
                snapshot.facts[row.key] = row.value
        return snapshot

    def with_new(self, snapshot: MemorySnapshot, facts: dict[str, str]) -> MemorySnapshot:
        """`snapshot` (read before this turn) as a load after remembering `facts` would return it: the
        new facts are the newest, so they come first and replace their keys. Two differences, both only
        at `max_facts`: a fact whose remember failed is still here (this turn knows it), and a fact
        stated again unchanged moves first (remember leaves its row as it was)."""
        merged = {k: v[:2000] for k, v in facts.items()}
        merged.update((k, v) for k, v in snapshot.facts.items() if k not in merged)
        return MemorySnapshot(facts=dict(list(merged.items())[:self.max_facts]), summary=snapshot.summary)


@contextlib.asynccontextmanager
async def _retryable() -> AsyncIterator[None]:
    """A busy or unreachable database is worth a retry (the wrapper retries RetryableToolError)."""
    try:
        yield
    except OperationalError as exc:
        raise RetryableToolError(str(exc.orig)) from exc
