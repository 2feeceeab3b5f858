"""The frames a WebSocket client sends (docs/api.md, "WebSocket /ws"), parsed and validated.

Server frames belong to the turn protocol and are built in app/chat/frames.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.chat.schemas import CLIENT_ID_MAX_LENGTH, CLIENT_ID_PATTERN
from app.security.input_guard import clean_text_escapes


class _ClientFrame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AuthFrame(_ClientFrame):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=512)
    last_message_id: uuid.UUID | None = None


class MessageFrame(_ClientFrame):
    type: Literal["message"]
    content: str = Field(max_length=1_000_000)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    client_id: str | None = Field(default=None, min_length=1, max_length=CLIENT_ID_MAX_LENGTH,
                                  pattern=CLIENT_ID_PATTERN)


class TypingFrame(_ClientFrame):
    type: Literal["typing"]
    typing: bool = True  # false when the customer stopped typing


class PingFrame(_ClientFrame):
    type: Literal["ping"]


ClientFrame = AuthFrame | MessageFrame | TypingFrame | PingFrame
_CLIENT_FRAME = TypeAdapter(Annotated[ClientFrame, Field(discriminator="type")])
CLIENT_TYPES = frozenset({"auth", "message", "typing", "ping"})


class FrameError(Exception):
    """A client frame that cannot be used; becomes an `error` frame, the socket stays open."""

    def __init__(self, code: str, detail: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_client_frame(text: str) -> ClientFrame:
    raw_bytes = text.encode()
    if clean_text_escapes(raw_bytes) is not raw_bytes:  # NUL or unpaired surrogate: unstorable, as in REST
        raise FrameError("invalid_characters", "Text may not contain NUL characters or unpaired surrogates")
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise FrameError("malformed_json", "The frame is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise FrameError("malformed_json", "The frame must be a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise FrameError("unknown_frame_type", f"Unknown frame type {str(kind)[:40]!r}; expected one of "
                                               + ", ".join(sorted(CLIENT_TYPES)))
    try:
        return _CLIENT_FRAME.validate_python(raw)
    except ValidationError as exc:
        raise FrameError("invalid_frame", [{"loc": list(e["loc"])[1:], "msg": e["msg"], "type": e["type"]}
                                           for e in exc.errors()]) from exc

