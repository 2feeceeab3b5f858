"""The parts of scripts/deploy.sh and rollback.sh that decide before any container is touched: the
preflight refuses missing or placeholder secrets, rollback finds the previous version and refuses a
schema it cannot run on. (The rolling itself needs a container engine; docs/deployment.md.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.config import DEFAULT_SECRET_KEY, REPO_ROOT
from tests.deploy.deploy_files import PROD_SECRETS, tool

SCRIPTS = [REPO_ROOT / "scripts" / name for name in ("deploy.sh", "rollback.sh", "backup.sh")]


def run(script: str, *args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return subprocess.run([str(REPO_ROOT / "scripts" / script), *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                               "COMPOSE_ENV_FILE": str(empty), "DEPLOY_STATE_DIR": str(tmp_path / "state"), **env})


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_pass_shellcheck_when_installed(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script.name} is not executable"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    if shutil.which("shellcheck"):
        result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


def test_deploy_preflight_refuses_missing_and_placeholder_secrets(tmp_path: Path) -> None:
    tool("docker-compose", "`make test` installs Debian's docker-compose package (make deploy-tools)")
    missing = run("deploy.sh", "check", tmp_path=tmp_path)
    assert missing.returncode == 1 and "refusing: set " in missing.stderr, missing.stderr
    placeholder = run("deploy.sh", "check", tmp_path=tmp_path, **{**PROD_SECRETS, "SECRET_KEY": DEFAULT_SECRET_KEY})
    assert placeholder.returncode == 1 and "development placeholder" in placeholder.stderr, placeholder.stderr
    ok = run("deploy.sh", "check", tmp_path=tmp_path, **PROD_SECRETS)
    assert ok.returncode == 0 and "ok: the stack would start" in ok.stderr, ok.stderr


def test_rollback_needs_an_earlier_version_and_a_compatible_schema(tmp_path: Path) -> None:
    nothing = run("rollback.sh", tmp_path=tmp_path)
    assert nothing.returncode == 1 and "nothing deployed yet" in nothing.stderr
    state = tmp_path / "state"
    state.mkdir()
    (state / "current").write_text("v2 rev_b\n")
    (state / "history").write_text("2026-01-01T00:00:00Z v2 rev_b\n")
    only_one = run("rollback.sh", tmp_path=tmp_path)
    assert only_one.returncode == 1 and "no earlier version than v2" in only_one.stderr
    # v1 ran on schema rev_a; the database is at rev_b: refuse unless told to downgrade.
    (state / "history").write_text("2026-01-01T00:00:00Z v1 rev_a\n2026-01-02T00:00:00Z v2 rev_b\n"
                                   "2026-01-03T00:00:00Z v2 rev_b\n")
    refused = run("rollback.sh", tmp_path=tmp_path)
    assert refused.returncode == 1, refused.stderr
    assert "v1 expects schema rev_a, the database is at rev_b" in refused.stderr
