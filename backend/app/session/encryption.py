"""Encryption at rest for session payloads: Fernet with MultiFernet rotation.

The first key encrypts; every key decrypts, so a new key is put first and old data stays readable until it
is rewritten (each update re-encrypts with the first key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger("app.session")


class UnreadablePayload(Exception):
    """The payload was written with a key this instance does not have (or was tampered with)."""


def parse_keys(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def validate_keys(keys: list[str]) -> None:
    """Raise ValueError naming the position of any key that is not a Fernet key."""
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"SESSION_ENCRYPTION_KEYS entry {index + 1} is not a Fernet key "
                             "(32 url-safe base64 bytes; make one with "
                             "`python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())'`)") from exc


def derived_development_key(secret_key: str) -> str:
    """A key every development instance with the same SECRET_KEY shares; never random per process."""
    digest = hashlib.sha256(b"session-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


class PayloadCodec:
    """JSON payloads as bytes, encrypted when keys are given."""

    def __init__(self, keys: list[str] | None) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys]) if keys else None

    @property
    def encrypted(self) -> bool:
        return self._fernet is not None

    def encode(self, value: Any) -> bytes:
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return self._fernet.encrypt(raw) if self._fernet else raw

    def decode(self, blob: bytes | str) -> Any:
        if self._fernet is not None:
            try:
                blob = self._fernet.decrypt(blob.encode() if isinstance(blob, str) else blob)
            except InvalidToken as exc:
                raise UnreadablePayload("session payload cannot be decrypted with the configured keys") from exc
        try:
            return json.loads(blob)
        except (ValueError, UnicodeDecodeError) as exc:
            # Encrypted data read without a key lands here too.
            raise UnreadablePayload("session payload is not valid JSON") from exc
