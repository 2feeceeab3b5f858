"""End to end: the real backend scraped by a real Prometheus. Every dashboard panel and every alert is
asked of Prometheus's HTTP API after real traffic: each must parse, and every panel must show data."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.main import create_app
from tests.agents.openai_server import Step
from tests.conftest import service_missing
from tests.observability.monitoring_files import Query, alert_queries, dashboard_queries
from tests.observability.stack import Backend, FakeLLM, Prometheus
from tests.observability.traffic import Traffic

STAFF_LOGIN = ("ops@example.com", "ops-password-1")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

Series = frozenset[tuple[str, tuple[tuple[str, str], ...]]]


@dataclass
class Stack:
    backend: Backend
    prometheus: Prometheus
    traffic: Traffic
    series_first: Series
    series_later: Series
    exposition: str
    traced_request_id: str
    traced_session_id: str
    model_requests: list[dict[str, Any]]


def scrape(client: httpx.Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.text


def series_of(text: str) -> Series:
    return frozenset((s.name, tuple(sorted(s.labels.items())))
                     for family in text_string_to_metric_families(text) for s in family.samples)


def total(text: str, name: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run's own on the real Redis; its keys are deleted afterwards."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        service_missing("redis", f"{TEST_REDIS_URL}: {type(exc).__name__}")
    prefix = f"test:obs-e2e:{uuid.uuid4().hex[:10]}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_prefix: str) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("observability-e2e")
    llm = FakeLLM()
    llm.start()
    # The production shape: the OpenAI-compatible provider (fed by the fake model server, which reports
    # token usage) and Redis sessions with their L1 cache.
    backend = Backend(root, LLM_PROVIDER="openai", OPENAI_BASE_URL=llm.url, OPENAI_API_KEY="test-key",
                      OPENAI_MAX_RETRIES="0", SESSION_STORE="redis", REDIS_URL=TEST_REDIS_URL,
                      REDIS_KEY_PREFIX=redis_prefix, SESSION_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                      FIRST_SUPERUSER=STAFF_LOGIN[0], FIRST_SUPERUSER_PASSWORD=STAFF_LOGIN[1])
    prometheus = Prometheus(root, backend.url)
    try:
        backend.start()
        prometheus.start()
        with httpx.Client(base_url=backend.url, timeout=60) as client:
            traffic = Traffic(client, staff_login=STAFF_LOGIN)
            # First round: creates every series. Prometheus must see it before the second round, so
            # that rates over the window are not all zero.
            traffic.conversation()
            # The model endpoint fails once: the built-in responder answers (degraded) and both show up.
            session_id, headers = traffic.session()
            llm.server.script.append(Step(status=503))
            degraded = traffic.send(session_id, headers, "How do I reset my password?")
            assert degraded.status_code == 200 and degraded.json()["degraded"] is True, degraded.text
            traffic.mistakes()
            traffic.mistakes()
            prometheus.wait_for("sum(chat_messages_total)", total(scrape(client), "chat_messages_total"))
            first = scrape(client)  # after Prometheus's own scrapes, so /metrics has its series too
            # Second round: the same kinds of requests from new customers and new unknown paths.
            traffic.conversation()
            for _ in range(4):
                traffic.mistakes()
            session_id, headers = traffic.session()
            request_id = f"obs-{uuid.uuid4().hex}"
            reply = traffic.send(session_id, headers, "How do I return a tent?", request_id=request_id)
            assert reply.status_code == 200
            later = scrape(client)
            prometheus.wait_for("sum(chat_messages_total)", total(later, "chat_messages_total"))
            yield Stack(backend, prometheus, traffic, series_of(first), series_of(later), later,
                        request_id, session_id, list(llm.server.requests))
    finally:
        prometheus.stop()
        backend.stop()
        llm.stop()


def test_prometheus_scrapes_the_backend(stack: Stack) -> None:
    assert stack.prometheus.value('up{job="support-backend"}') == 1


def test_alert_rules_load_and_evaluate(stack: Stack) -> None:
    deadline = time.monotonic() + 30
    while True:
        groups = httpx.get(f"{stack.prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if rules and all(rule["health"] == "ok" for rule in rules) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert {rule["name"] for rule in rules} == {q.source.removeprefix("alert ") for q in alert_queries()}
    assert [r["name"] for r in rules if r["health"] != "ok"] == [], [r.get("lastError") for r in rules]
    # Healthy traffic with a few client errors must not page anyone.
    assert [r["name"] for r in rules if r["state"] == "firing"] == []


@pytest.mark.parametrize("query", alert_queries(), ids=lambda q: q.source)
def test_alert_expression_parses(stack: Stack, query: Query) -> None:
    answer = stack.prometheus.query(query.expr)
    assert answer["status"] == "success", answer.get("error")


@pytest.mark.parametrize("query", dashboard_queries(), ids=lambda q: q.source)
def test_dashboard_panel_returns_data(stack: Stack, query: Query) -> None:
    answer = stack.prometheus.query(query.expr)
    assert answer["status"] == "success", f"{query.source}: {answer.get('error')}"
    values = [float(item["value"][1]) for item in answer["data"]["result"]]
    assert values, f"{query.source}: no data for {query.expr}"
    assert any(not math.isnan(v) for v in values), f"{query.source}: only NaN for {query.expr}"


def test_llm_and_session_cache_series_come_from_the_real_code_paths(stack: Stack) -> None:
    """The LLM panels are fed by the OpenAI provider talking to a model server, the cache panels by Redis."""
    def value(name: str, **labels: str) -> float:
        return sum(s.value for f in text_string_to_metric_families(stack.exposition) for s in f.samples
                   if s.name == name and labels.items() <= s.labels.items())

    assert stack.model_requests and all(r.get("stream") for r in stack.model_requests)
    assert value("llm_requests_total", provider="openai", status="ok") == len(stack.model_requests) - 1
    assert value("llm_requests_total", provider="openai", status="error") == 1  # the scripted 503
    assert value("llm_requests_total", provider="local", status="ok") == 1  # its failover answer
    assert value("llm_tokens_total", provider="openai", kind="prompt") > 0
    assert value("llm_tokens_total", provider="openai", kind="completion") > 0
    # Only the Redis store has an L1 cache. Authorising each request and each turn read it, and a turn's
    # own writes keep it warm, so a conversation is mostly hits; unknown session ids are misses.
    hits, misses = value("session_cache_hits_total"), value("session_cache_misses_total")
    assert hits > misses > 0
    share = stack.prometheus.value("sum(session_cache_hits_total) / (sum(session_cache_hits_total)"
                                   " + sum(session_cache_misses_total))")
    assert share is not None and share > 0.5  # what the "Session cache hit share" panel shows, over all time


def test_metric_labels_are_bounded(stack: Stack) -> None:
    """More customers and more unknown URLs must not create more series, and no label holds an id or path."""
    assert stack.series_later == stack.series_first, (
        f"series appeared with new sessions/paths: {sorted(stack.series_later - stack.series_first)[:10]}")
    app = create_app(Settings(_env_file=None))
    routes = set(app.openapi()["paths"]) | {getattr(r, "path", "") for r in app.routes} | {"unmatched"}
    secrets = [*stack.traffic.session_ids, *stack.traffic.user_ids, *stack.traffic.tokens,
               *stack.traffic.bogus_paths, "no-such-page"]
    id_like = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9a-f]{16,}", re.I)
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name, labels in stack.series_later:
        for label, value in labels:
            values[(name, label)].add(value)
            where = f"{name}{{{label}={value!r}}}"
            assert not id_like.search(value), f"id-like label value {where}"
            assert not any(secret in value for secret in secrets), f"user-supplied value in {where}"
            if label == "route":
                assert value in routes, f"{where} is not a route template"
    for (name, label), seen in values.items():
        if label not in ("route", "le"):
            assert len(seen) <= 25, f"{name}.{label} has {len(seen)} values: {sorted(seen)}"


def test_logs_are_json_with_request_and_session_bound(stack: Stack) -> None:
    text = Path(stack.backend.stdout).read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert entries and all({"ts", "level", "logger", "event"} <= e.keys() for e in entries)
    assert all(e.get("request_id") for e in entries if e["event"] == "http.request")
    turn = [e for e in entries if e.get("request_id") == stack.traced_request_id]
    assert {"chat.turn.completed", "http.request"} <= {e["event"] for e in turn}, turn
    expected = hashlib.sha256(stack.traced_session_id.encode()).hexdigest()[:12]
    assert all(e.get("session") == expected for e in turn), turn
    # The hash only: no session id, token or user id is ever written out.
    leaked = [s for s in (*stack.traffic.session_ids, *stack.traffic.tokens, *stack.traffic.user_ids) if s in text]
    assert leaked == []
    assert not any(e["level"] == "debug" for e in entries), "LOG_LEVEL=INFO must drop debug lines"
