"""Application factory and lifespan: heavy clients are built once here and closed on shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__
from app.agents.chat_agent import CustomerSupportAgent
from app.agents.providers import build_provider
from app.api_docs import install_error_docs
from app.chat.router import router as chat_router
from app.chat.service import ChatService
from app.config import Settings
from app.db import migrate
from app.db.engine import Database
from app.db.repository import MessageRepository
from app.errors import error_body, install_error_handlers
from app.files.sweeper import AttachmentSweeper
from app.health.router import router as health_router
from app.knowledge.embeddings import load_embedder
from app.knowledge.ingestion import Ingestor
from app.knowledge.router import router as knowledge_router
from app.knowledge.service import build_knowledge_base
from app.knowledge.vector_store import VectorStore
from app.observability import metrics
from app.observability.exposition import mark_process_dead, render_metrics
from app.observability.logging import configure_logging
from app.observability.metrics_access import metrics_allowed
from app.observability.middleware import RequestContextMiddleware
from app.observability.probes import dependency_probe
from app.observability.tracing import telemetry_config
from app.realtime.bus import start_bus
from app.realtime.connection import Hub
from app.realtime.router import document_frames
from app.realtime.router import router as realtime_router
from app.redis_client import build_redis
from app.security.api_keys import parse_api_keys
from app.security.input_guard import InputGuardMiddleware
from app.security.rate_limit import RateLimitMiddleware, RateLimits, build_storage
from app.session.cleanup import SessionCleanup
from app.session.manager import build_session_manager
from app.staff.admin_router import router as staff_admin_router
from app.staff.auth_router import router as auth_router
from app.staff.customer_router import router as staff_customer_router
from app.staff.router import router as staff_router
from app.staff.widget_settings import router as widget_settings_router
from app.staff.wiring import build_staff_side
from app.staff.ws import router as staff_ws_router
from app.state import Readiness, Services
from app.tools.escalation_intents import EscalationIntents
from app.tools.registry import ToolRegistry
from app.web.router import log_dist_status
from app.web.router import router as web_router

log = logging.getLogger("app.main")


async def build_services(settings: Settings) -> Services:
    started = time.perf_counter()
    readiness = Readiness()
    db = Database(settings.resolved_database_url, settings.db_pool_size)
    if settings.db_auto_migrate:
        await anyio.to_thread.run_sync(migrate.upgrade, settings.resolved_database_url)
    readiness.migrated = await migrate.current_revision(db.engine) == migrate.head_revision()
    if not readiness.migrated:
        log.warning("db.migrations.pending", extra={"hint": "run `make migrate`"})

    embedder = await anyio.to_thread.run_sync(load_embedder, settings.embedding_model, settings.embedding_process)
    readiness.embedder_loaded = True
    store = await anyio.to_thread.run_sync(lambda: VectorStore(
        settings.chroma_collection, path=settings.chroma_path, host=settings.chroma_host,
        port=settings.chroma_port))
    readiness.vector_store_ready = True
    if settings.kb_auto_ingest and settings.knowledge_base_dir.is_dir() \
            and await anyio.to_thread.run_sync(store.count) == 0:
        report = await anyio.to_thread.run_sync(
            lambda: Ingestor(embedder, store).ingest_directory(settings.knowledge_base_dir))
        log.info("kb.ingest.completed", extra=report.as_dict())

    redis = build_redis(settings)  # the one client: session store, locks, realtime bus, query cache
    knowledge = build_knowledge_base(settings, embedder, store, redis)
    await anyio.to_thread.run_sync(knowledge.recalibrate)  # now, not on the first customer's question
    intents = EscalationIntents(embedder, encode=knowledge.aencode) if settings.escalation_intents else None
    if intents is not None:
        await anyio.to_thread.run_sync(intents.prepare)  # encode the descriptions now, not in a turn
    agent = CustomerSupportAgent(ToolRegistry.from_settings(settings, knowledge=knowledge, db=db),
                                 build_provider(settings), history_token_budget=settings.history_token_budget,
                                 intents=intents)
    sessions = await build_session_manager(settings, db, redis)
    bus = await start_bus(settings, redis)
    repo = MessageRepository(db)
    staff = build_staff_side(settings, db, repo, bus.publish, agent)
    chat = ChatService(repo, agent, settings, sessions, publish=bus.publish, handoff=staff.handoff)
    if readiness.migrated:
        metrics.ACTIVE_SESSIONS.set(await repo.active_session_count())
    cleanup = SessionCleanup(sessions, settings.session_cleanup_interval_seconds)
    hub = Hub(settings, bus)
    readiness.startup_seconds = round(time.perf_counter() - started, 3)
    return Services(settings=settings, db=db, embedder=embedder, store=store, knowledge=knowledge,
                    agent=agent, chat=chat, readiness=readiness, sessions=sessions, session_cleanup=cleanup,
                    realtime=hub, redis=redis, staff=staff)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    services = await build_services(settings)
    services.session_cleanup.start()
    services.realtime.start()
    await services.staff.start(services.readiness.migrated)
    app.state.services = services
    provider_check = getattr(services.agent.provider, "check", None)
    # In the background: a slow or unreachable model must not hold up the start (it logs what it found).
    llm_check = asyncio.create_task(provider_check()) if provider_check and settings.llm_startup_check else None
    # The file parser's worker imports its libraries for seconds: start it now, not on the first file.
    warm_tools = asyncio.create_task(services.agent.registry.start()) if settings.parse_worker_prestart else None
    attachment_sweeper = AttachmentSweeper(services.db, settings, settings.session_cleanup_interval_seconds)
    attachment_sweeper.start()
    log.info("app.started", extra={"environment": settings.environment,
                                   "startup_seconds": services.readiness.startup_seconds,
                                   "database": services.db.engine.dialect.name,
                                   "vector_store": services.store.mode})
    if settings.gc_freeze_at_start:
        gc.collect()  # what is garbage now is freed, not frozen
        gc.freeze()
    try:
        async with dependency_probe(services, settings.health_probe_interval_seconds):
            yield
    finally:
        if settings.gc_freeze_at_start:
            gc.unfreeze()  # an app stopped in a process that goes on (tests, reloads) leaves nothing pinned
        mark_process_dead()
        app.state.services = None
        await services.realtime.close()  # running turns get a grace period, then are cancelled
        await services.staff.close()
        await services.realtime.bus.close()
        await services.session_cleanup.stop()
        await attachment_sweeper.stop()
        for task in (llm_check, warm_tools):
            if task is not None:
                task.cancel()
        await services.sessions.close()
        await services.agent.close()
        await services.knowledge.aclose()  # after the turns: a search still queued fails, a running one ends
        if services.redis is not None:
            await services.redis.aclose()
        await services.db.dispose()
        log.info("app.stopped")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = FastAPI(title=settings.app_name, version=__version__, lifespan=lifespan,
                  description="Customer-support agent API: sessions, messages with citations, health, metrics.",
                  telemetry=telemetry_config(settings),
                  # Off in staging/production unless DOCS_ENABLED: the schema maps every endpoint for a scanner.
                  docs_url="/docs" if settings.docs_served else None,
                  redoc_url="/redoc" if settings.docs_served else None,
                  openapi_url="/openapi.json" if settings.docs_served else None)
    app.state.settings = settings
    app.state.services = None
    app.state.api_keys = parse_api_keys(settings.api_keys)  # a malformed key fails here, at start
    install_error_handlers(app)
    # Innermost: runs only for requests the rate limiter let through.
    app.add_middleware(InputGuardMiddleware, settings=settings)
    # Inside CORS (a browser can read the 429) and inside the request context (it carries the request id).
    # One counter store for rate limits and upload byte quotas (Redis when configured: shared by instances).
    app.state.limits_storage = build_storage(settings)
    # The WebSocket handler counts `message` frames with the same rules and counters (app.state.rate_limits).
    app.state.rate_limits = RateLimits(settings, app.state.limits_storage)
    app.add_middleware(RateLimitMiddleware, limits=app.state.rate_limits)
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type", "X-Session-Token", "X-Request-ID"],
                       expose_headers=["X-Request-ID"])
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_request_bytes)
    app.include_router(chat_router)
    app.include_router(health_router)
    app.include_router(knowledge_router)
    app.include_router(realtime_router)
    for router in (auth_router, staff_router, staff_admin_router, staff_customer_router, staff_ws_router,
                   widget_settings_router):
        app.include_router(router)  # the staff side: login, queue, handoff, admin (docs/staff-api.md)
    document_frames(app)  # the WebSocket's server frames, for the widget's generated types
    app.include_router(web_router)  # the built chat widget at /, /widget.js, /demo
    log_dist_status()
    install_error_docs(app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint(request: Request) -> Response:
        if not metrics_allowed(request, settings):
            return JSONResponse(error_body(403, "Metrics are for the monitoring network (or METRICS_TOKEN).",
                                           "forbidden"), status_code=403)
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)

    # Outermost, so every middleware and route (rate limits, /metrics rules, logs) sees the real client:
    # X-Forwarded-For/-Proto are believed only from TRUSTED_PROXIES. Keep this the last add_middleware.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
