"""Re-run issue 15's measured attacks against a running server on loopback and print what got through.

    PYTHONPATH=backend .venv/bin/python scripts/attack_check.py http://127.0.0.1:8000 --pid <server pid>

Every loop is bounded in count and time and talks only to the given loopback URL. Each attack comes
from its own loopback source address (127.0.0.2, .3, ...), as separate clients would, so one attack's
rate limit does not hide the next one's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from tests.files.bombs import docx_bomb, xlsx_bomb  # noqa: E402

MiB = 1024 * 1024


def client(base: str, source: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=120, transport=httpx.HTTPTransport(local_address=source))


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def session(c: httpx.Client) -> tuple[str, dict[str, str]] | None:
    r = c.post("/chat/sessions", json={})
    if r.status_code != 201:
        return None
    body = r.json()
    return body["session_id"], {"Authorization": f"Bearer {body['session_token']}"}


def sessions_flood(base: str, seconds: float) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    with client(base, "127.0.0.2") as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            code = c.post("/chat/sessions", json={}).status_code
            statuses[code] = statuses.get(code, 0) + 1
    return {"seconds": seconds, "created": statuses.get(201, 0), "refused_429": statuses.get(429, 0)}


def messages_flood(base: str, count: int) -> dict[str, Any]:
    with client(base, "127.0.0.3") as c:
        s = session(c)
        assert s is not None
        codes = [c.post(f"/chat/sessions/{s[0]}/messages", json={"message": f"question {i}"},
                        headers=s[1]).status_code for i in range(count)]
    return {"sent": count, "answered": codes.count(200), "refused_429": codes.count(429)}


def health_flood(base: str, count: int) -> dict[str, Any]:
    with client(base, "127.0.0.4") as c:
        codes = [c.get("/health/liveness").status_code for _ in range(count)]
    return {"sent": count, "answered": codes.count(200), "refused_429": codes.count(429)}


def disk_fill(base: str, seconds: float) -> dict[str, Any]:
    accepted = requests = 0
    statuses: dict[int, int] = {}
    payload = [("attachments", (f"f{i}.txt", b"x" * MiB, "text/plain")) for i in range(5)]
    with client(base, "127.0.0.5") as c:
        end, s = time.monotonic() + seconds, None
        while time.monotonic() < end:
            if s is None or requests % 4 == 0:
                s = session(c) or s
            if s is None:
                time.sleep(0.2)
                continue
            r = c.post(f"/chat/sessions/{s[0]}/attachments", files=payload, headers=s[1])
            requests += 1
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 201:
                accepted += 5 * MiB
    return {"seconds": seconds, "requests": requests, "bytes_accepted": accepted, "statuses": statuses}


def bombs(base: str, pid: int | None) -> list[dict[str, Any]]:
    results = []
    folder = Path(tempfile.mkdtemp())
    for n, (kind, build) in enumerate((("docx", docx_bomb), ("xlsx", xlsx_bomb))):
        path = build(folder / f"bomb.{kind}", 2048 * MiB)
        with client(base, f"127.0.0.{6 + n}") as c:
            s = session(c)
            assert s is not None
            before = rss_mib(pid)
            started = time.monotonic()
            r = c.post(f"/chat/sessions/{s[0]}/messages", headers=s[1], data={"message": "How do I reset my password?"},
                       files=[("attachments", (f"report.{kind}", path.read_bytes()))])
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            results.append({"kind": kind, "file_bytes": path.stat().st_size, "expands_to": 2048 * MiB,
                            "status": r.status_code, "seconds": round(time.monotonic() - started, 2),
                            "says_unreadable": "could not be read" in str(body.get("message", "")),
                            "sources": len(body.get("sources", [])), "rss_before_mib": before,
                            "rss_after_mib": rss_mib(pid)})
    return results


def hostile_json(base: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    cases = {
        "user_id_nul": '{"user_id": "a\\u0000b"}',
        "user_id_lone_surrogate": '{"user_id": "\\ud800"}',
        "metadata_500_deep": '{"metadata": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}",
        "body_100000_deep": "[" * 100_000 + "]" * 100_000,
        "million_keys": "{" + ",".join(f'"{i}":0' for i in range(1_000_000)) + "}",
    }
    out = {}
    with client(base, "127.0.0.8") as c:
        for name, body in cases.items():
            started = time.monotonic()
            r = c.post("/chat/sessions", content=body.encode(), headers=headers)
            out[name] = {"status": r.status_code, "code": r.json().get("code"),
                         "seconds": round(time.monotonic() - started, 3)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--pid", type=int, help="server process id, to read its RSS around the bombs")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the session and upload floods")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost")):
        parser.error("loopback servers only")
    report = {"sessions": sessions_flood(args.url, args.seconds), "messages": messages_flood(args.url, 120),
              "health": health_flood(args.url, 600), "disk_fill": disk_fill(args.url, args.seconds),
              "bombs": bombs(args.url, args.pid), "hostile_json": hostile_json(args.url)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
