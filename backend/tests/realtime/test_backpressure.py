"""Under backpressure text deltas of one reply merge; only a reader that truly stops is cut off."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from app.chat import frames
from app.realtime.connection import CLOSE_SLOW_READER, Connection
from tests.conftest import make_settings


class UnreadSocket:
    """A socket whose sender task never runs: every frame stays queued, as with a reader that lags."""

    async def send_text(self, text: str) -> None:  # pragma: no cover - never reached in these tests
        raise AssertionError("nothing is sent while the reader lags")


def text(message_id: uuid.UUID, delta: str) -> dict[str, Any]:
    return {"type": "text", "message_id": str(message_id), "delta": delta}


async def test_a_long_answer_to_a_lagging_reader_is_merged_not_cut_off(tmp_path: Path) -> None:
    conn = Connection(UnreadSocket(), uuid.uuid4(), make_settings(tmp_path, ws_send_queue_size=8))  # type: ignore[arg-type]
    reply = uuid.uuid4()
    conn.send({"type": "start", "message_id": str(reply)})
    shared = text(reply, "word ")
    for _ in range(2000):  # far more deltas than the queue holds
        conn.send(shared)
    assert conn.close_code is None
    assert [f["type"] for f in conn.queue] == ["start", "text", "text", "text"]
    assert "".join(f["delta"] for f in list(conn.queue)[1:]) == "word " * 2000
    assert shared["delta"] == "word ", "the frame other sockets received is not changed"
    # Another reply's delta, or another kind of frame, is not merged into it.
    conn.send(text(uuid.uuid4(), "other"))
    conn.send(frames.heartbeat())
    assert len(conn.queue) == 6


async def test_a_reader_that_stops_is_still_disconnected(tmp_path: Path) -> None:
    conn = Connection(UnreadSocket(), uuid.uuid4(), make_settings(tmp_path, ws_send_queue_size=8))  # type: ignore[arg-type]
    for _ in range(8):
        conn.send(frames.heartbeat())
    assert conn.close_code is None
    conn.send(frames.heartbeat())
    assert conn.close_code == CLOSE_SLOW_READER
