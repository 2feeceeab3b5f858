"""`/ws?session_id=…`: authenticate, replay what was missed, then receive frames and stream turns.

The protocol is written in docs/api.md ("WebSocket /ws"); the close codes and error codes there are
the ones used here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.chat import frames
from app.chat.service import AgentUnavailable, DuplicateMessage
from app.chat.validation import message_problem
from app.db.enums import HUMAN_STATES, SessionStatus
from app.db.models import ChatSession
from app.deps import authorise_session, services_of
from app.errors import AppError, NotFound, ServiceUnavailable, Unauthorized
from app.observability import metrics
from app.realtime.client_frames import (
    AuthFrame,
    FrameError,
    MessageFrame,
    PingFrame,
    TypingFrame,
    parse_client_frame,
)
from app.realtime.connection import Connection
from app.security.rate_limit import RateLimits
from app.state import Services

log = logging.getLogger("app.realtime")
router = APIRouter()

CLOSE_TOO_BIG, CLOSE_ERROR, CLOSE_NOT_READY = 1009, 1011, 1013
CLOSE_UNAUTHORIZED, CLOSE_NOT_FOUND, CLOSE_SESSION_CLOSED, CLOSE_RATE_LIMIT = 4401, 4404, 4409, 4429


class _Close(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def document_frames(app: FastAPI) -> None:
    """Add the server frames to the app's OpenAPI components (FastAPI's documented way to extend it),
    so `npm run gen:api` generates the widget's frame types. REST schemas of the same name win."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            components = build().setdefault("components", {}).setdefault("schemas", {})  # cached by FastAPI
            for name, value in frames.frame_schemas().items():
                components.setdefault(name, value)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@router.websocket("/ws")
async def websocket_chat(ws: WebSocket) -> None:
    await ws.accept()  # close codes reach a browser only after the handshake
    try:
        services = services_of(ws.app)
    except ServiceUnavailable:
        await ws.close(CLOSE_NOT_READY)
        return
    hub = services.realtime
    conn: Connection | None = None
    try:
        session, token, last_message_id = await _authenticate(ws, services)
        conn = Connection(ws, session.id, services.settings)
        await hub.add(conn)
        await _greet(conn, services, last_message_id)
        await _serve(conn, services, session, token)
        code = conn.close_code or 1000
    except _Close as exc:
        code = exc.code
    except WebSocketDisconnect:
        code = 0
    except Exception:
        log.exception("realtime.connection.failed")
        code = CLOSE_ERROR
    finally:
        if conn is not None:
            await hub.remove(conn)
    if code:
        hub.closes[code] += 1
        if ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                # A slow reader may never take the close frame; do not wait for it forever.
                await asyncio.wait_for(ws.close(code), 2.0)


async def _authenticate(ws: WebSocket, services: Services) -> tuple[ChatSession, str, uuid.UUID | None]:
    """The token from the query string or a first `auth` frame, checked by the same gate as REST."""
    params = ws.query_params
    try:
        session_id = uuid.UUID(params.get("session_id", ""))
    except ValueError:
        raise _Close(CLOSE_NOT_FOUND) from None
    token = params.get("token")
    last: uuid.UUID | None = None
    if params.get("last_message_id"):
        try:
            last = uuid.UUID(params["last_message_id"])
        except ValueError:
            last = uuid.UUID(int=0)  # matches no message: the client is told `unknown_message_id`
    if not token:
        if await services.sessions.lookup(session_id) is None:
            raise _Close(CLOSE_NOT_FOUND)  # an unknown session is told so before it is asked for a token
        try:
            text = await asyncio.wait_for(ws.receive_text(), services.settings.ws_auth_timeout_seconds)
            frame = parse_client_frame(text)
        except (TimeoutError, FrameError, KeyError):
            raise _Close(CLOSE_UNAUTHORIZED) from None
        if not isinstance(frame, AuthFrame):
            raise _Close(CLOSE_UNAUTHORIZED)
        token, last = frame.token, frame.last_message_id or last
    try:
        session = await authorise_session(services, session_id, token)
    except NotFound:
        raise _Close(CLOSE_NOT_FOUND) from None
    except Unauthorized:
        raise _Close(CLOSE_UNAUTHORIZED) from None
    if session.status != SessionStatus.ACTIVE:
        raise _Close(CLOSE_SESSION_CLOSED)
    return session, token, last


async def _greet(conn: Connection, services: Services, last_message_id: uuid.UUID | None) -> None:
    """`connected`, then `replay` of what was missed; live frames that arrived meanwhile follow."""
    settings, repo = services.settings, services.chat.repo
    newest = await repo.newest_id(conn.session_id)
    replay = None
    if last_message_id is not None:
        replay = await repo.after(conn.session_id, last_message_id, settings.ws_replay_limit + 1)
    conn.send(frames.connected(conn.session_id, conn.id, newest, settings.ws_heartbeat_seconds,
                               settings.ws_idle_timeout_seconds, settings.ws_max_frame_bytes))
    if last_message_id is not None and replay is None:
        conn.send(frames.error("unknown_message_id", "last_message_id is not a message of this session"))
    elif replay is not None:
        has_more = len(replay) > settings.ws_replay_limit
        replay = replay[:settings.ws_replay_limit]
        conn.skip_ids.update(str(m.id) for m in replay)
        conn.send(frames.replay(replay, has_more))
    conn.go_live()


