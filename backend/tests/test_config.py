import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import REPO_ROOT, Settings, normalise_database_url


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    ok = Settings(_env_file=None, environment="production", secret_key="x" * 40)  # type: ignore[call-arg]
    assert ok.environment == "production"


def test_lists_accept_commas_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("ALLOWED_ATTACHMENT_TYPES", '["PDF", ".txt"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.allowed_attachment_types == [".pdf", ".txt"]


def test_database_urls_get_async_drivers(tmp_path: Path) -> None:
    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


def test_env_example_documents_every_setting() -> None:
    # The deployment section at the end names docker-compose variables, not settings (tests/deploy checks it).
    text = (REPO_ROOT / ".env.example").read_text().split("# --- deployment")[0]
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from .env.example"
    assert documented - fields == set(), ".env.example names settings that do not exist"


def test_api_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", "k-0123456789abcdef:admin+chat, c-0123456789abcdef:chat")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.api_keys == ["k-0123456789abcdef:admin+chat", "c-0123456789abcdef:chat"]
