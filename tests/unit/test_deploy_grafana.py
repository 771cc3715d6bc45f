"""deploy/grafana: provisioning and dashboard are consistent with each other and the worker.

The helpers :func:`promql_metric_names` and :func:`dashboard_exprs` are also used by
``tests/integration/test_prometheus_e2e.py`` to check the dashboard against a live scrape.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "veille.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "veille.yml"

_KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left",
             "group_right", "offset", "inf", "nan", "atan2"}
#: Stand-ins for Grafana's variables when an expression must be valid PromQL.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                "$brand": ".*"}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names used in a PromQL expression (Grafana variables allowed).

    >>> sorted(promql_metric_names(
    ...     'histogram_quantile(0.95, sum by (le) (rate(a_bucket{x=~"$v"}[$__rate_interval])))'
    ...     ' / on (brand) group_left () max by (brand) (b offset 1d) > 1e-9'))
    ['a_bucket', 'b']
    >>> sorted(promql_metric_names("label_values(veille_brand_event_time_seconds, brand)"))
    ['veille_brand_event_time_seconds']
    """
    e = re.sub(r"label_values\(\s*(.*?)\s*,\s*\w+\s*\)", r"\1", expr, flags=re.S)
    e = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', e)
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "", e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+-?\w+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?", e):
        if m.group(2) is None and m.group(1) not in _KEYWORDS:
            names.add(m.group(1))
    return names


def dashboard_exprs(dash: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target, annotation and query variable."""
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield f"panel {p['id']} {p['title']!r} {t['refId']}", t["expr"]
    for a in dash["annotations"]["list"]:
        if a.get("expr"):
            yield f"annotation {a['name']!r}", a["expr"]
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            yield f"variable {v['name']}", q


def with_vars(expr: str) -> str:
    """The expression with Grafana's variables replaced by valid PromQL."""
    for var, value in sorted(GRAFANA_VARS.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(var, value)
    return expr


def worker_metric_names() -> set[str]:
    """Every series name the worker can export (from the registry) plus Prometheus' ``up``."""
    from prometheus_client import REGISTRY

    import agents.metrics  # noqa: F401 - registers the catalog

    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count",
                                                                 "_created"),
                "summary": ("", "_sum", "_count", "_created"), "gauge": ("",), "info": ("_info",)}
    names = {"up"}
    for fam in REGISTRY.collect():
        names |= {fam.name + s for s in suffixes.get(fam.type, ("",))}
        names |= {s.name for s in fam.samples}
    return names


def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def provisioned_datasource_uids() -> set[str]:
    return {d["uid"] for d in yaml.safe_load(DATASOURCES.read_text())["datasources"]}


def _refs(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "datasource":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_dashboard_model_is_well_formed():
    dash = load_dashboard()
    assert dash["uid"] and dash["title"] and isinstance(dash["schemaVersion"], int)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    for p in dash["panels"]:
        g = p["gridPos"]
        assert {"x", "y", "w", "h"} <= set(g) and 0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"]
        assert p["targets"], f"panel {p['title']!r} has no query"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        assert all(t["expr"].strip() for t in p["targets"]), p["title"]


def test_dashboard_covers_the_issue_panels():
    used = set()
    for _, expr in dashboard_exprs(load_dashboard()):
        used |= promql_metric_names(expr)
    for name in ("veille_volume_observed", "veille_volume_expected", "veille_volume_lower",
                 "veille_volume_upper", "veille_anomaly_score", "veille_crisis_score",
                 "veille_negative_share", "veille_negative_baseline", "veille_incident_level",
                 "veille_alerts_total", "veille_mentions_processed_total",
                 "veille_deadletter_total", "veille_brand_event_time_seconds",
                 "veille_batch_seconds_bucket", "veille_alert_latency_seconds_bucket"):
        assert name in used, name
    brand = [v for v in load_dashboard()["templating"]["list"] if v["name"] == "brand"]
    assert brand and "label_values(" in json.dumps(brand[0]["query"])


def test_every_datasource_reference_is_the_provisioned_one():
    uids = provisioned_datasource_uids()
    refs = list(_refs(load_dashboard()))
    assert refs
    for ref in refs:
        if isinstance(ref, dict) and ref.get("type") == "grafana":
            continue  # Grafana's built-in annotations
        assert isinstance(ref, dict) and ref.get("uid") in uids and ref["type"] == "prometheus", ref


def test_every_metric_in_the_dashboard_is_exported_by_the_worker():
    exported = worker_metric_names()
    unknown = {}
    for where, expr in dashboard_exprs(load_dashboard()):
        missing = promql_metric_names(expr) - exported
        if missing:
            unknown[where] = sorted(missing)
    assert unknown == {}


def test_every_dashboard_query_is_valid_promql(tmp_path: Path):
    """Each query, with Grafana's variables substituted, as a recording rule for promtool."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("`promtool` is not installed: run `make system-deps`", pytrace=False)
    rules = [{"record": f"dashboard:query:{i}", "expr": with_vars(expr)}
             for i, (_, expr) in enumerate(dashboard_exprs(load_dashboard()))
             if not expr.startswith("label_values(")]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dashboard_provider_points_at_the_mounted_dashboards():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    provider = yaml.safe_load(PROVIDERS.read_text())["providers"][0]
    mounts = {}
    for v in compose["services"]["grafana"]["volumes"]:
        src, dst = v.split(":")[:2]
        mounts[dst] = (ROOT / src).resolve()
    assert mounts[provider["options"]["path"]] == DASHBOARD.parent.resolve()
    assert mounts["/etc/grafana/provisioning"] == (GRAFANA / "provisioning").resolve()
    url = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]["url"]
    assert url == "http://prometheus:9090" and "prometheus" in compose["services"]
