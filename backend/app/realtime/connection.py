"""One socket's outgoing side (a bounded send queue drained by one task) and the hub of all sockets.

A producer never waits for a socket: frames are queued without blocking, and a socket whose queue is
full is closed (4413) rather than buffered without limit. A text delta queued behind another delta of
the same reply is merged into it, so a slow phone mid-answer holds one growing frame instead of
hundreds of small ones; only a reader that truly stops fills the queue. One hub task sends heartbeats and closes idle
sockets, instead of a timer per connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import Counter, deque
from typing import Any

from starlette.websockets import WebSocket

from app.chat import frames
from app.chat.frames import TURN_FRAMES, Frame
from app.config import Settings
from app.observability import metrics
from app.realtime.bus import InProcessBus

log = logging.getLogger("app.realtime")

CLOSE_SHUTDOWN = 1001
CLOSE_IDLE = 4408
CLOSE_SLOW_READER = 4413


class TokenBucket:
    """`rate` frames per second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Connection:
    __slots__ = ("id", "ws", "session_id", "queue", "max_queued", "ready", "last_seen", "last_heartbeat",
                 "skip_ids", "live", "held", "closed", "close_code", "pending_turns", "bucket", "rejected")

    def __init__(self, ws: WebSocket, session_id: uuid.UUID, settings: Settings) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.ws = ws
        self.session_id = session_id
        self.queue: deque[Frame] = deque()
        self.max_queued = settings.ws_send_queue_size
        self.ready = asyncio.Event()  # set while the queue has frames for the sender
        self.last_seen = self.last_heartbeat = time.monotonic()
        # Messages already sent in `replay`: their live frames are not sent again.
        self.skip_ids: set[str] = set()
        # Until `connected` and `replay` are queued, live frames wait here (same bound as the queue).
        self.live = False
        self.held: list[Frame] = []
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.pending_turns = 0
        self.bucket = TokenBucket(settings.ws_rate_limit_per_second, settings.ws_rate_limit_burst)
        self.rejected = 0  # frames refused by the rate limit in a row

    def deliver(self, frame: Frame) -> None:
        """A live frame from the bus: queued, held until the socket is live, or dropped as already sent."""
        if self.close_code is not None:
            return
        if frame.get("type") in TURN_FRAMES and frame.get("message_id") in self.skip_ids:
            return
        if not self.live:
            if len(self.held) >= self.max_queued:
                self.close(CLOSE_SLOW_READER)
            else:
                self.held.append(frame)
            return
        self.send(frame)

    def send(self, frame: Frame) -> None:
        """Queue a frame for this socket without waiting; a full queue closes the socket (slow reader)."""
        if self.close_code is not None:
            return
        # Only under backpressure (half the queue waiting): a reader that keeps up gets every delta.
        if frame.get("type") == "text" and len(self.queue) >= max(1, self.max_queued // 2):
            last = self.queue[-1]
            if last.get("type") == "text" and last.get("message_id") == frame.get("message_id"):
                # A copy: the same frame dict is delivered to every socket of the session.
                self.queue[-1] = {**last, "delta": last["delta"] + frame["delta"]}
                return
        if len(self.queue) >= self.max_queued:
            log.warning("realtime.slow_reader.disconnected", extra={"queue_size": self.max_queued})
            self.close(CLOSE_SLOW_READER)
            return
        self.queue.append(frame)
        self.ready.set()

    def go_live(self) -> None:
        self.live = True
        held, self.held = self.held, []
        for frame in held:
            self.deliver(frame)

    def close(self, code: int) -> None:
        """Ask the connection's handler to close the socket with `code` (first code wins)."""
        if self.close_code is None:
            self.close_code = code
            if not self.closed.done():
                self.closed.set_result(code)

    async def run_sender(self) -> None:
        while True:
            while not self.queue:
                self.ready.clear()
                await self.ready.wait()
            frame = self.queue.popleft()
            await self.ws.send_text(json.dumps(frame, separators=(",", ":"), default=str))
            metrics.WEBSOCKET_MESSAGES.labels(direction="out", type=frame["type"]).inc()


class Hub:
    """All sockets of this instance: subscription to the bus, heartbeats, idle timeout, shutdown."""

    def __init__(self, settings: Settings, bus: InProcessBus) -> None:
        self.settings = settings
        self.bus = bus
        self.connections: set[Connection] = set()
        # Close codes this instance chose, for logs and tests (e.g. slow readers).
        self.closes: Counter[int] = Counter()
        self.turns: set[asyncio.Task[Any]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick_loop(), name="realtime-hub")

    async def add(self, conn: Connection) -> None:
        """Subscribe before anything is read from SQL, so no frame falls between replay and live."""
        self.connections.add(conn)
        metrics.WEBSOCKET_CONNECTIONS.inc()
        await self.bus.subscribe(conn.session_id, conn.deliver)

    async def remove(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            metrics.WEBSOCKET_CONNECTIONS.dec()
            await self.bus.unsubscribe(conn.session_id, conn.deliver)

    def spawn_turn(self, coro: Any) -> asyncio.Task[Any]:
        """Turns outlive their socket (the reply is stored and replayed on resume); keep a reference."""
        task = asyncio.create_task(coro)
        self.turns.add(task)
        task.add_done_callback(self.turns.discard)
        return task

    async def _tick_loop(self) -> None:
        heartbeat = self.settings.ws_heartbeat_seconds
        idle = self.settings.ws_idle_timeout_seconds
        tick = max(0.05, min(heartbeat, idle, 5.0) / 5)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for conn in list(self.connections):
                if now - conn.last_seen > idle:
                    conn.close(CLOSE_IDLE)
                elif conn.live and now - conn.last_heartbeat >= heartbeat:
                    conn.last_heartbeat = now
                    conn.send(frames.heartbeat())

    async def close(self) -> None:
        """Shutdown: close every socket with 1001 and let running turns finish (they store replies).

        Turns still running after the grace period are cancelled and awaited: the database is disposed
        right after this returns, and a turn writing to it then would fail half-way. Their questions are
        stored already; a resend of the same client_id answers them after the restart.
        """
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for conn in list(self.connections):
            conn.close(CLOSE_SHUTDOWN)
        if not self.turns:
            return
        _, pending = await asyncio.wait(set(self.turns), timeout=self.settings.session_lock_ttl_seconds)
        if pending:
            for task in pending:
                task.cancel()
            # return_exceptions: the CancelledError (or any late error) of a turn must not abort shutdown.
            await asyncio.gather(*pending, return_exceptions=True)
            log.warning("realtime.shutdown.turns_cancelled",
                        extra={"cancelled": len(pending), "grace_seconds": self.settings.session_lock_ttl_seconds})
