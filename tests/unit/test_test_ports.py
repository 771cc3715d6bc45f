"""The test session binds no fixed port (tests/conftest.py): runs sharing a machine coexist."""

from __future__ import annotations

from agents.workers import WorkerProcess, worker_env
from pipeline.settings import Settings


def test_settings_built_in_tests_take_a_free_metrics_port_and_no_web_server(tmp_path):
    s = Settings(kafka_bootstrap="127.0.0.1:1")
    assert s.metrics_port == 0 and s.web_port == 0
    worker = WorkerProcess(s, tmp_path)
    assert worker.metrics_port not in (0, 9464)
    env = worker_env(s, worker.metrics_port, tmp_path)
    assert env["VEILLE_METRICS_PORT"] == str(worker.metrics_port)
    assert env["VEILLE_WEB_PORT"] == "0"
