"""The whole app on a Chroma server (CHROMA_HOST), ingesting the sample help center at start."""

import uuid
from pathlib import Path

from tests.conftest import make_settings, running_app


async def test_app_answers_from_a_chroma_server(chroma_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = chroma_server
    settings = make_settings(tmp_path, chroma_host=host, chroma_port=port, kb_auto_ingest=True,
                             chroma_collection=f"app_{uuid.uuid4().hex[:8]}")
    async with running_app(settings) as (app, client):
        assert app.state.services.store.mode == "server"
        detailed = (await client.get("/health/detailed")).json()
        assert detailed["components"]["vector_store"]["mode"] == "server"
        created = (await client.post("/chat/sessions", json={})).json()
        reply = await client.post(f"/chat/sessions/{created['session_id']}/messages",
                                  json={"message": "How do I reset my password?"},
                                  headers={"Authorization": f"Bearer {created['session_token']}"})
        assert reply.json()["sources"][0]["metadata"]["source"] == "account-password-reset.md"
    assert not (tmp_path / "chroma").exists()  # nothing was written to the embedded folder
