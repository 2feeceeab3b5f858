import uuid

import httpx

from tests.conftest import ChatSessionHandle


async def test_create_session_returns_seed_fields_and_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/sessions", json={"user_id": "user123", "metadata": {"plan": "pro"}})
    assert response.status_code == 201
    body = response.json()
    uuid.UUID(body["session_id"])
    uuid.UUID(body["thread_id"])
    assert body["message"] == "Session created successfully"
    assert len(body["session_token"]) >= 32
    assert body["user_id"] == "user123"
    assert body["status"] == "active"


async def test_create_session_without_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/sessions")
    assert response.status_code == 201
    assert response.json()["user_id"] is None


async def test_create_session_rejects_bad_shapes(client: httpx.AsyncClient) -> None:
    for body in ({"user_id": 5}, {"user_id": ""}, {"metadata": "x"}, {"unknown": 1}):
        response = await client.post("/chat/sessions", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    response = await client.post("/chat/sessions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"
    assert response.json()["request_id"]
    too_big = await client.post("/chat/sessions", json={"metadata": {"blob": "x" * 9000}})
    assert too_big.status_code == 422 and "8192 bytes" in str(too_big.json()["detail"])
    too_deep = await client.post("/chat/sessions", json={"metadata": {"a": {"b": {"c": {"d": {"e": 1}}}}}})
    assert too_deep.status_code == 422


async def test_get_session_needs_its_token(client: httpx.AsyncClient, new_session) -> None:
    session: ChatSessionHandle = await new_session(user_id="alice", metadata={"tier": "gold"})
    ok = await client.get(f"/chat/sessions/{session.id}", headers=session.headers)
    assert ok.status_code == 200
    assert ok.json()["metadata"] == {"tier": "gold"}
    assert ok.json()["message_count"] == 0

    missing = await client.get(f"/chat/sessions/{session.id}")
    assert missing.status_code == 401
    assert missing.json()["code"] == "invalid_session_token"
    wrong = await client.get(f"/chat/sessions/{session.id}", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    via_header = await client.get(f"/chat/sessions/{session.id}", headers={"X-Session-Token": session.token})
    assert via_header.status_code == 200


async def test_one_customer_cannot_use_another_customers_token(client: httpx.AsyncClient, new_session) -> None:
    alice = await new_session(user_id="alice")
    bob = await new_session(user_id="bob")
    for path in ("", "/history"):
        response = await client.get(f"/chat/sessions/{alice.id}{path}", headers=bob.headers)
        assert response.status_code == 401
    response = await client.post(f"/chat/sessions/{alice.id}/messages", data={"message": "hi"}, headers=bob.headers)
    assert response.status_code == 401


async def test_unknown_and_malformed_session_ids(client: httpx.AsyncClient, new_session) -> None:
    session = await new_session()
    unknown = await client.get(f"/chat/sessions/{uuid.uuid4()}", headers=session.headers)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "session_not_found"
    malformed = await client.get("/chat/sessions/not-a-uuid", headers=session.headers)
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "session_id"]


async def test_closed_session_refuses_messages_but_keeps_history(client: httpx.AsyncClient, new_session) -> None:
    session = await new_session()
    assert (await session.send("hello")).status_code == 200
    closed = await client.delete(f"/chat/sessions/{session.id}", headers=session.headers)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"

    again = await client.delete(f"/chat/sessions/{session.id}", headers=session.headers)
    assert again.status_code == 409
    refused = await session.send("are you there?")
    assert refused.status_code == 409
    assert refused.json()["code"] == "session_closed"
    history = await client.get(f"/chat/sessions/{session.id}/history", headers=session.headers)
    assert history.status_code == 200
    assert [m["content"] for m in history.json()["messages"]][0] == "hello"
    assert history.json()["total"] == 2


async def test_history_offset_out_of_range_is_a_422(client: httpx.AsyncClient, new_session) -> None:
    session = await new_session()
    response = await client.get(f"/chat/sessions/{session.id}/history?offset=99999999999999999999",
                                headers=session.headers)
    assert response.status_code == 422
