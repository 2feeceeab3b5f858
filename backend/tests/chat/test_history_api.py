from pathlib import Path

from tests.conftest import make_settings, running_app


async def test_history_is_paginated_in_conversation_order(client, new_session) -> None:
    session = await new_session()
    for question in ("hello", "How do I reset my password?", "thanks"):
        assert (await session.send(question)).status_code == 200
    page1 = (await client.get(f"/chat/sessions/{session.id}/history?limit=4", headers=session.headers)).json()
    assert page1["total"] == 6 and page1["has_more"] is True
    assert [m["role"] for m in page1["messages"]] == ["user", "assistant", "user", "assistant"]
    assert page1["messages"][2]["content"] == "How do I reset my password?"
    assert page1["messages"][3]["sources"][0]["metadata"]["source"] == "account-password-reset.md"
    page2 = (await client.get(f"/chat/sessions/{session.id}/history?limit=4&offset=4", headers=session.headers)).json()
    assert [m["content"] for m in page2["messages"]][0] == "thanks"
    assert page2["has_more"] is False
    for bad in ("limit=0", "limit=501", "offset=-1", "limit=abc"):
        response = await client.get(f"/chat/sessions/{session.id}/history?{bad}", headers=session.headers)
        assert response.status_code == 422, bad


async def test_history_survives_a_restart_of_the_app(data_dir: Path) -> None:
    settings = make_settings(data_dir)
    async with running_app(settings) as (_, client):
        created = (await client.post("/chat/sessions", json={"user_id": "restart"})).json()
        headers = {"Authorization": f"Bearer {created['session_token']}"}
        sent = await client.post(f"/chat/sessions/{created['session_id']}/messages",
                                 data={"message": "How do I reset my password?"}, headers=headers)
        assert sent.status_code == 200
        answer = sent.json()["message"]

    async with running_app(make_settings(data_dir)) as (_, client):
        history = await client.get(f"/chat/sessions/{created['session_id']}/history", headers=headers)
        assert history.status_code == 200
        messages = history.json()["messages"]
        assert [(m["role"], m["content"]) for m in messages] == [
            ("user", "How do I reset my password?"), ("assistant", answer)]
        assert messages[1]["sources"][0]["metadata"]["source"] == "account-password-reset.md"
        # The session stays usable after the restart.
        again = await client.post(f"/chat/sessions/{created['session_id']}/messages",
                                  data={"message": "thanks"}, headers=headers)
        assert again.status_code == 200
