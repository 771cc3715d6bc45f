"""docker-compose.yml and Dockerfile: valid compose spec, scalable workers, mounted files exist.

No Docker engine is needed: the compose file is validated against the compose-spec JSON Schema
(``check-jsonschema --builtin-schema vendor.compose-spec``) and read as YAML.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def bind_mounts(service: dict) -> list[tuple[Path, str]]:
    """(host path, container path) of the service's bind mounts (short syntax)."""
    out = []
    for v in service.get("volumes", []):
        src, dst = v.split(":")[:2]
        if src.startswith((".", "/")):
            out.append(((ROOT / src).resolve(), dst))
    return out


def test_compose_file_matches_the_compose_spec():
    cli = Path(sys.executable).parent / "check-jsonschema"
    assert cli.exists(), f"{cli} missing: run `make install` (the test extra has check-jsonschema)"
    proc = subprocess.run([str(cli), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_services():
    services = compose()["services"]
    assert {"kafka", "worker", "simulator", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", services["kafka"]["image"])
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "broker" in env["KAFKA_PROCESS_ROLES"]
    assert services["simulator"]["profiles"] == ["sim"]
    cmd = services["simulator"]["command"]
    assert cmd[:3] == ["simulate", "--speedup", "60"]


def test_worker_scales_and_exposes_metrics_to_prometheus():
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker, "would prevent --scale"
    env = worker["environment"]
    assert env["VEILLE_METRICS_HOST"] == "0.0.0.0"
    assert env["KAFKA_BOOTSTRAP"] == "kafka:9092"
    port = int(env["VEILLE_METRICS_PORT"])
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "veille-worker")
    sd = job["dns_sd_configs"][0]
    assert sd["names"] == ["worker"] and sd["type"] == "A" and sd["port"] == port
    # The default bind address stays loopback outside containers.
    from pipeline.settings import Settings

    assert Settings.model_fields["metrics_host"].default == "127.0.0.1"


def test_monitoring_mounts_exist_in_the_repo():
    services = compose()["services"]
    mounted = {}
    for name in ("prometheus", "alertmanager", "grafana"):
        mounts = bind_mounts(services[name])
        assert mounts, f"{name} mounts nothing from deploy/"
        for src, dst in mounts:
            assert src.exists(), f"{name}: {src} does not exist"
            assert ROOT / "deploy" in src.parents, src
            mounted[dst] = src
    prom_cmd = " ".join(services["prometheus"]["command"])
    config = re.search(r"--config\.file=(\S+)", prom_cmd).group(1)
    assert (mounted["/etc/prometheus"] / Path(config).name).is_file()
    assert (mounted["/etc/prometheus"] / "rules.yml").is_file()
    am_cmd = " ".join(services["alertmanager"]["command"])
    config = re.search(r"--config\.file=(\S+)", am_cmd).group(1)
    assert (mounted["/etc/alertmanager"] / Path(config).name).is_file()
    assert (mounted["/etc/grafana/provisioning"] / "datasources" / "prometheus.yml").is_file()
    assert (mounted["/var/lib/grafana/dashboards"] / "veille.json").is_file()


def test_prometheus_reaches_alertmanager_by_service_name():
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]


def test_dockerfile_builds_the_package_on_python_311_slim():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^RUN pip install \.", text, re.M)
    assert re.search(r"^ENV VEILLE_METRICS_HOST=0\.0\.0\.0", text, re.M)
    for src in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for path in src.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which does not exist"
    assert 'ENTRYPOINT ["veille"]' in text
