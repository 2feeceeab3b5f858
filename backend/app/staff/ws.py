"""Staff WebSocket `/staff/ws`: live queue and conversation events for the console, typing both ways.

Authenticate with `?token=<staff JWT>` or a first frame `{"type": "auth", "token": ...}`. Every staff
socket of every instance hears the staff channel of the event bus (Redis pub/sub when configured).
Client frames: `typing` `{session_id, typing}` (shown to the customer as `agent_typing`), `ping`.
The account is checked again on every client frame and heartbeat: a disabled user is cut off (4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.chat import frames as chat_frames
from app.db.models import StaffUser
from app.errors import AppError
from app.staff import frames
from app.staff.deps import staff_from_token
from app.staff.enums import HUMAN_STATES, StaffRole
from app.state import Services

log = logging.getLogger("app.staff.ws")
router = APIRouter()
CLOSE_UNAUTHORISED = 4401
CLOSE_SLOW_READER = 4413


async def _authenticate(ws: WebSocket, services: Services) -> StaffUser | None:
    token = ws.query_params.get("token")
    if not token:
        try:
            raw = await asyncio.wait_for(ws.receive_text(), services.settings.ws_auth_timeout_seconds)
            first = json.loads(raw)
            token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" else None
        except (TimeoutError, ValueError, WebSocketDisconnect):
            token = None
    try:
        return await staff_from_token(services, token if isinstance(token, str) else None)
    except AppError:
        return None


@router.websocket("/staff/ws")
async def staff_socket(ws: WebSocket) -> None:
    services: Services | None = getattr(ws.app.state, "services", None)
    await ws.accept()
    if services is None:
        await ws.close(1013)
        return
    user = await _authenticate(ws, services)
    if user is None:
        await ws.send_json({"type": "error", "code": "invalid_staff_token", "detail": "Log in as staff first"})
        await ws.close(CLOSE_UNAUTHORISED)
        return
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(services.settings.ws_send_queue_size)
    overflow = asyncio.Event()

    def deliver(frame: dict[str, Any]) -> None:
        try:
            outbox.put_nowait(frame)
        except asyncio.QueueFull:
            overflow.set()  # a console that stopped reading; it reloads the queue on reconnect

    bus = services.realtime.bus
    await bus.subscribe(frames.STAFF_CHANNEL, deliver)
    sender = asyncio.create_task(_send(ws, outbox, overflow))
    try:
        await ws.send_json({"type": "connected", "staff": {"id": str(user.id), "name": user.name,
                                                          "role": user.role}})
        await _receive(ws, services, user)
    except WebSocketDisconnect:
        pass
    finally:
        await bus.unsubscribe(frames.STAFF_CHANNEL, deliver)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _send(ws: WebSocket, outbox: asyncio.Queue[dict[str, Any]], overflow: asyncio.Event) -> None:
    while True:
        if overflow.is_set():
            await ws.close(CLOSE_SLOW_READER)
            return
        frame = await outbox.get()
        await ws.send_json(frame)


async def _receive(ws: WebSocket, services: Services, user: StaffUser) -> None:
    heartbeat = services.settings.ws_heartbeat_seconds
    while True:
        try:
            raw = await asyncio.wait_for(ws.receive_text(), heartbeat)
        except TimeoutError:
            raw = None
        current = await services.staff.users.get(user.id)
        if current is None or not current.active:
            await ws.close(CLOSE_UNAUTHORISED)
            return
        if raw is None:
            await ws.send_json({"type": "heartbeat"})
            continue
        if len(raw) > 4096:
            await ws.close(1009)
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            await ws.send_json({"type": "error", "code": "malformed_json", "detail": "The frame is not JSON"})
            continue
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            await ws.send_json({"type": "pong"})
        elif kind == "typing":
            await _typing(services, current, frame)
        else:
            await ws.send_json({"type": "error", "code": "unknown_frame_type",
                                "detail": "Expected one of: ping, typing"})


async def _typing(services: Services, user: StaffUser, frame: dict[str, Any]) -> None:
    try:
        session_id = uuid.UUID(str(frame.get("session_id")))
    except ValueError:
        return
    async with services.db.sessionmaker() as s:
        from app.db.models import ChatSession

        session = await s.get(ChatSession, session_id)
    if session is None or session.handoff_state not in HUMAN_STATES:
        return
    if session.assignee_id not in (None, user.id) and user.role != StaffRole.ADMIN:
        return
    typing = frame.get("typing", True) is not False
    services.realtime.bus.publish(session_id, chat_frames.agent_typing(user.name, typing))
    services.realtime.bus.publish(frames.STAFF_CHANNEL, frames.staff_event("typing", session_id, who="agent",
                                                                 author={"name": user.name}, typing=typing))
