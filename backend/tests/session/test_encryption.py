"""Payload encryption and the settings that guard it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.config import Settings
from app.session.encryption import PayloadCodec, UnreadablePayload, derived_development_key


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_round_trip_rotation_and_wrong_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    blob = PayloadCodec([old]).encode({"name": "Zoë Customer-Secret", "n": [1, 2]})
    # A long plaintext: any two letters turn up in random base64 now and then (this test once failed
    # on b"Zo" by chance); 15 characters in a row do not.
    assert b"Customer-Secret" not in blob
    assert PayloadCodec([old]).decode(blob) == {"name": "Zoë Customer-Secret", "n": [1, 2]}
    assert PayloadCodec([new, old]).decode(blob) == {"name": "Zoë Customer-Secret", "n": [1, 2]}
    rotated = PayloadCodec([new, old]).encode({"n": 1})
    assert PayloadCodec([new]).decode(rotated) == {"n": 1}
    with pytest.raises(UnreadablePayload):
        PayloadCodec([new]).decode(blob)
    with pytest.raises(UnreadablePayload):
        PayloadCodec(None).decode(blob)  # encrypted data read by an instance without encryption


def test_the_development_key_is_shared_not_random() -> None:
    assert derived_development_key("s3cret") == derived_development_key("s3cret")
    assert derived_development_key("s3cret") != derived_development_key("other")
    PayloadCodec([derived_development_key("s3cret")])  # a valid Fernet key


def test_production_with_redis_refuses_to_start_without_a_key() -> None:
    base = {"environment": "production", "secret_key": "x" * 40, "session_store": "redis",
            "redis_url": "redis://127.0.0.1:6379/0"}
    with pytest.raises(ValidationError, match="SESSION_ENCRYPTION_KEYS"):
        settings(**base)
    key = Fernet.generate_key().decode()
    assert settings(**base, session_encryption_keys=key).session_encryption_keys == key
    assert not settings(**base, session_encryption=False).session_encryption
    assert settings(environment="development", session_store="redis", redis_url="redis://h:1/0")


def test_bad_keys_and_missing_redis_url_are_refused() -> None:
    with pytest.raises(ValidationError, match="entry 2 is not a Fernet key"):
        settings(session_encryption_keys=f"{Fernet.generate_key().decode()},not-a-key")
    with pytest.raises(ValidationError, match="REDIS_URL"):
        settings(session_store="redis", redis_url="")
