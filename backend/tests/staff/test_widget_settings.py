"""Widget settings: an admin sets the widget's title, colour, welcome text and suggested questions in the
console; every widget reads them from /web/config. Real server, real database."""

from __future__ import annotations

import httpx

from tests.realtime.conftest import LiveServer
from tests.staff.conftest import login, new_agent

GOOD = {"title": "Trailhead help", "color": "#0f766e", "welcome_text": "Hi! Ask us about orders and returns.",
        "suggested_questions": ["Where is my order?", "  How do returns work?  ", "Where is my order?"]}


async def _config(base: str) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=60) as client:
        res = await client.get(f"{base}/web/config")
    assert res.status_code == 200
    appearance: dict[str, object] = res.json()["appearance"]
    return appearance


async def test_defaults_then_an_admin_sets_what_every_widget_reads(staff_server: LiveServer) -> None:
    before = await _config(staff_server.http)
    assert before["title"] == "Customer support" and len(before["suggested_questions"]) == 3  # type: ignore[arg-type]
    admin = await login(staff_server.http)
    saved = await admin.call("PUT", "/staff/widget-settings", json=GOOD)
    assert saved.status_code == 200, saved.text
    # Questions are trimmed and de-duplicated.
    expected = {**GOOD, "suggested_questions": ["Where is my order?", "How do returns work?"]}
    assert saved.json() == expected
    assert (await admin.call("GET", "/staff/widget-settings")).json() == expected
    assert await _config(staff_server.http) == expected


async def test_bad_input_is_a_422_with_the_error_shape(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    bad = [
        {**GOOD, "color": "red; background: url(https://evil.example)"},
        {**GOOD, "color": "#12345"},
        {**GOOD, "title": ""},
        {**GOOD, "title": "x" * 61},
        {**GOOD, "welcome_text": "x" * 501},
        {**GOOD, "suggested_questions": [f"question {i}?" for i in range(7)]},
        {**GOOD, "suggested_questions": ["x" * 201]},
        {**GOOD, "suggested_questions": ["   "]},
        {**GOOD, "title": "nul\x00title"},
        {**GOOD, "script": "<script>"},
        {"title": "only a title", "color": 42},
    ]
    for body in bad:
        res = await admin.call("PUT", "/staff/widget-settings", json=body)
        assert res.status_code == 422, (body, res.text)
        assert {"detail", "code", "request_id"} <= res.json().keys()
    async with httpx.AsyncClient(timeout=60) as client:
        not_json = await client.put(f"{staff_server.http}/staff/widget-settings", content=b"{not json",
                                    headers={**admin.headers, "Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["code"]


async def test_agents_and_strangers_may_not_read_or_change_it(staff_server: LiveServer) -> None:
    admin = await login(staff_server.http)
    agent, _ = await new_agent(admin, "Widgetless")
    for method, kwargs in (("GET", {}), ("PUT", {"json": GOOD})):
        res = await agent.call(method, "/staff/widget-settings", **kwargs)
        assert res.status_code == 403 and res.json()["code"] == "admin_only"
        async with httpx.AsyncClient(timeout=60) as client:
            anon = await client.request(method, f"{staff_server.http}/staff/widget-settings", **kwargs)
        assert anon.status_code == 401
    changed = await agent.call("PUT", "/staff/widget-settings", json={**GOOD, "title": "Hijacked"})
    assert changed.status_code == 403
    assert (await _config(staff_server.http))["title"] != "Hijacked"
