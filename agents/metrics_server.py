"""Serve Prometheus metrics from the worker on ``metrics_host:metrics_port`` (loopback default)."""

from __future__ import annotations

import sys
from typing import Any

from prometheus_client import start_http_server


def register(worker: Any) -> None:
    """Start the /metrics HTTP server when the worker starts."""
    settings = worker.settings

    @worker.app.task
    async def serve_metrics() -> None:  # pragma: no cover - exercised by the integration tests
        server, _thread = start_http_server(settings.metrics_port, addr=settings.metrics_host)
        worker.metrics_port = server.server_port
        worker.app.log.info("metrics on http://%s:%s/metrics", settings.metrics_host,
                            server.server_port)
        brands = (f"{len(settings.brands)} brand(s) configured" if settings.brands
                  else f"no brands configured: any brand is watched (up to "
                  f"{settings.max_brands:,})")
        print(f"veille worker running: broker {settings.kafka_bootstrap}, metrics "
              f"http://{settings.metrics_host}:{server.server_port}/metrics, {brands}; "
              "Ctrl-C stops it", file=sys.stderr, flush=True)
