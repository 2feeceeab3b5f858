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

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds", "HTTP request duration", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
