"""Every Prometheus metric of the service, in one place.

Names follow seed 003. Labels only ever take values from small fixed sets (route templates, roles,
outcomes, reasons); never a session id, a raw path or user text.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CHAT_MESSAGES = Counter("chat_messages_total", "Chat messages stored, by role and channel", ["role", "channel"])
CHAT_MESSAGE_DURATION = Histogram(
    "chat_message_duration_seconds", "Time to process one user message into a reply", ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CHAT_ESCALATIONS = Counter("chat_escalations_total", "Conversations handed to a human", ["reason"])
RAG_QUERIES = Counter("rag_queries_total", "Knowledge-base searches", ["outcome"])
RAG_QUERY_DURATION = Histogram(
    "rag_query_duration_seconds", "Knowledge-base search time (embed + vector search)",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
ATTACHMENT_PROCESSING = Counter("attachment_processing_total", "Attachments received", ["status"])
ACTIVE_SESSIONS = Gauge("active_sessions", "Chat sessions that are open", multiprocess_mode="livemax")
ERRORS = Counter("errors_total", "Errors returned or raised, by type", ["type"])
SESSIONS_CREATED = Counter("chat_sessions_created_total", "Chat sessions created")
KB_DOCUMENTS_INGESTED = Counter("kb_ingest_documents_total", "Documents seen by ingestion", ["status"])
KB_CHUNKS_INGESTED = Counter("kb_ingest_chunks_total", "Chunks written to the vector store")

RATE_LIMIT_REJECTIONS = Counter("rate_limit_rejections_total", "Requests refused with 429 by the rate limiter",
                                ["route", "kind"])
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds", "HTTP request duration", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# --- agent, tools and LLM (used by the tools framework and the LLM providers) -----------------
TOOL_CALLS = Counter("tool_calls_total", "Tool calls, by tool and outcome", ["tool", "status"])
TOOL_CALL_DURATION = Histogram(
    "tool_call_duration_seconds", "Tool call duration", ["tool"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CIRCUIT_BREAKER_STATE = Gauge(
    "circuit_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open", ["breaker"],
    multiprocess_mode="livemax",
)
LLM_REQUESTS = Counter("llm_requests_total", "LLM requests, by provider and outcome", ["provider", "status"])
LLM_REQUEST_DURATION = Histogram(
    "llm_request_duration_seconds", "LLM request duration", ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LLM_TOKENS = Counter("llm_tokens_total", "LLM tokens used, by provider and kind (prompt/completion)",
                     ["provider", "kind"])

# --- knowledge base -----------------------------------------------------------------------------
RAG_CACHE_HITS = Counter("rag_cache_hits_total", "Knowledge-base query cache hits", ["backend"])
RAG_CACHE_MISSES = Counter("rag_cache_misses_total", "Knowledge-base query cache misses", ["backend"])
BATCH_SIZE = Histogram("batch_size", "Items per micro-batch (concurrent callers served by one call)", ["batcher"],
                       buckets=(1, 2, 4, 8, 16, 32, 64))
BATCH_QUEUE_SECONDS = Histogram(
    "batch_queue_seconds", "Time an item waited for its micro-batch to start", ["batcher"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)

# --- sessions and real time ---------------------------------------------------------------------
SESSION_CACHE_HITS = Counter("session_cache_hits_total", "Session L1 cache hits")
SESSION_CACHE_MISSES = Counter("session_cache_misses_total", "Session L1 cache misses")
WEBSOCKET_CONNECTIONS = Gauge("websocket_connections", "Open WebSocket connections", multiprocess_mode="livesum")
WEBSOCKET_MESSAGES = Counter("websocket_messages_total", "WebSocket frames, by direction and type",
                             ["direction", "type"])

# --- dependencies (set by the background health probe, app/observability/probes.py) ------------
# livemin: with several workers, one worker that cannot reach a dependency is enough to show it down.
DEPENDENCY_UP = Gauge("dependency_up", "1 when the dependency answered its last health check, else 0",
                      ["dependency"], multiprocess_mode="livemin")
DEPENDENCY_CHECK_SECONDS = Gauge("dependency_check_seconds", "Duration of the last health check of the dependency",
                                 ["dependency"], multiprocess_mode="livemax")

# --- human handoff (app/staff) ------------------------------------------------------------------
HANDOFFS = Counter("handoffs_total", "Conversations handed to the staff queue, by reason", ["reason"])
HANDOFF_TRANSITIONS = Counter("handoff_transitions_total", "Handoff state changes", ["from_state", "to_state"])
HANDOFF_FIRST_RESPONSE = Histogram(
    "handoff_first_response_seconds", "From the handoff to the first public reply of a human",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
# Read from SQL by every instance (the same value): dashboards take max().
HANDOFF_WAITING = Gauge("handoff_waiting_conversations", "Conversations waiting for a human",
                        multiprocess_mode="livemax")
HANDOFF_OLDEST_WAITING = Gauge("handoff_oldest_waiting_seconds",
                               "How long the longest-waiting conversation has waited (0 when none)",
                               multiprocess_mode="livemax")
CSAT_RATINGS = Counter("csat_ratings_total", "Customer satisfaction ratings after a resolved handoff", ["score"])
STAFF_LOGINS = Counter("staff_logins_total", "Staff login attempts, by outcome", ["outcome"])
WEBHOOK_DELIVERIES = Counter("webhook_deliveries_total", "Outbound webhook delivery attempts, by outcome",
                             ["outcome"])
CSAT_SCORE = Histogram("csat_score", "Customer satisfaction scores (1-5)", buckets=(1, 2, 3, 4, 5))
