"""Both compose files pass Debian's `docker-compose config`; the prod one has two or more replicas, a
health check on every service, and refuses to render without each of its secrets."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from app.config import REPO_ROOT
from tests.deploy.deploy_files import (
    BACKEND_PORT,
    DEV_COMPOSE,
    NGINX_CONF,
    PROD_COMPOSE,
    PROD_PROMETHEUS,
    PROD_SECRETS,
    backend_replicas,
    compose_config,
    interpolations,
    nginx_upstream_servers,
    prometheus_backend_targets,
    rendered,
)

SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEYS?$|TOKEN")


def one_shot_jobs(services: dict[str, Any]) -> set[str]:
    """Services others wait for to *finish* (migrations): a health check means nothing for them."""
    return {dependency for spec in services.values() for dependency, condition in spec.get("depends_on", {}).items()
            if condition.get("condition") == "service_completed_successfully"}


def mounts(spec: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path or volume name (v1 renders `source:target[:mode]` strings)."""
    pairs = (volume.split(":")[:2] for volume in spec.get("volumes", []))
    return {target: source for source, target in pairs}


def assert_every_service_checks_health(services: dict[str, Any]) -> None:
    jobs = one_shot_jobs(services)
    for name, spec in services.items():
        if name in jobs:
            assert spec.get("restart") == "no", f"{name} is a one-shot job and must not restart"
            continue
        check = spec.get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), f"{name} has no health check"


def test_dev_compose_renders_and_starts_on_embedded_defaults(tmp_path: Path) -> None:
    services = rendered(DEV_COMPOSE, {}, tmp_path)["services"]
    assert {"backend", "postgres", "redis", "chroma", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert_every_service_checks_health(services)
    # `docker-compose up` alone starts only the backend: everything else sits behind a profile.
    assert [name for name, spec in services.items() if not spec.get("profiles")] == ["backend"]
    backend = services["backend"]["environment"]
    assert backend["DATABASE_URL"] == "" and backend["CHROMA_HOST"] == "" and backend["ENVIRONMENT"] == "development"


def test_prod_compose_has_replicas_health_checks_and_no_default_secrets(tmp_path: Path) -> None:
    config = rendered(PROD_COMPOSE, PROD_SECRETS, tmp_path)
    services = config["services"]
    replicas = backend_replicas(services)
    assert len(replicas) >= 2, replicas
    assert {"proxy", "postgres", "redis", "chroma", "prometheus", "alertmanager", "grafana", "migrate"} <= set(services)
    assert_every_service_checks_health(services)
    for name in replicas:
        spec = services[name]
        env = spec["environment"]
        assert env["ENVIRONMENT"] == "production" and env["SESSION_STORE"] == "redis"
        assert env["DB_AUTO_MIGRATE"] == "false", "replicas must not race each other to migrate"
        assert env["DATABASE_URL"].startswith("postgresql://") and env["CHROMA_HOST"] == "chroma"
        assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert set(spec["networks"]) == {"app", "monitoring"}
    # The proxy waits for every replica to be ready, and is the only service published on all interfaces.
    assert set(services["proxy"]["depends_on"]) == set(replicas)
    for name, spec in services.items():
        for port in spec.get("ports", []):
            if name != "proxy":
                # v1 renders short syntax as "HOST_IP:HOST:CONTAINER"
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert set(config["volumes"]) >= {"pgdata", "redisdata", "chromadata", "attachments", "prometheus-data",
                                      "grafana-data"}


def test_prod_compose_refuses_to_render_without_each_secret(tmp_path: Path) -> None:
    found = interpolations(PROD_COMPOSE)
    secrets = {name for name, _, _ in found if SECRET_NAME.search(name)}
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "SESSION_ENCRYPTION_KEYS",
            "GRAFANA_ADMIN_PASSWORD"} <= secrets
    for name, operator, value in found:
        if SECRET_NAME.search(name):
            # Required (`:?`), or an optional credential that is empty unless given (an API key for a
            # provider you may not use). Never a usable default.
            assert operator == ":?" or (operator == ":-" and value == ""), f"${{{name}{operator}{value}}}"
    required = {name for name, operator, _ in found if operator == ":?"}
    assert required == set(PROD_SECRETS), "PROD_SECRETS must list exactly what the prod file requires"

    def without(name: str) -> subprocess.CompletedProcess[str]:
        return compose_config(PROD_COMPOSE, {k: v for k, v in PROD_SECRETS.items() if k != name}, tmp_path / name)

    with ThreadPoolExecutor(max_workers=3) as pool:  # docker-compose takes a second or two to start
        results = dict(zip(sorted(required), pool.map(without, sorted(required)), strict=True))
    for name, result in results.items():
        assert result.returncode != 0 and f"set {name}" in result.stderr, (name, result.stderr[-500:])
    assert compose_config(PROD_COMPOSE, {}, tmp_path).returncode != 0


def test_replicas_proxy_and_prometheus_name_the_same_backends(tmp_path: Path) -> None:
    services = rendered(PROD_COMPOSE, PROD_SECRETS, tmp_path)["services"]
    replicas = {f"{name}:{BACKEND_PORT}" for name in backend_replicas(services)}
    assert set(nginx_upstream_servers(NGINX_CONF.read_text())) == replicas
    # Every replica is scraped, directly: one `up` series each, so one dead replica shows.
    assert set(prometheus_backend_targets(yaml.safe_load(PROD_PROMETHEUS.read_text()))) == replicas
    assert Path(mounts(services["proxy"])["/etc/nginx/nginx.conf"]) == NGINX_CONF
    assert "--config.file=/etc/prometheus/prometheus.prod.yml" in services["prometheus"]["command"]
    assert Path(mounts(services["prometheus"])["/etc/prometheus"]) == PROD_PROMETHEUS.parent


def test_every_compose_variable_is_documented_in_env_example() -> None:
    text = (REPO_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    for path in (DEV_COMPOSE, PROD_COMPOSE):
        used = {name for name, _, _ in interpolations(path)}
        assert used - documented == set(), f"{path.name} reads variables .env.example does not name"


def test_compose_grafana_datasource_differs_from_the_repository_one_only_in_its_url() -> None:
    ours = yaml.safe_load((REPO_ROOT / "deploy/grafana/datasources/prometheus.yml").read_text())
    base = yaml.safe_load((REPO_ROOT / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert ours["datasources"][0].pop("url") == "http://prometheus:9090"
    base["datasources"][0].pop("url")
    assert ours == base


def test_image_pins_the_tested_torch_and_runs_unprivileged() -> None:
    dockerfile = (REPO_ROOT / "backend" / "Dockerfile").read_text()
    pyproject = (REPO_ROOT / "backend" / "pyproject.toml").read_text()
    makefile = (REPO_ROOT / "Makefile").read_text()
    pinned = re.search(r'"torch==([^"]+)"', pyproject)
    assert pinned and f"ARG TORCH_VERSION={pinned.group(1)}\n" in dockerfile
    assert f"torch=={pinned.group(1)}" in makefile
    assert "download.pytorch.org/whl/cpu" in dockerfile  # the CPU wheels, never CUDA
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/health/liveness", dockerfile, flags=re.M)
    assert ".env" in (REPO_ROOT / ".dockerignore").read_text().split()
