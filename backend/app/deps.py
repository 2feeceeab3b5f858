"""Annotated dependencies: services from app state, and the authorised chat session loader."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from app.db.models import ChatSession
from app.errors import Conflict, NotFound, ServiceUnavailable, Unauthorized
from app.observability.context import bind_session
from app.security.session_tokens import token_from, token_matches
from app.state import Services


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ServiceUnavailable("The service is starting", code="not_ready")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def load_chat_session(services: Services, session_id: uuid.UUID) -> ChatSession | None:
    """The session for authorising a request: through the session manager (L1 cache, store, then SQL)
    when there is one, else from SQL. A store-served session is a detached, read-only ChatSession."""
    if services.sessions is not None:
        return await services.sessions.lookup(session_id)
    return await services.chat.get_session(session_id)


async def get_chat_session(session_id: uuid.UUID, request: Request, services: ServicesDep) -> ChatSession:
    """404 for an unknown session, 401 without its token: one place for every session-scoped route."""
    session = await load_chat_session(services, session_id)
    if session is None:
        raise NotFound("Session not found", code="session_not_found")
    if not token_matches(token_from(request), session.token_hash):
        raise Unauthorized("Missing or invalid session token", code="invalid_session_token")
    bind_session(session.id)
    return session


ChatSessionDep = Annotated[ChatSession, Depends(get_chat_session)]


async def get_active_chat_session(session: ChatSessionDep) -> ChatSession:
    if session.status != "active":
        raise Conflict("Session is closed", code="session_closed")
    return session


ActiveChatSessionDep = Annotated[ChatSession, Depends(get_active_chat_session)]
