"""Run ``veille worker`` as a managed child process (demo, integration and chaos tests).

The child never outlives us (own session, PDEATHSIG, atexit), logs to a file, and can be
stopped gracefully (SIGTERM: Faust shuts down and commits) or killed (SIGKILL).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from pathlib import Path

import orjson

from agents.brokers import free_port, port_is_free, spawn_child
from pipeline.settings import Settings

_LIVE: weakref.WeakSet[WorkerProcess] = weakref.WeakSet()


def worker_env(settings: Settings, metrics_port: int, data_dir: Path) -> dict[str, str]:
    """Environment that hands ``settings`` to a ``veille worker`` child."""
    env = dict(os.environ)
    env.update({
        "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "VEILLE_BROKER_KIND": settings.broker_kind,
        "VEILLE_APP_ID": settings.app_id,
        "VEILLE_METRICS_HOST": settings.metrics_host,
        "VEILLE_METRICS_PORT": str(metrics_port),
        "VEILLE_WEB_PORT": "0",
        "VEILLE_DATA_DIR": str(data_dir),
        "VEILLE_BRANDS": orjson.dumps([b.model_dump(mode="json") for b in settings.brands]).decode(),
        "VEILLE_DETECTION": orjson.dumps(settings.detection.model_dump(mode="json")).decode(),
        "VEILLE_TOPICS": orjson.dumps(settings.topics.model_dump(mode="json")).decode(),
        "VEILLE_ACCEPT_UNKNOWN_BRANDS": str(settings.accept_unknown_brands).lower(),
        "VEILLE_PROCESSING_GUARANTEE": settings.processing_guarantee,
        "VEILLE_SNAPSHOT_EVERY_S": str(settings.snapshot_every_s),
        "VEILLE_SNAPSHOT_MAX_BYTES": str(settings.snapshot_max_bytes),
    })
    env.pop("VEILLE_SETTINGS_FILE", None)
    return env


class WorkerProcess:
    """One ``veille worker`` child process.

    Parameters
    ----------
    settings
        Settings handed to the child through its environment.
    workdir
        Where its data dir and log go (a temp dir by default).
    """

    def __init__(self, settings: Settings, workdir: str | os.PathLike | None = None) -> None:
        self.settings = settings
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="veille-worker-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "worker.log"
        self.metrics_port = settings.metrics_port or free_port()
        self._proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._proc.pid if self._proc else None

    @property
    def metrics_url(self) -> str:
        """The child's /metrics URL."""
        return f"http://{self.settings.metrics_host}:{self.metrics_port}/metrics"

    def running(self) -> bool:
        """True while the child runs."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        """Start the child and wait until its /metrics answers.

        Raises RuntimeError at once when the metrics port is taken: another process's /metrics
        would answer for the child (which crashes on the port), so its start, progress and
        counts would be read from someone else's worker.
        """
        if not port_is_free(self.metrics_port, self.settings.metrics_host):
            raise RuntimeError(
                f"metrics port {self.settings.metrics_host}:{self.metrics_port} is taken (another "
                "worker?): set metrics_port=0 (VEILLE_METRICS_PORT=0) for a free one")
        env = worker_env(self.settings, self.metrics_port, self.workdir / "data")
        log = open(self.log_path, "ab", buffering=0)
        self._proc = spawn_child(
            [sys.executable, "-m", "agents.cli", "worker"], signal.SIGKILL,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=self.workdir,
        )
        log.close()
        _LIVE.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self._proc.returncode}; log:\n{self.tail()}")
            try:
                urllib.request.urlopen(self.metrics_url, timeout=1).read()
                return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"worker /metrics not up after {timeout}s; log:\n{self.tail()}")

    def metrics(self) -> str:
        """The child's current /metrics text."""
        return urllib.request.urlopen(self.metrics_url, timeout=5).read().decode()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (Faust shuts down cleanly), then SIGKILL after ``timeout``."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """SIGKILL now (crash)."""
        return self._end(signal.SIGKILL, 10.0)

    def _end(self, sig: int, timeout: float) -> int | None:
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        return proc.returncode

    def tail(self, lines: int = 40) -> str:
        """Last lines of the child's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for w in list(_LIVE):
        try:
            w.kill()
        except Exception:  # pragma: no cover - best effort at exit
            pass
