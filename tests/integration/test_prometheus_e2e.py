"""End to end with a real Prometheus: embedded broker, a worker, a simulated crisis.

Prometheus (Debian package, ``make system-deps``) runs on loopback with the repository's
``deploy/prometheus/prometheus.yml`` and ``rules.yml``, adapted for a test that lasts a minute:
1 s scrape and evaluation intervals, the worker as a static target (job ``veille-worker``, as
in compose), and every ``for:`` shortened to :data:`FOR`. The demo's simulated stream (two hours
of history, then a crisis on acme about 20 event minutes into the live part, paced at
:data:`SPEEDUP`) goes through the worker; the test asserts that ``VeilleCrisis`` for acme goes
*pending* and then *firing* (its ``ALERTS`` series), that every rule evaluates without error, and
that the dashboard's metric names are all in the worker's live scrape.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from agents import kafka
from agents.brokers import free_port, spawn_child
from agents.produce import produce_mentions
from agents.workers import WorkerProcess
from pipeline.settings import DetectionSettings, Settings
from pipeline.simulate import demo_config, generate
from pipeline.simulate.brands import DEMO_BRANDS

ROOT = Path(__file__).resolve().parents[2]
PROM_DIR = ROOT / "deploy" / "prometheus"
#: Event seconds per wall second in the live part (the demo's pace, halved for a longer crisis).
SPEEDUP = 30.0
#: ``for:`` of every rule in the test copy.
FOR = "3s"
#: Bound on the whole crisis wait (history + 20 event minutes at SPEEDUP + rule delays).
CRISIS_TIMEOUT_S = 240.0

pytestmark = [pytest.mark.prometheus, pytest.mark.tansu, pytest.mark.slow]


def _grafana_helpers() -> Any:
    """The dashboard helpers of tests/unit/test_deploy_grafana.py (one parser for both tiers)."""
    path = ROOT / "tests" / "unit" / "test_deploy_grafana.py"
    spec = importlib.util.spec_from_file_location("_veille_grafana_helpers", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed: run `make system-deps`", pytrace=False)
    return path


def rules_copy(tmp_path: Path) -> Path:
    """Write rules.yml with every ``for:`` set to FOR; returns its path (also checks it)."""
    rules = yaml.safe_load((PROM_DIR / "rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FOR
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path



def prometheus_config(tmp_path: Path, target: str) -> Path:
    """deploy/prometheus/prometheus.yml for the test: 1 s intervals, static worker target."""
    conf = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    conf["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    conf.pop("alerting", None)
    job = next(j for j in conf["scrape_configs"] if j["job_name"] == "veille-worker")
    job.pop("dns_sd_configs")
    job["static_configs"] = [{"targets": [target]}]
    conf["scrape_configs"] = [job]
    conf["rule_files"] = [str(rules_copy(tmp_path))]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False))
    return path


class Prometheus:
    """A Prometheus server on loopback, in its own session, killed with the test."""

    def __init__(self, config: Path, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "prometheus.log"
        self.cmd = [_binary("prometheus"), f"--config.file={config}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> Prometheus:
        log = open(self.log_path, "ab", buffering=0)
        self.proc = spawn_child(self.cmd, signal.SIGKILL, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited {self.proc.returncode}:\n{self.tail()}")
            try:
                urllib.request.urlopen(self.url + "/-/ready", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"prometheus not ready after {timeout}s:\n{self.tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def scrape_names(text: str) -> set[str]:
    """Every series name a /metrics text declares (families with their suffixes, and samples)."""
    suffixes = {"counter": ("_total", "_created"),
                "histogram": ("_bucket", "_sum", "_count", "_created"),
                "summary": ("", "_sum", "_count", "_created"), "gauge": ("",)}
    names = set()
    for fam in text_string_to_metric_families(text):
        names |= {fam.name + s for s in suffixes.get(fam.type, ("",))}
        names |= {s.name for s in fam.samples}
    return names


async def _run_until_firing(settings: Settings, prom: Prometheus) -> list[tuple[float, str]]:
    """Produce the demo stream; poll Prometheus until VeilleCrisis{brand=acme} fires."""
    cfg = demo_config(seed=0)
    mentions, _truth = generate(cfg)
    stop = asyncio.Event()
    await kafka.ensure_topics(settings)
    producer = asyncio.create_task(produce_mentions(
        settings, mentions, speedup=SPEEDUP, live_from=cfg.live_from_ts, stop=stop))
    seen: list[tuple[float, str]] = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < CRISIS_TIMEOUT_S:
            if producer.done() and producer.exception() is not None:
                raise producer.exception()
            alerts = await asyncio.to_thread(prom.api, "alerts")
            for a in alerts["alerts"]:
                if a["labels"].get("alertname") == "VeilleCrisis" and \
                        a["labels"].get("brand") == "acme":
                    if not seen or seen[-1][1] != a["state"]:
                        seen.append((round(time.monotonic() - t0, 1), a["state"]))
            if seen and seen[-1][1] == "firing":
                return seen
            await asyncio.sleep(0.25)
        return seen
    finally:
        stop.set()
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)


def first_states(prom: Prometheus, alertname: str, brand: str, since: float) -> dict[str, float]:
    """When (epoch s) the alert first was in each state since ``since``, from Prometheus's own
    ``ALERTS`` series: each rule evaluation writes its sample, so a state is there however
    long the test's poll of ``/api/v1/alerts`` was held up (a loaded machine)."""
    query = f'ALERTS{{alertname="{alertname}",brand="{brand}"}}'
    deadline = time.monotonic() + 30
    while True:  # the firing sample lands with the evaluation's commit, just after the API
        data = prom.api("query_range", query=query, start=f"{since:.3f}",
                        end=f"{time.time():.3f}", step="1")
        first = {r["metric"]["alertstate"]: float(r["values"][0][0]) for r in data["result"]}
        if "firing" in first or time.monotonic() > deadline:
            return first
        time.sleep(1.0)


