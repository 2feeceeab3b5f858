"""The event bus: every frame of a session reaches every socket of that session, on any instance.

In-process delivery always happens first (a socket on this instance gets the frame at once). With Redis
configured, the frame is also published on the session's channel; the other instances deliver it to
their own sockets and ignore what they published themselves. One publisher task sends frames in the
order they were produced, so a session's frames keep their order across instances.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.chat.frames import Frame
from app.config import Settings

log = logging.getLogger("app.realtime")

Subscriber = Callable[[Frame], None]
OUTBOX_LIMIT = 10_000  # frames waiting for Redis; beyond this they are dropped (sockets resume from SQL)


class InProcessBus:
    """One instance: frames go straight to the subscribers of the session."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subscribers.clear()

    async def subscribe(self, session_id: uuid.UUID | str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(str(session_id), set()).add(subscriber)

    async def unsubscribe(self, session_id: uuid.UUID | str, subscriber: Subscriber) -> None:
        key = str(session_id)
        subscribers = self._subscribers.get(key)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[key]

    def publish(self, session_id: uuid.UUID | str, frame: Frame) -> None:
        """Deliver without waiting; a subscriber never blocks the producer (it queues or drops)."""
        self._deliver(str(session_id), frame)

    def _deliver(self, session_id: str, frame: Frame) -> None:
        for subscriber in list(self._subscribers.get(session_id, ())):
            try:
                subscriber(frame)
            except Exception:  # one broken socket must not stop the others
                log.exception("realtime.subscriber.failed")


class RedisBus(InProcessBus):
    """Several instances: local delivery plus Redis pub/sub on `{prefix}ws:{session_id}`."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        super().__init__()
        self.redis = redis
        self.prefix = f"{prefix}ws:"
        self.instance_id = uuid.uuid4().hex
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(OUTBOX_LIMIT)
        self._pubsub = redis.pubsub()
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        # The pubsub connection is kept subscribed to a control channel so the listener always has one.
        await self._subscribe_channel(f"{self.prefix}_")
        self._tasks = [asyncio.create_task(self._listen(), name="realtime-bus-listen"),
                       asyncio.create_task(self._publish_loop(), name="realtime-bus-publish")]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self._pubsub.aclose()
        except (RedisError, OSError):
            pass
        await super().close()  # the client is the lifespan's to close

    async def subscribe(self, session_id: uuid.UUID | str, subscriber: Subscriber) -> None:
        first = str(session_id) not in self._subscribers
        await super().subscribe(session_id, subscriber)
        if first:
            try:
                await self._subscribe_channel(self.prefix + str(session_id))
            except (RedisError, OSError, TimeoutError) as exc:
                # The socket still gets this instance's frames, and the missed ones on its next resume.
                log.warning("realtime.redis.subscribe_failed", extra={"error_type": type(exc).__name__})

    async def unsubscribe(self, session_id: uuid.UUID | str, subscriber: Subscriber) -> None:
        await super().unsubscribe(session_id, subscriber)
        if str(session_id) not in self._subscribers:
            try:
                await self._pubsub.unsubscribe(self.prefix + str(session_id))
            except (RedisError, OSError) as exc:
                log.warning("realtime.redis.unsubscribe_failed", extra={"error_type": type(exc).__name__})

    def publish(self, session_id: uuid.UUID | str, frame: Frame) -> None:
        super().publish(session_id, frame)
        payload = json.dumps({"o": self.instance_id, "f": frame}, separators=(",", ":"), default=str)
        try:
            self._outbox.put_nowait((self.prefix + str(session_id), payload))
        except asyncio.QueueFull:
            log.warning("realtime.redis.outbox_full", extra={"effect": "frame not sent to other instances"})

    async def _subscribe_channel(self, channel: str) -> None:
        """Subscribe and wait until Redis confirms, so frames published after this are received."""
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmed[channel] = confirmed
        try:
            await self._pubsub.subscribe(channel)
            if self._tasks:  # the listener reads the confirmation
                await asyncio.wait_for(asyncio.shield(confirmed), 2.0)
            else:  # before the listener starts: read it here
                while (message := await self._pubsub.get_message(timeout=2.0)) is not None:
                    if message["type"] == "subscribe":
                        break
        finally:
            self._confirmed.pop(channel, None)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                delay = 0.1
                if message is not None:
                    self._handle(message)
            except (RedisError, OSError) as exc:
                # redis-py reconnects and resubscribes on the next read; back off meanwhile.
                log.warning("realtime.redis.listen_failed", extra={"error_type": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _handle(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        if message["type"] == "subscribe":
            future = self._confirmed.get(channel)
            if future is not None and not future.done():
                future.set_result(None)
            return
        if message["type"] != "message":
            return
        try:
            envelope = json.loads(message["data"])
        except (ValueError, TypeError):
            log.warning("realtime.redis.bad_payload")
            return
        if envelope.get("o") == self.instance_id:
            return
        self._deliver(channel[len(self.prefix):], envelope["f"])

    async def _publish_loop(self) -> None:
        while True:
            channel, payload = await self._outbox.get()
            batch = [(channel, payload)]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for channel, payload in batch:
                        pipe.publish(channel, payload)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("realtime.redis.publish_failed", extra={
                    "error_type": type(exc).__name__, "frames": len(batch),
                    "effect": "other instances miss these frames; their sockets catch up on resume"})


EventBus = InProcessBus


async def start_bus(settings: Settings, redis: Redis | None) -> InProcessBus:
    """Redis pub/sub on the app's client when REALTIME_BUS=redis, or auto with REDIS_URL set; in-process
    otherwise, and also when Redis cannot be reached at start (logged; readiness reports Redis down)."""
    mode = settings.realtime_bus
    if mode == "auto":
        mode = "redis" if redis is not None else "memory"
    if mode == "memory":
        return InProcessBus()
    if redis is None:
        raise ValueError("REALTIME_BUS=redis needs REDIS_URL")
    bus = RedisBus(redis, settings.redis_key_prefix)
    try:
        await bus.start()
    except (RedisError, OSError) as exc:
        # Sockets on this instance still get every frame of turns run here; other instances' frames
        # arrive through replay on reconnect.
        log.error("realtime.redis.unreachable", extra={"error_type": type(exc).__name__,
                                                       "effect": "in-process delivery only until restart"})
        await bus.close()
        return InProcessBus()
    return bus
