"""After a return to the bot, the model reads what the person told the customer (Dify #20483)."""

from __future__ import annotations

from pathlib import Path

from tests.agents.test_conversations import app_with, open_session
from tests.staff.conftest import ADMIN_EMAIL, STAFF_SETTINGS


async def test_the_model_sees_the_human_reply_after_return_to_bot(data_dir: Path) -> None:
    async with app_with("openai", data_dir, **STAFF_SETTINGS) as (_, client, server):
        assert server is not None
        session = await open_session(client)
        assert (await session.send("I want to talk to a real person please")).json()["requires_escalation"]
        token = (await client.post("/auth/login", json={"username": ADMIN_EMAIL,
                                                        "password": STAFF_SETTINGS["first_superuser_password"]})
                 ).json()["access_token"]
        staff = {"Authorization": f"Bearer {token}"}
        sent = await client.post(f"/staff/conversations/{session.id}/messages", headers=staff,
                                 json={"content": "I have refunded order TH-777 to your card today."})
        assert sent.status_code == 201
        # While the person handles it, the model is not asked at all.
        asked = len(server.requests)
        assert (await session.send("Thanks! When will I see it?")).json()["handled_by"] == "human"
        assert len(server.requests) == asked
        assert (await client.post(f"/staff/conversations/{session.id}/return-to-bot", headers=staff)).status_code == 200
        answer = await session.send("How long do I have to return an item?")
        assert answer.json()["handled_by"] == "bot"
        seen = server.requests[asked]["messages"]
        said = [m["content"] for m in seen if m["role"] == "assistant"]
        assert any("member of the support team" in c and "refunded order TH-777" in c for c in said), said