async def _serve(conn: Connection, services: Services, session: ChatSession, token: str) -> None:
    """Send and receive until the client leaves or the connection is told to close."""
    sender = asyncio.create_task(conn.run_sender())
    receiver = asyncio.create_task(_receive(conn, services, session, token))
    waits: set[asyncio.Future[Any]] = {sender, receiver, conn.closed}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
    for future in done:
        if future is not conn.closed:
            future.result()  # re-raise a disconnect or an error; a normal end closes below


async def _receive(conn: Connection, services: Services, session: ChatSession, token: str) -> None:
    settings = services.settings
    limits: RateLimits | None = getattr(conn.ws.app.state, "rate_limits", None)
    client = conn.ws.client.host if conn.ws.client else "unknown"
    while True:
        message = await conn.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        conn.last_seen = time.monotonic()
        text = message.get("text")
        size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
        if size > settings.ws_max_frame_bytes:
            raise _Close(CLOSE_TOO_BIG)
        if not conn.bucket.take():
            conn.rejected += 1
            if conn.rejected > settings.ws_rate_limit_burst:
                raise _Close(CLOSE_RATE_LIMIT)
            if conn.rejected == 1:
                # Once per streak: a flood must not turn into a flood of error frames (which would fill a
                # slow client's send queue and close it as a slow reader instead of a flooder).
                conn.send(frames.error("rate_limited", "Too many frames; slow down"))
            metrics.WEBSOCKET_MESSAGES.labels(direction="in", type="rate_limited").inc()
            continue
        conn.rejected = 0
        try:
            if text is None:
                raise FrameError("malformed_json", "Binary frames are not supported; send JSON text")
            frame = parse_client_frame(text)
        except FrameError as exc:
            metrics.WEBSOCKET_MESSAGES.labels(direction="in", type="invalid").inc()
            conn.send(frames.error(exc.code, exc.detail))
            continue
        metrics.WEBSOCKET_MESSAGES.labels(direction="in", type=frame.type).inc()
        if isinstance(frame, PingFrame):
            conn.send(frames.pong())
        elif isinstance(frame, MessageFrame):
            # Counted with REST messages (RATE_LIMIT_MESSAGES, per client and per session): refused with
            # an error frame, nothing stored; the socket stays open.
            retry_after = await limits.message_over_limit(client, str(session.id), token) if limits else None
            if retry_after is not None:
                conn.send(frames.error("rate_limited", f"Too many messages; retry in {retry_after} s",
                                       client_id=frame.client_id))
            else:
                _start_turn(conn, services, session, frame)
        elif isinstance(frame, AuthFrame):
            conn.send(frames.error("unknown_frame_type", "Already authenticated"))
        elif isinstance(frame, TypingFrame):
            # Shown to the person handling the conversation, if one is; otherwise it only keeps the socket alive.
            await services.staff.handoff.customer_typing(session.id, frame.typing)


def _start_turn(conn: Connection, services: Services, session: ChatSession, frame: MessageFrame) -> None:
    settings = services.settings
    content = frame.content.strip()
    problem = message_problem(content, settings)
    if problem is None and len(frame.attachment_ids) > settings.max_attachments_per_message:
        problem = ("too_many_attachments", f"At most {settings.max_attachments_per_message} attachments per message")
    if problem is None and conn.pending_turns >= settings.ws_max_pending_turns:
        problem = ("too_many_pending", f"At most {settings.ws_max_pending_turns} unfinished messages per socket")
    if problem is not None:
        conn.send(frames.error(*problem, client_id=frame.client_id))
        return
    conn.pending_turns += 1
    services.realtime.spawn_turn(_run_turn(conn, services, session, content, frame))


async def _run_turn(conn: Connection, services: Services, session: ChatSession, content: str,
                    frame: MessageFrame) -> None:
    try:
        await services.chat.handle_turn(session, content, [], channel="websocket", client_id=frame.client_id,
                                        attachment_ids=frame.attachment_ids)
    except DuplicateMessage as dup:
        conn.send(frames.ack(dup.user_message, dup.attachments, duplicate=True))
        if dup.reply is not None:
            conn.send(frames.complete(dup.reply, dup.user_message.id))
        elif dup.handoff_state not in HUMAN_STATES:  # like REST's 409: no one will answer it, say so
            conn.send(frames.error("message_superseded", "This message was stored, but the conversation moved on "
                                   "before it was answered; send it again with a new client_id",
                                   client_id=frame.client_id, reply_to=dup.user_message.id))
    except AgentUnavailable:
        pass  # its error frame was published to every socket of the session already
    except AppError as exc:
        conn.send(frames.error(exc.code, exc.detail, client_id=frame.client_id))
        if exc.code == "session_closed":
            conn.close(CLOSE_SESSION_CLOSED)
    except Exception:
        log.exception("realtime.turn.failed")
        conn.send(frames.error("internal_error", "The message could not be processed", client_id=frame.client_id))
    finally:
        conn.pending_turns -= 1