def test_crisis_alert_goes_pending_then_firing(broker_factory, tmp_path: Path):
    _binary("prometheus")
    broker = broker_factory("tansu")
    settings = Settings(
        kafka_bootstrap=broker.bootstrap, broker_kind="tansu", brands=list(DEMO_BRANDS),
        detection=DetectionSettings(warmup_s=3600), metrics_port=0,
        app_id=f"veille-e2e-{uuid.uuid4().hex[:8]}",
    )
    worker = WorkerProcess(settings, workdir=tmp_path / "worker")
    prom = None
    try:
        worker.start(timeout=90)
        target = worker.metrics_url.split("//", 1)[1].split("/", 1)[0]
        prom = Prometheus(prometheus_config(tmp_path, target), tmp_path).start()

        since = time.time()
        seen = asyncio.run(_run_until_firing(settings, prom))
        print(f"VeilleCrisis{{brand=acme}} states (wall s since production started): {seen}")
        states = [s for _, s in seen]
        assert "firing" in states, (
            f"VeilleCrisis{{brand=acme}} did not fire within {CRISIS_TIMEOUT_S}s: {seen}\n"
            f"worker log:\n{worker.tail()}\nprometheus log:\n{prom.tail()}")
        # pending first, as recorded by Prometheus (the poll above may miss the few seconds
        # of pending: it only samples /api/v1/alerts)
        first = first_states(prom, "VeilleCrisis", "acme", since)
        assert "pending" in first and "firing" in first, (first, seen)
        assert first["pending"] < first["firing"], (first, seen)

        # Every rule evaluates cleanly on real data (no many-to-many or type errors).
        bad = [(r["name"], r.get("lastError")) for g in prom.api("rules")["groups"]
               for r in g["rules"] if r.get("health") == "err"]
        assert bad == []

        # The dashboard against the live worker: every metric name it uses is in the scrape,
        # and every query is accepted by the real server.
        grafana = _grafana_helpers()
        live = scrape_names(worker.metrics()) | {"up"}
        dashboard = grafana.load_dashboard()
        missing = {where: sorted(grafana.promql_metric_names(expr) - live)
                   for where, expr in grafana.dashboard_exprs(dashboard)}
        assert {k: v for k, v in missing.items() if v} == {}
        for where, expr in grafana.dashboard_exprs(dashboard):
            if not expr.startswith("label_values("):
                prom.api("query", query=grafana.with_vars(expr))  # raises on bad_data
        brands = prom.api("label/brand/values")
        assert {"acme", "nordair", "globex"} <= set(brands)
        level = prom.api("query", query='brand:veille_incident_level:owner{brand="acme"}')
        assert level["result"], "the owner recording rule has no value for acme"
    finally:
        if prom is not None:
            prom.stop()
        worker.stop()


def test_scrape_names_reads_families_without_samples():
    text = ("# HELP veille_mentions_late_total Late.\n# TYPE veille_mentions_late_total counter\n"
            "# HELP veille_volume_observed Obs.\n# TYPE veille_volume_observed gauge\n"
            'veille_volume_observed{brand="acme"} 3.0\n')
    assert {"veille_mentions_late_total", "veille_volume_observed"} <= scrape_names(text)
