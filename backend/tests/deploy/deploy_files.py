"""Readers for the deployment files: the compose files through Debian's `docker-compose config`, the
nginx upstream and the prod Prometheus targets, and the tool lookups the deploy tests share."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import REPO_ROOT

DEV_COMPOSE = REPO_ROOT / "docker-compose.yml"
PROD_COMPOSE = REPO_ROOT / "docker-compose.prod.yml"
NGINX_DIR = REPO_ROOT / "deploy" / "nginx"
NGINX_CONF = NGINX_DIR / "nginx.conf"
PROD_PROMETHEUS = REPO_ROOT / "monitoring" / "prometheus" / "prometheus.prod.yml"
BACKEND_PORT = 8000

# What the prod file requires; test values only, so `docker-compose config` can render it.
PROD_SECRETS = {"SECRET_KEY": "k" * 48, "CORS_ORIGINS": "https://support.example.com",
                "POSTGRES_PASSWORD": "pg-test-password", "REDIS_PASSWORD": "redis-test-password",
                "SESSION_ENCRYPTION_KEYS": "bXktdGVzdC1rZXktdGhhdC1pcy0zMi1ieXRlcy1sb25nIQ==",
                "GRAFANA_ADMIN_PASSWORD": "grafana-test-password"}
_INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def missing(message: str) -> None:
    """Skip with the reason on a developer machine; under CI=true a missing requirement is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required under CI=true: {message}")
    pytest.skip(message)


def tool(name: str, hint: str) -> str:
    """Path of a command-line tool (Debian keeps nginx in /usr/sbin, often not on a user's PATH)."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    if path is None:
        missing(f"`{name}` not installed: {hint}")
    assert path is not None
    return path


def compose_config(path: Path, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` on `path` with exactly `env`: no .env file, nothing from this process."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    empty = tmp_path / "empty.env"
    empty.write_text("")
    binary = tool("docker-compose", "`make test` installs Debian's docker-compose package (make deploy-tools)")
    return subprocess.run([binary, "--env-file", str(empty), "-f", str(path), "config"], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **env})


def rendered(path: Path, env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    result = compose_config(path, env, tmp_path)
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def interpolations(path: Path) -> list[tuple[str, str, str]]:
    """Every `${NAME}`, `${NAME:-default}` and `${NAME:?message}` in a compose file: (name, operator, value)."""
    return [(m.group(1), m.group(2) or "", m.group(3) or "") for m in _INTERPOLATION.finditer(path.read_text())]


def backend_replicas(services: dict[str, Any]) -> list[str]:
    """Services that serve the API: the backend image with its default command (not migrate, not chroma)."""
    return sorted(name for name, spec in services.items()
                  if spec.get("build", {}).get("dockerfile") == "backend/Dockerfile" and "command" not in spec)


def nginx_upstream_servers(text: str) -> list[str]:
    block = re.search(r"upstream support_backend \{(.*?)\}", text, flags=re.S)
    assert block, "no `upstream support_backend` block"
    return re.findall(r"^\s*server\s+(\S+?)(?:\s[^;]*)?;", block.group(1), flags=re.M)


def prometheus_backend_targets(config: dict[str, Any]) -> list[str]:
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "support-backend")
    return [target for static in job["static_configs"] for target in static["targets"]]
