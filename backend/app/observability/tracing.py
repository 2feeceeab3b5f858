"""Optional OpenTelemetry tracing through FastAPI's native telemetry, exported over OTLP/gRPC.

Off by default (OTEL_ENABLED=false): FastAPI's own spans, metrics and logs are switched off, so nothing
is recorded twice (Prometheus and the JSON logs already cover metrics and logs). When on, FastAPI opens
one server span per request, named after the route template and continuing an incoming `traceparent`,
with child spans for dependencies, the endpoint and serialization; every JSON log line written inside a
request carries its `trace_id`. The SDK and the exporter come from the `otel` extra
(`pip install -e 'backend[otel]'`); without them the app logs `otel.unavailable` and runs untraced.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.telemetry import TelemetryConfig

from app.config import Settings

log = logging.getLogger("app.tracing")

_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def telemetry_config(settings: Settings) -> TelemetryConfig:
    """The `telemetry=` argument of FastAPI(): everything off, or tracing into our own OTLP provider."""
    if not settings.otel_enabled:
        return TelemetryConfig(**_OFF)
    provider = build_tracer_provider(settings)
    if provider is None:
        return TelemetryConfig(**_OFF)
    log.info("otel.enabled", extra={"service_name": settings.otel_service_name,
                                    "endpoint": settings.otel_exporter_otlp_endpoint or "default"})
    # Request spans only: metrics stay with Prometheus, and FastAPI's exception logs could carry user input.
    return TelemetryConfig(tracing=True, operation_spans=True, metrics=False, logs=False, tracer_provider=provider)


def build_tracer_provider(settings: Settings) -> Any | None:
    """An SDK TracerProvider batching spans to OTLP/gRPC; None when the `otel` extra is missing."""
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning("otel.unavailable", extra={"missing": exc.name, "hint": "pip install -e 'backend[otel]'"})
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    endpoint = settings.otel_exporter_otlp_endpoint or None  # None: OTEL_EXPORTER_OTLP_ENDPOINT or localhost
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True)))
    return provider


def current_trace_id() -> str | None:
    """The trace id of the span in progress, for log lines; None outside a traced request."""
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
