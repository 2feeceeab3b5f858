"""Schemathesis against the real app on a real socket: every documented operation, bounded examples,
stateful links from session creation (session id and token), an admin key; zero failures allowed.

Two checks are left out, for reasons the schema cannot express:
- positive_data_acceptance: uploads are refused by file extension (415) and by content (unreadable
  documents), which OpenAPI cannot describe (per-operation config in schemathesis.toml did not take
  effect in schemathesis 4.32.5, so it is left out for the run);
- use_after_free: DELETE closes a conversation, it does not erase it; its owner may still read it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.realtime.conftest import LiveServer

ADMIN_KEY = "contract-admin-key-0123456789"


def test_the_api_does_what_its_openapi_document_says(data_dir: Path, tmp_path: Path) -> None:
    with LiveServer(data_dir, api_keys=[f"{ADMIN_KEY}:admin+chat"]) as live:
        done = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{live.http}/openapi.json",
             "--exclude-checks", "positive_data_acceptance,use_after_free", "--max-examples", "8",
             "--seed", "2", "-H", f"X-API-Key: {ADMIN_KEY}", "--no-color",
             "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    (tmp_path / "out.txt").write_text(done.stdout)
    summary = re.search(r"(\d+) generated.*", done.stdout)
    print(summary.group(0) if summary else "no summary")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert summary and int(summary.group(1)) > 100, "schemathesis generated too few cases to mean anything"
