"""deploy/prometheus and deploy/alertmanager: promtool and amtool accept them, rule tests pass.

The binaries come from Debian (``make system-deps``); a missing binary fails the test with that
hint instead of skipping it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"

pytestmark = pytest.mark.prometheus


def tool(name: str) -> str:
    """Absolute path of a system binary, or a clear failure telling how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed: run `make system-deps` (Debian packages "
                    "prometheus and prometheus-alertmanager)", pytrace=False)
    return path


def run(*cmd: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def rules() -> list[dict]:
    doc = yaml.safe_load((PROM / "rules.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_promtool_check_rules():
    run(tool("promtool"), "check", "rules", str(PROM / "rules.yml"))


def test_promtool_check_config():
    out = run(tool("promtool"), "check", "config", str(PROM / "prometheus.yml"))
    assert "1 rule files found" in out.stdout + out.stderr


def test_promtool_rule_unit_tests():
    run(tool("promtool"), "test", "rules", str(PROM / "rules.test.yml"))


def test_amtool_check_config():
    run(tool("amtool"), "check-config", str(ALERTMANAGER))


def test_every_alert_routes_by_severity_and_explains_itself():
    alerts = [r for r in rules() if "alert" in r]
    names = {a["alert"] for a in alerts}
    assert {"VeilleCrisis", "VeilleSurge", "VeilleWorkerDown", "VeilleNoWorker",
            "VeilleEventTimeLagHigh", "VeilleDeadLetterRateHigh", "VeilleBrandSilent",
            "VeilleAccountHijacked", "VeilleImpostor", "VeilleTrollRaid", "VeilleSlowAnswers",
            "VeillePostBlocked"} <= names
    for a in alerts:
        assert a["labels"]["severity"] in ("critical", "warning", "info"), a["alert"]
        assert a["annotations"]["summary"] and a["annotations"]["description"], a["alert"]
        # what the person paged should do, in plain words (no template: same for every brand)
        assert len(a["annotations"].get("runbook", "")) > 80, a["alert"]
        assert "{{" not in a["annotations"]["runbook"], a["alert"]
        if "brand" in a["expr"] and a["alert"] != "VeilleDeadLetterRateHigh":
            assert "$labels.brand" in a["annotations"]["summary"], a["alert"]


def test_every_alert_is_unit_tested():
    tested = set()
    for case in yaml.safe_load((PROM / "rules.test.yml").read_text())["tests"]:
        tested |= {t["alertname"] for t in case.get("alert_rule_test", [])
                   if t.get("exp_alerts")}
    assert {r["alert"] for r in rules() if "alert" in r} <= tested


@pytest.mark.parametrize(("labels", "receiver"), [
    (["alertname=VeilleCrisis", "severity=critical", "brand=acme"], "veille-page"),
    (["alertname=VeilleNoWorker", "severity=critical"], "veille-page"),
    (["alertname=VeilleSurge", "severity=warning", "brand=acme"], "veille-notify"),
    (["alertname=Other"], "veille-notify"),
])
def test_alertmanager_routes_by_severity(labels, receiver):
    out = run(tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER}",
              *labels)
    assert out.stdout.split() == [receiver]


def test_alertmanager_groups_by_brand_and_crisis_inhibits_surge():
    conf = yaml.safe_load(ALERTMANAGER.read_text())
    assert {"alertname", "brand"} <= set(conf["route"]["group_by"])
    inhibit = [r for r in conf["inhibit_rules"]
               if r["source_matchers"] == ['alertname="VeilleCrisis"']]
    assert inhibit and inhibit[0]["target_matchers"] == ['alertname="VeilleSurge"']
    assert inhibit[0]["equal"] == ["brand"]
    # Alert names used by Alertmanager exist in the rules.
    names = {r["alert"] for r in rules() if "alert" in r}
    for rule in conf["inhibit_rules"]:
        for m in rule["source_matchers"] + rule["target_matchers"]:
            match = re.fullmatch(r'alertname(=~|=)"([^"]*)"', m)
            if match:
                assert set(match.group(2).split("|")) <= names, m


def _grafana_helpers():
    """The PromQL helpers of test_deploy_grafana.py (one metric-name parser for all checks)."""
    import importlib.util

    path = Path(__file__).with_name("test_deploy_grafana.py")
    spec = importlib.util.spec_from_file_location("_veille_grafana_helpers", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_metric_in_the_rules_is_exported_or_recorded():
    helpers = _grafana_helpers()
    known = helpers.worker_metric_names() | {r["record"] for r in rules() if "record" in r}
    unknown = {}
    for r in rules():
        missing = helpers.promql_metric_names(r["expr"]) - known
        if missing:
            unknown[r.get("alert") or r.get("record")] = sorted(missing)
    assert unknown == {}
