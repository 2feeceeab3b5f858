"""Hostile JSON bodies are refused before parsing, with the JSON error shape; good ones pass untouched."""

from __future__ import annotations

import json

import httpx
import pytest

from app.security.input_guard import body_problem, clean_text_escapes


@pytest.mark.parametrize("body, code", [
    (b"[" * 40 + b"]" * 40, "json_too_deep"),
    (json.dumps({f"k{i}": i for i in range(1001)}).encode(), "json_too_many_keys"),
])
def test_hostile_shapes_are_named(body: bytes, code: str) -> None:
    problem = body_problem(body, max_depth=32, max_keys=1000)
    assert problem is not None and problem[1] == code


@pytest.mark.parametrize("raw, clean", [
    ('{"user_id": "a\\u0000b"}', "a\ufffdb"),
    ('{"user_id": "\\ud800"}', "\ufffd"),
    ('{"user_id": "\\udc00x"}', "\ufffdx"),
    ('{"user_id": "\\ud83dx"}', "\ufffdx"),
    ('{"user_id": "\\ud83d\\u0041"}', "\ufffdA"),
    ('{"user_id": "ok \\ud83d\\ude00, \\\\u0000 stays text"}', "ok \U0001F600, \\u0000 stays text"),
])
def test_nul_and_unpaired_surrogates_become_replacement_characters(raw: str, clean: str) -> None:
    assert json.loads(clean_text_escapes(raw.encode()))["user_id"] == clean


@pytest.mark.parametrize("body", [
    b'{"message": "emoji \\ud83d\\ude00 and an escaped backslash \\\\u0000 are fine"}',
    b'{"message": "brackets [[[{{{ inside strings do not count", "n": [1, [2, [3]]]}',
    json.dumps({"metadata": {f"k{i}": "v" for i in range(50)}}).encode(),
])
def test_ordinary_bodies_pass(body: bytes) -> None:
    assert body_problem(body, max_depth=32, max_keys=1000) is None


async def test_the_app_refuses_hostile_input_with_its_error_shape(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    cases = [
        ('{"metadata": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}", 400, "json_too_deep"),
        ("[" * 100_000 + "]" * 100_000, 400, "json_too_deep"),
        ('{"user_id": "' + "x" * 300_000 + '"}', 413, "payload_too_large"),
    ]
    for body, status, code in cases:
        response = await client.post("/chat/sessions", content=body.encode(), headers=headers)
        assert response.status_code == status, (body[:40], response.text)
        assert response.json()["code"] == code and response.json()["request_id"]
    for raw in ('{"user_id": "nul\\u0000"}', '{"user_id": "\\udfff"}'):
        refused = await client.post("/chat/sessions", content=raw.encode(), headers=headers)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_characters"
    created = await client.post("/chat/sessions", json={"user_id": "ok-\U0001F600"})
    assert created.status_code == 201 and created.json()["user_id"] == "ok-\U0001F600"
    session = created.json()
    nested = await client.post(f"/chat/sessions/{session['session_id']}/messages",
                               content=("[" * 100_000 + "]" * 100_000).encode(),
                               headers={**headers, "Authorization": f"Bearer {session['session_token']}"})
    assert nested.status_code == 400 and nested.json()["code"] == "json_too_deep"
    # A million keys is refused on size before any parsing.
    many = ("{" + ",".join(f'"{i}":0' for i in range(1_000_000)) + "}").encode()
    assert (await client.post("/chat/sessions", content=many, headers=headers)).status_code == 413
    assert (await client.get("/health/liveness")).status_code == 200


def test_websocket_frames_are_checked_the_same_way() -> None:
    from app.realtime.client_frames import FrameError, MessageFrame, parse_client_frame

    with pytest.raises(FrameError) as refused:
        parse_client_frame('{"type": "message", "content": "a\\u0000b"}')
    assert refused.value.code == "invalid_characters"
    assert isinstance(parse_client_frame('{"type": "message", "content": "ok \\ud83d\\ude00"}'), MessageFrame)
