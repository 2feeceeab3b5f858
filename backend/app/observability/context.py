"""Per-request context that log lines and error bodies pick up."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
session_hash_var: ContextVar[str | None] = ContextVar("session_hash", default=None)


def bind_session(session_id: object) -> None:
    """Logs carry a short hash of the session id, never the id itself."""
    import hashlib

    session_hash_var.set(hashlib.sha256(str(session_id).encode()).hexdigest()[:12])
