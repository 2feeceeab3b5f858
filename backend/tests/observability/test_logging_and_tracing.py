"""JSON log lines carry the request context; tracing is optional and follows route templates."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent import futures
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from app.config import REPO_ROOT, Settings
from app.main import create_app
from app.observability.context import bind_session, request_id_var, session_hash_var
from app.observability.logging import JsonFormatter
from app.observability.tracing import telemetry_config

FORBIDDEN_LABELS = {"session", "session_id", "user", "user_id", "path", "url", "query", "message", "text",
                    "request_id", "ip", "id", "token", "filename", "email"}


def test_no_metric_is_labelled_by_an_unbounded_name() -> None:
    for family in REGISTRY.collect():
        for sample in family.samples:
            assert not set(sample.labels) & FORBIDDEN_LABELS, f"{sample.name} labelled {sample.labels}"
    import app.observability.metrics as metrics

    for name in dir(metrics):
        labelnames = getattr(getattr(metrics, name), "_labelnames", ())
        assert not set(labelnames) & FORBIDDEN_LABELS, f"{name} labelled {labelnames}"


def test_a_log_line_carries_request_id_and_hashed_session() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app.test.logging")
    logger.addHandler(handler)
    logger.propagate = False
    rid = request_id_var.set("req-1")
    sess = session_hash_var.set(None)
    try:
        bind_session("0b6f2c1e-session")
        logger.warning("chat.turn.completed", extra={"sources": 2})
    finally:
        request_id_var.reset(rid)
        session_hash_var.reset(sess)
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["event"] == "chat.turn.completed" and entry["level"] == "warning" and entry["sources"] == 2
    assert entry["request_id"] == "req-1"
    assert entry["session"] == hashlib.sha256(b"0b6f2c1e-session").hexdigest()[:12]
    assert "0b6f2c1e-session" not in stream.getvalue()


def test_log_level_comes_from_settings() -> None:
    code = textwrap.dedent("""
        import logging
        from app.config import Settings
        from app.observability.logging import configure_logging
        configure_logging(Settings(_env_file=None).log_level)
        logging.getLogger("app.x").info("x.info")
        logging.getLogger("app.x").error("x.error")
        logging.getLogger("uvicorn.error").warning("x.uvicorn")
        # A library that sets its own logger to DEBUG (as bm25s does on import) is still held to LOG_LEVEL.
        chatty = logging.getLogger("thirdparty.chatty")
        chatty.setLevel(logging.DEBUG)
        chatty.debug("x.thirdparty.debug")
        chatty.warning("x.thirdparty.warning")
        chatty.error("x.thirdparty.error")
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT / "backend", capture_output=True,
                            text=True, timeout=60, env={**os.environ, "LOG_LEVEL": "ERROR"})
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert events == ["x.error", "x.thirdparty.error"]


def test_app_runs_without_opentelemetry_installed() -> None:
    """OTEL_ENABLED=true but the `otel` extra missing: a warning, tracing off, and the app still serves."""
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, Block())
        import httpx, anyio
        from fastapi import FastAPI
        from app.config import Settings
        from app.observability.logging import configure_logging
        from app.observability.tracing import telemetry_config
        configure_logging("INFO")
        # chromadb needs the SDK itself, so the whole app cannot run without it in this project; the
        # tracing module and FastAPI are what must cope when a deployment leaves the extra out.
        app = FastAPI(telemetry=telemetry_config(Settings(_env_file=None, otel_enabled=True)))
        app.get("/health/liveness")(lambda: {"status": "alive"})
        async def main():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                print((await client.get("/health/liveness")).status_code)
        anyio.run(main)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT / "backend", capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "200"
    events = [json.loads(line)["event"] for line in lines[:-1] if line.startswith("{")]
    assert "otel.unavailable" in events and "otel.enabled" not in events


def test_tracing_is_off_by_default() -> None:
    assert telemetry_config(Settings(_env_file=None)) == {
        "tracing": False, "metrics": False, "logs": False, "operation_spans": False}


class _Collector:
    """A real OTLP/gRPC trace receiver on a free loopback port."""

    def __init__(self) -> None:
        import grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        self.spans: list[Any] = []
        self.received = threading.Event()
        collector = self

        class Service(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method name
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collector.spans.extend(scope.spans)
                collector.received.set()
                return trace_service_pb2.ExportTraceServiceResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


async def test_spans_reach_an_otlp_collector_and_logs_carry_the_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the `otel` extra is not installed")
    pytest.importorskip("grpc", reason="the `otel` extra is not installed")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # export within 50 ms instead of 5 s
    collector = _Collector()
    try:
        app = create_app(Settings(_env_file=None, otel_enabled=True, log_level="INFO",
                                  otel_exporter_otlp_endpoint=f"http://127.0.0.1:{collector.port}"))
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logging.getLogger().addHandler(handler)
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        try:
            # No lifespan: the session route is matched and answers 503 "starting", enough for a span.
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                response = await client.get("/chat/sessions/8d9c3f70-0000-4000-8000-000000000000/history",
                                            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        finally:
            logging.getLogger().removeHandler(handler)
        assert response.status_code == 503
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(s.kind == 2 for s in collector.spans):
            collector.received.wait(0.5)
            collector.received.clear()
        # Stop the batch exporter thread before its collector goes away (FastAPI never shuts it down).
        app._telemetry["tracer_provider"].shutdown()  # type: ignore[attr-defined]
    finally:
        collector.server.stop(0)
    server = [s for s in collector.spans if s.kind == 2]  # SPAN_KIND_SERVER
    assert [s.name for s in server] == ["GET /chat/sessions/{session_id}/history"]
    assert server[0].trace_id.hex() == trace_id  # continued the caller's trace
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    request_lines = [e for e in logged if e["event"] == "http.request"]
    assert request_lines and all(e.get("trace_id") == trace_id for e in request_lines)
