"""Chaos tier: the broker fixtures of the integration tier (same definitions)."""
from tests.integration.conftest import (  # noqa: F401 - fixtures
    _require_kafka_jars, broker_factory, kafka, pytest_configure, tansu,
)
