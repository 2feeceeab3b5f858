"""Server frames are in the OpenAPI document, so the widget's frame types are generated from them."""

from __future__ import annotations

from pathlib import Path

from app.chat.frames import TURN_FRAMES
from app.main import create_app
from tests.conftest import make_settings


def test_every_server_frame_is_in_the_openapi_components(tmp_path: Path) -> None:
    schemas = create_app(make_settings(tmp_path)).openapi()["components"]["schemas"]
    mapping = schemas["ServerFrame"]["discriminator"]["mapping"]
    one_socket = {"connected", "replay", "error", "pong", "heartbeat"}
    assert TURN_FRAMES | one_socket | {"handoff", "agent_typing"} == set(mapping)
    for kind, ref in mapping.items():
        frame = schemas[ref.rsplit("/", 1)[1]]
        # Generated types narrow on `type`, so it must be required, with its one value.
        assert "type" in frame["required"] and frame["properties"]["type"]["const"] == kind
    # Replay carries the REST history shape itself (one converter), escalation included.
    assert schemas["ReplayFrame"]["properties"]["messages"]["items"]["$ref"].endswith("/HistoryMessage")
    assert "escalation" in schemas["HistoryMessage"]["properties"]
    assert set(schemas["MessageRole"]["enum"]) == {"user", "assistant", "agent", "system"}
