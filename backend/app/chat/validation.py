"""The rules for a customer's message text, shared by the REST and WebSocket paths."""

from __future__ import annotations

from app.config import Settings


def message_problem(text: str, settings: Settings) -> tuple[str, str] | None:
    """(code, detail) of what is wrong with an already stripped message, or None when it is fine."""
    if not text:
        return "message_empty", "message must not be empty"
    if len(text) > settings.max_message_chars:
        return "message_too_long", f"message is longer than {settings.max_message_chars} characters"
    if "\x00" in text:  # PostgreSQL text columns refuse NUL; no customer types one
        return "message_invalid", "message must not contain NUL characters"
    return None
