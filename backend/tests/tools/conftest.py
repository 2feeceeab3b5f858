"""Real parts for tool tests: a migrated SQLite database with one chat session, and the knowledge base."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from app.db import migrate
from app.db.engine import Database
from app.db.models import ChatSession
from app.knowledge.embeddings import Embedder, load_embedder
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder("")


@pytest.fixture
def knowledge(data_dir: Path, embedder: Embedder) -> KnowledgeBase:
    return KnowledgeBase(embedder, VectorStore("knowledge_base", path=data_dir / "chroma"))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tools.db'}"
    await anyio.to_thread.run_sync(migrate.upgrade, url)
    database = Database(url)
    yield database
    await database.dispose()


async def new_chat_session(db: Database, user_id: str | None = None) -> uuid.UUID:
    async with db.transaction() as s:
        row = ChatSession(user_id=user_id, token_hash="0" * 64)
        s.add(row)
        await s.flush()
        return row.id
