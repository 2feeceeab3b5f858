"""Readers for monitoring/: dashboard panel expressions, alert rules, Prometheus binaries."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.config import REPO_ROOT
from tests.conftest import service_missing

MONITORING = REPO_ROOT / "monitoring"
PROMETHEUS_DIR = MONITORING / "prometheus"
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
ALERT_RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))

# What Grafana substitutes before a query reaches Prometheus; the values suit a test that lasts seconds
# with a 1 s scrape interval.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "5s", "$__range": "10m"}

_PROMQL_WORDS = {"by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right",
                 "offset", "bool", "inf", "nan", "le"}


@dataclass(frozen=True)
class Query:
    source: str  # "overview.json: Reply latency [B]" or "alert SupportBackendDown"
    expr: str


def binary(name: str) -> str:
    """Path of a Prometheus binary; skipped locally / failed under CI=true when not installed."""
    path = shutil.which(name)
    if path is None:
        service_missing("prometheus", f"`{name}` not on PATH; `make test` installs Debian's prometheus package")
    assert path is not None
    return path


def load_dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def dashboard_queries() -> list[Query]:
    """Every target of every panel of every dashboard, Grafana variables substituted."""
    queries = []
    for path in DASHBOARDS:
        for panel in load_dashboard(path)["panels"]:
            for target in panel.get("targets", []):
                queries.append(Query(f"{path.name}: {panel['title']} [{target['refId']}]",
                                     grafana_to_promql(target["expr"])))
    return queries


def alert_rules() -> list[dict[str, Any]]:
    rules = []
    for path in ALERT_RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(group["rules"])
    return rules


def alert_queries() -> list[Query]:
    return [Query(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules() if "alert" in rule]


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names an expression reads (label matchers, groupings, ranges and functions removed)."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end():].lstrip()
        if rest.startswith("(") or match.group().lower() in _PROMQL_WORDS:
            continue
        names.add(match.group())
    return names
