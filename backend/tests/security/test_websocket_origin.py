"""A WebSocket handshake from a page of another site is refused; the server's own pages and
non-browser clients (no Origin) connect."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import websockets

from tests.realtime.conftest import LiveServer


async def test_only_allowed_and_same_origin_pages_open_the_socket(data_dir: Path) -> None:
    with LiveServer(data_dir, cors_origins=["https://shop.example"]) as live:
        url = f"{live.ws}?session_id={uuid.uuid4()}"
        for origin in ("https://shop.example", f"http://127.0.0.1:{live.port}", None):
            async with websockets.connect(url, origin=origin) as ws:  # type: ignore[arg-type]
                assert ws.response is not None and ws.response.status_code == 101
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
