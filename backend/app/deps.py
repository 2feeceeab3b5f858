"""Annotated dependencies and the one session gate every channel (REST and WebSocket) goes through."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from starlette.applications import Starlette

from app.db.enums import SessionStatus
from app.db.models import ChatSession
from app.errors import Conflict, NotFound, ServiceUnavailable, Unauthorized
from app.observability.context import bind_session
from app.security.session_tokens import token_from, token_matches
from app.state import Services


def services_of(app: Starlette) -> Services:
    """The app's services, or 503 while it starts (or stops): the one way a route or socket reaches them."""
    services: Services | None = getattr(app.state, "services", None)
    if services is None:
        raise ServiceUnavailable("The service is starting", code="not_ready")
    return services


def get_services(request: Request) -> Services:
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]


async def authorise_session(services: Services, session_id: uuid.UUID, token: str | None) -> ChatSession:
    """404 for an unknown session, 401 without its token. Served by the session manager (L1 cache, store,
    then SQL); a store-served session is a detached, read-only ChatSession."""
    session = await services.sessions.lookup(session_id)
    if session is None:
        raise NotFound("Session not found", code="session_not_found")
    if not token_matches(token, session.token_hash):
        raise Unauthorized("Missing or invalid session token", code="invalid_session_token")
    bind_session(session.id)
    return session


def require_active(session: ChatSession) -> ChatSession:
    if session.status != SessionStatus.ACTIVE:
        raise Conflict("Session is closed", code="session_closed")
    return session


async def get_chat_session(session_id: uuid.UUID, request: Request, services: ServicesDep) -> ChatSession:
    return await authorise_session(services, session_id, token_from(request))


ChatSessionDep = Annotated[ChatSession, Depends(get_chat_session)]


async def get_active_chat_session(session: ChatSessionDep) -> ChatSession:
    return require_active(session)


ActiveChatSessionDep = Annotated[ChatSession, Depends(get_active_chat_session)]
