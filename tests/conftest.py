"""Settings for every test: no fixed port.

Test runs share the machine: a worker started with the default metrics port (9464) collided
with another run's ("Address already in use", or a test reading the other worker's /metrics).
``VEILLE_METRICS_PORT=0`` and ``VEILLE_WEB_PORT=0`` make every :class:`~pipeline.settings.Settings`
built in the tests (unless a test passes a port itself) pick a free metrics port
(:class:`agents.workers.WorkerProcess` and the in-process server take one) and start no Faust
web server; subprocesses (``veille worker``, ``veille demo``) inherit them.
"""
from __future__ import annotations

import os

os.environ["VEILLE_METRICS_PORT"] = "0"
os.environ["VEILLE_WEB_PORT"] = "0"
