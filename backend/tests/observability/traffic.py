"""Customer-like traffic against the running backend: sessions, questions, an escalation, attachments,
a broken attachment for the tools, and the usual client mistakes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx


@dataclass
class Traffic:
    client: httpx.Client
    session_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    bogus_paths: list[str] = field(default_factory=list)
    # (email, password) of a staff account: escalated conversations are then worked by a person.
    staff_login: tuple[str, str] | None = None

    def session(self) -> tuple[str, dict[str, str]]:
        user = f"user-{uuid.uuid4().hex}"
        body = self.client.post("/chat/sessions", json={"user_id": user}).json()
        self.session_ids.append(body["session_id"])
        self.user_ids.append(user)
        self.tokens.append(body["session_token"])
        return body["session_id"], {"Authorization": f"Bearer {body['session_token']}"}

    def send(self, session_id: str, headers: dict[str, str], text: str, files: list | None = None,
             request_id: str | None = None) -> httpx.Response:
        if request_id:
            headers = {**headers, "X-Request-ID": request_id}
        return self.client.post(f"/chat/sessions/{session_id}/messages", data={"message": text},
                                files=files, headers=headers)

    def conversation(self, escalate: bool = True) -> None:
        """One customer: two questions (the second repeats, for the query cache), history, maybe a handoff."""
        session_id, headers = self.session()
        for text in ("How do I reset my password?", "How do I reset my password?", "What does shipping cost?"):
            assert self.send(session_id, headers, text).status_code == 200
        receipt = [("attachments", ("receipt.txt", b"Order 1234, two tents, returned unused.", "text/plain"))]
        assert self.send(session_id, headers, "Here is my receipt, can I return this?", receipt).status_code == 200
        # Not a PDF at all: whatever reads attachments fails on it, and the turn must still answer.
        broken = [("attachments", ("scan.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf"))]
        assert self.send(session_id, headers, "Please read my attached scan", broken).status_code == 200
        assert self.client.get(f"/chat/sessions/{session_id}/history", headers=headers).status_code == 200
        if escalate:
            reply = self.send(session_id, headers, "I want to talk to a human")
            assert reply.status_code == 200 and reply.json()["requires_escalation"] is True
            if self.staff_login is not None:
                self.handoff(session_id, headers)

    def handoff(self, session_id: str, headers: dict[str, str]) -> None:
        """A person takes the queued conversation, answers, resolves it, and the customer rates it."""
        assert self.staff_login is not None
        token = self.client.post("/auth/login", json={"username": self.staff_login[0],
                                                      "password": self.staff_login[1]}).json()["access_token"]
        staff = {"Authorization": f"Bearer {token}"}
        base = f"/staff/conversations/{session_id}"
        assert self.client.get("/staff/conversations", params={"state": "waiting"}, headers=staff).status_code == 200
        assert self.client.post(f"{base}/messages", json={"content": "Hi, a person here."},
                                headers=staff).status_code == 201
        assert self.send(session_id, headers, "Thanks, my order is 1234").json()["handled_by"] == "human"
        assert self.client.post(f"{base}/resolve", headers=staff).status_code == 200
        assert self.client.post(f"/chat/sessions/{session_id}/rating", json={"score": 4},
                                headers=headers).status_code == 201

    def mistakes(self) -> None:
        """Client errors of every kind: unknown session, missing token, bad input, unknown paths."""
        session_id, headers = self.session()
        unknown = uuid.uuid4()
        assert self.client.get(f"/chat/sessions/{unknown}/history", headers=headers).status_code == 404
        assert self.client.get(f"/chat/sessions/{session_id}/history").status_code == 401
        assert self.client.post(f"/chat/sessions/{session_id}/messages", content=b"{not json",
                                headers={**headers, "Content-Type": "application/json"}).status_code in (400, 422)
        assert self.send(session_id, headers, "").status_code == 422
        exe = [("attachments", ("tool.exe", b"MZ", "application/octet-stream"))]
        assert self.send(session_id, headers, "see file", exe).status_code == 415
        path = f"/no-such-page/{uuid.uuid4().hex}"
        self.bogus_paths.append(path)
        assert self.client.get(path).status_code == 404
        assert self.client.delete(f"/chat/sessions/{session_id}", headers=headers).status_code == 200
