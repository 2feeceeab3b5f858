import httpx
from fastapi import FastAPI


async def test_health_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/")).json()["status"] == "ok"
    assert (await client.get("/health/liveness")).json() == {"status": "alive"}
    ready = await client.get("/health/readiness")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "vector_store": "ok", "embedder": "ok"}
    detailed = (await client.get("/health/detailed")).json()
    assert detailed["status"] == "healthy"
    for name in ("database", "vector_store", "embedder"):
        assert detailed["components"][name]["status"] == "ok"
        assert detailed["components"][name]["latency_ms"] >= 0
    assert detailed["components"]["vector_store"]["chunks"] > 20


async def test_readiness_is_false_when_the_database_is_gone(app_client) -> None:
    app, client = app_client
    await app.state.services.db.engine.dispose()
    db_file = app.state.settings.data_dir / "app.db"
    db_file.unlink()
    response = await client.get("/health/readiness")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"


async def test_request_id_is_kept_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/health/", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/health/", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32
    assert float(made.headers["x-response-time-ms"]) >= 0
    missing = await client.get("/nowhere", headers={"X-Request-ID": "r-1"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "code": "not_found", "request_id": "r-1"}


async def test_unhandled_error_is_json_without_a_trace(app_client) -> None:
    app, client = app_client

    async def boom() -> None:
        raise RuntimeError("secret internals at /etc/passwd")

    app.add_api_route("/boom-test", boom)
    response = await client.get("/boom-test", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal_error", "request_id": "boom-1"}
    assert response.headers["x-request-id"] == "boom-1"
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_metrics_have_seed_names_and_route_templates(client: httpx.AsyncClient, new_session) -> None:
    session = await new_session()
    await session.send("How do I reset my password?")
    await session.send("I need a human agent")
    text = (await client.get("/metrics")).text
    for name in ("chat_messages_total", "chat_message_duration_seconds", "chat_escalations_total",
                 "rag_queries_total", "attachment_processing_total", "active_sessions", "errors_total"):
        assert name in text, name
    assert 'route="/chat/sessions/{session_id}/messages"' in text
    assert session.id not in text


async def test_cors_allows_configured_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    ok = await client.options("/chat/sessions", headers={"Origin": "http://localhost:5173", **preflight})
    assert ok.headers.get("access-control-allow-origin") == "http://localhost:5173"
    denied = await client.options("/chat/sessions", headers={"Origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in denied.headers


async def test_openapi_documents_both_message_bodies(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/chat/sessions/{session_id}/messages"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert (await client.get("/docs")).status_code == 200


def test_app_factory_builds_without_starting(tmp_path) -> None:
    from app.main import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path))
    assert isinstance(app, FastAPI) and app.state.services is None
