"""The built-in responder is counted as an LLM provider, so the LLM panels show who answered."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from tests.conftest import make_settings, running_app


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_local_provider_answers_are_counted_without_tokens(data_dir: Path) -> None:
    before = (_value("llm_requests_total", provider="local", status="ok"),
              _value("llm_request_duration_seconds_count", provider="local"))
    tokens = sum(_value("llm_tokens_total", provider=p, kind=k) for p in ("local", "openai")
                 for k in ("prompt", "completion"))
    async with running_app(make_settings(data_dir)) as (_, client):
        body = (await client.post("/chat/sessions", json={"user_id": "obs-local"})).json()
        reply = await client.post(f"/chat/sessions/{body['session_id']}/messages",
                                  data={"message": "How long do I have to return an item?"},
                                  headers={"Authorization": f"Bearer {body['session_token']}"})
        assert reply.status_code == 200, reply.text
    assert _value("llm_requests_total", provider="local", status="ok") == before[0] + 1
    assert _value("llm_request_duration_seconds_count", provider="local") == before[1] + 1
    # No model ran, so no tokens are claimed.
    assert sum(_value("llm_tokens_total", provider=p, kind=k) for p in ("local", "openai")
               for k in ("prompt", "completion")) == tokens
