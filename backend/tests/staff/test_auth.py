"""Staff login and the staff gate: JWTs only, the same 401 for unknown and wrong, throttled guessing."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt

from tests.realtime.conftest import LiveServer, new_session
from tests.staff.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, STAFF_SETTINGS, login, new_agent


async def test_login_with_json_and_with_the_oauth2_form(staff_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staff_server.http, timeout=60) as client:
        by_json = await client.post("/auth/login", json={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        by_form = await client.post("/auth/login", data={"username": ADMIN_EMAIL.upper(), "password": ADMIN_PASSWORD,
                                                          "grant_type": "password"})
        for response in (by_json, by_form):
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["token_type"] == "bearer" and body["expires_in"] > 0
            me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
            assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL and me.json()["role"] == "admin"
            assert "password" not in me.text


async def test_unknown_user_and_wrong_password_look_the_same(staff_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staff_server.http, timeout=60) as client:
        wrong = await client.post("/auth/login", json={"username": ADMIN_EMAIL, "password": "not-the-password"})
        unknown = await client.post("/auth/login", json={"username": "nobody@example.com", "password": "whatever-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert {k: v for k, v in wrong.json().items() if k != "request_id"} == \
           {k: v for k, v in unknown.json().items() if k != "request_id"}


async def test_hostile_login_bodies_get_clean_4xx(staff_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=staff_server.http, timeout=60) as client:
        nul = await client.post("/auth/login", json={"username": ADMIN_EMAIL, "password": "abc\x00def"})
        huge = await client.post("/auth/login", json={"username": ADMIN_EMAIL, "password": "x" * 10_000})
        bad_json = await client.post("/auth/login", content=b"{nope", headers={"Content-Type": "application/json"})
        xml = await client.post("/auth/login", content=b"<a/>", headers={"Content-Type": "application/xml"})
        missing = await client.post("/auth/login", json={"username": ADMIN_EMAIL})
    assert nul.status_code == 422 and huge.status_code in (413, 422)
    assert bad_json.status_code == 400 and xml.status_code == 415 and missing.status_code == 422
    for response in (nul, huge, bad_json, xml, missing):
        assert set(response.json()) >= {"detail", "code", "request_id"}


async def test_staff_routes_take_staff_tokens_only(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    customer = await new_session(staff_server)
    async with httpx.AsyncClient(base_url=staff_server.http, timeout=60) as client:
        for headers in ({}, customer.headers, {"X-API-Key": "k" * 32}, {"Authorization": "Bearer not-a-jwt"}):
            response = await client.get("/staff/conversations", headers=headers)
            assert response.status_code == 401, (headers, response.text)
        # A token signed with another key, or for another audience, is refused too.
        forged = jwt.encode({"sub": str(uuid.uuid4()), "aud": "staff", "iss": "support-agent",
                             "exp": int(time.time()) + 60}, "another-key-another-key-another-key", "HS256")
        wrong_aud = jwt.encode({"sub": str(uuid.uuid4()), "aud": "customer", "iss": "support-agent",
                                "exp": int(time.time()) + 60}, STAFF_SETTINGS["secret_key"], "HS256")
        expired = jwt.encode({"sub": str(uuid.uuid4()), "aud": "staff", "iss": "support-agent",
                              "exp": int(time.time()) - 5}, STAFF_SETTINGS["secret_key"], "HS256")
        for token in (forged, wrong_aud, expired):
            response = await client.get("/staff/conversations", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401
        # ...and a staff token opens no customer route.
        response = await client.get(f"/chat/sessions/{customer.id}/history", headers=admin.headers)
        assert response.status_code == 401


async def test_a_disabled_account_is_locked_out_at_once(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    agent, agent_id = await new_agent(admin, "Dana")
    assert (await agent.call("GET", "/staff/conversations")).status_code == 200
    assert (await agent.call("POST", "/staff/users", json={"email": "x@example.com", "name": "X",
                                                           "password": "long-enough-1"})).status_code == 403
    disabled = await admin.call("PATCH", f"/staff/users/{agent_id}", json={"active": False})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert (await agent.call("GET", "/staff/conversations")).status_code == 401
    async with httpx.AsyncClient(base_url=staff_server.http, timeout=60) as client:
        again = await client.post("/auth/login", json={"username": disabled.json()["email"],
                                                       "password": "agent-password-1"})
    assert again.status_code == 401
    # An admin cannot lock themselves out.
    me = (await admin.call("GET", "/auth/me")).json()
    assert (await admin.call("PATCH", f"/staff/users/{me['id']}", json={"active": False})).status_code == 409


async def test_repeated_failures_are_slowed_down(tmp_path, seeded_chroma) -> None:  # type: ignore[no-untyped-def]
    import shutil

    shutil.copytree(seeded_chroma, tmp_path / "chroma")
    with LiveServer(tmp_path, **STAFF_SETTINGS, login_failure_limit_account="3/minute",
                    login_failure_limit_client="100/minute") as live:
        async with httpx.AsyncClient(base_url=live.http, timeout=60) as client:
            codes = [(await client.post("/auth/login", json={"username": ADMIN_EMAIL, "password": f"guess-{i}"}))
                     .status_code for i in range(4)]
            assert codes == [401, 401, 401, 429]
            throttled = await client.post("/auth/login", json={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
            assert throttled.json()["code"] == "login_throttled"
            # Another account is not held back by this one's failures.
            other = await client.post("/auth/login", json={"username": "other@example.com", "password": "guess-x"})
            assert other.status_code == 401


async def test_the_knowledge_admin_api_takes_an_admin_staff_token(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    agent, _ = await new_agent(admin, "Kim")
    listed = await admin.call("GET", "/knowledge/documents")
    assert listed.status_code == 200, listed.text
    assert (await agent.call("GET", "/knowledge/documents")).status_code == 403
    async with httpx.AsyncClient(base_url=staff_server.http, timeout=60) as client:
        assert (await client.get("/knowledge/documents")).status_code == 401


async def test_passwords_never_reach_the_logs(data_dir, capfd) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings, running_app

    secret_admin, secret_new, secret_wrong = "admin-Pa55word-xyz", "new-Pa55word-abc", "wrong-Pa55word-qqq"
    settings = make_settings(data_dir, first_superuser="root@example.com", first_superuser_password=secret_admin,
                             log_level="DEBUG")
    async with running_app(settings) as (_, client):
        await client.post("/auth/login", json={"username": "root@example.com", "password": secret_wrong})
        token = (await client.post("/auth/login", json={"username": "root@example.com", "password": secret_admin})
                 ).json()["access_token"]
        created = await client.post("/staff/users", headers={"Authorization": f"Bearer {token}"},
                                    json={"email": "n@example.com", "name": "N", "password": secret_new})
        assert created.status_code == 201
        await client.post("/auth/login", json={"username": "n@example.com", "password": "x\x00y"})
    out, err = capfd.readouterr()
    logged = out + err  # the JSON log lines the process wrote
    assert "staff.login.failed" in logged and "staff.login.ok" in logged  # the events are logged...
    for secret in (secret_admin, secret_new, secret_wrong):
        assert secret not in logged  # ...their passwords are not
