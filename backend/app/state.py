"""The clients built once in lifespan, complete at construction, handed to routes through typed dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from app.agents.chat_agent import CustomerSupportAgent
from app.chat.service import ChatService
from app.config import Settings
from app.db.engine import Database
from app.knowledge.embeddings import Embedder
from app.knowledge.search import KnowledgeBase
from app.knowledge.vector_store import VectorStore
from app.realtime.connection import Hub
from app.session.cleanup import SessionCleanup
from app.session.manager import SessionManager
from app.staff.wiring import StaffSide


@dataclass
class Readiness:
    migrated: bool = False
    embedder_loaded: bool = False
    vector_store_ready: bool = False
    startup_seconds: float | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Services:
    settings: Settings
    db: Database
    embedder: Embedder
    store: VectorStore
    knowledge: KnowledgeBase
    agent: CustomerSupportAgent
    chat: ChatService
    readiness: Readiness
    # Session state store, locks and the idle-session cleanup (app/session).
    sessions: SessionManager
    session_cleanup: SessionCleanup
    # WebSocket connections and the event bus they listen on (app/realtime).
    realtime: Hub
    # The one Redis client (app/redis_client.py), None without REDIS_URL; closed last.
    redis: Redis | None
    # Staff accounts, login, the handoff state machine, inbox and webhooks (app/staff).
    staff: StaffSide
