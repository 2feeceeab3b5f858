"""monitoring/ checked by Prometheus's own tools and by the structure Grafana and Alertmanager expect."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from prometheus_client import REGISTRY

import app.observability.metrics  # noqa: F401 - registers every metric of the service
from tests.observability.monitoring_files import (
    ALERT_RULE_FILES,
    DASHBOARDS,
    MONITORING,
    PROMETHEUS_DIR,
    alert_queries,
    alert_rules,
    binary,
    dashboard_queries,
    load_dashboard,
    metric_names,
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("promtool"), *args], capture_output=True, text=True, timeout=60,
                          cwd=PROMETHEUS_DIR)


def test_promtool_accepts_the_prometheus_config() -> None:
    result = _promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # `check config` also checks the rule files it loads: the glob must match them.
    assert all(path.name in result.stdout + result.stderr for path in ALERT_RULE_FILES)


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", *[str(p) for p in ALERT_RULE_FILES])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_unit_tests_pass() -> None:
    result = _promtool("test", "rules", "tests/alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_and_documented() -> None:
    tested = (PROMETHEUS_DIR / "tests" / "alerts.test.yml").read_text()
    names = [rule["alert"] for rule in alert_rules() if "alert" in rule]
    required = {"SupportBackendDown", "SupportHighErrorRate", "SupportHighLatencyP95", "SupportEscalationSpike",
                "SupportCircuitBreakerOpen", "SupportRedisUnavailable"}
    assert required <= set(names)
    assert len(names) == len(set(names)), "duplicate alert names"
    for rule in alert_rules():
        assert f"alertname: {rule['alert']}\n" in tested, f"{rule['alert']} has no promtool unit test"
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"].get("summary") and rule["annotations"].get("description"), rule["alert"]


def test_alertmanager_routes_every_severity_to_a_receiver() -> None:
    config = yaml.safe_load((MONITORING / "alertmanager" / "alertmanager.yml").read_text())
    receivers = {r["name"] for r in config["receivers"]}
    route = config["route"]
    assert route["receiver"] in receivers
    assert all(child["receiver"] in receivers for child in route.get("routes", []))
    matched = " ".join(m for child in route.get("routes", []) for m in child.get("matchers", []))
    assert 'severity="critical"' in matched, "critical alerts must page"


def test_grafana_provisioning_points_at_the_dashboards_datasource() -> None:
    provisioning = MONITORING / "grafana" / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert [d["type"] for d in datasources] == ["prometheus"]
    providers = yaml.safe_load((provisioning / "dashboards" / "support-agent.yml").read_text())["providers"]
    assert providers[0]["type"] == "file" and providers[0]["options"]["path"]
    for path in DASHBOARDS:
        variables = {v["name"]: v for v in load_dashboard(path)["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == datasources[0]["uid"], path.name


def test_dashboards_are_well_formed() -> None:
    assert {p.name for p in DASHBOARDS} == {"overview.json", "agent-and-tools.json", "knowledge-base.json"}
    uids = set()
    for path in DASHBOARDS:
        board = load_dashboard(path)
        assert board["uid"] not in uids and board["title"], path.name
        uids.add(board["uid"])
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in board["panels"]:
            where = f"{path.name}: {panel['title']}"
            assert panel["type"] in {"timeseries", "stat"}, where
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, where
            assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), where
            assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"]), where


@pytest.mark.parametrize("query", dashboard_queries() + alert_queries(), ids=lambda q: q.source)
def test_expressions_only_read_metrics_the_service_defines(query) -> None:
    defined = {"up"}
    for family in REGISTRY.collect():
        defined |= {sample.name for sample in family.samples} | {family.name}
    # Histograms expose _bucket/_sum/_count only once observed; name them from the family.
    for family in REGISTRY.collect():
        if family.type == "histogram":
            defined |= {f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        if family.type == "counter":
            defined.add(f"{family.name}_total")
    unknown = metric_names(query.expr) - defined
    assert not unknown, f"{query.source} reads metrics no code defines: {unknown}"
