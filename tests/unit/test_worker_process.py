"""The managed worker child (:class:`agents.workers.WorkerProcess`): its metrics port."""

from __future__ import annotations

import socket

import pytest

from agents.workers import WorkerProcess
from pipeline.settings import Settings


def test_a_taken_metrics_port_is_refused_before_the_child_starts(tmp_path):
    """Another process's /metrics on the port would answer for the child: refused up front."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        w = WorkerProcess(Settings(kafka_bootstrap="127.0.0.1:1", metrics_port=port), tmp_path)
        with pytest.raises(RuntimeError, match=f"metrics port 127.0.0.1:{port} is taken"):
            w.start(timeout=5)
        assert w.pid is None and not w.running()

