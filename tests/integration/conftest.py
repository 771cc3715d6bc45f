"""Broker fixtures for the integration tier: embedded Tansu and real Apache Kafka on loopback.

Fixtures
--------
tansu : EmbeddedTansu
    Session-scoped, started once (milliseconds).
kafka : LocalKafka
    Session-scoped, started once (~5-7 s). FAILS (never skips) when the jars are missing:
    run ``deploy/kafka/fetch.sh`` (``make test`` does).
broker : Broker
    Parametrized over ``["tansu", "kafka"]`` (test ids ``[tansu]`` / ``[kafka]``, marks ``tansu`` /
    ``kafka``), so one end-to-end test runs against both. ``-m "not kafka"`` runs Tansu only.
broker_factory : callable
    ``broker_factory(kind, **kwargs)`` builds and starts a private broker, cleaned up after the
    test: for tests that restart, kill or stop a broker (never do that to the session ones).

Session brokers are shared: create topics with unique names (see ``unique_topic``).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from agents.brokers import Broker, EmbeddedTansu, KafkaJarsMissing, LocalKafka, make_broker

KINDS = ("tansu", "kafka")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tansu: needs the embedded Tansu broker")
    config.addinivalue_line(
        "markers", "kafka: needs the real Apache Kafka broker (jars from deploy/kafka/fetch.sh)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def _require_kafka_jars() -> None:
    if not LocalKafka.jars_present():
        pytest.fail(
            "Apache Kafka jars are missing: run deploy/kafka/fetch.sh (Maven Central), "
            "or deselect the real-Kafka tests with -m 'not kafka'.", pytrace=False)


@pytest.fixture(scope="session")
def tansu() -> Iterator[EmbeddedTansu]:
    b = EmbeddedTansu()
    b.start(timeout=30)
    try:
        yield b
    finally:
        b.cleanup()


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    _require_kafka_jars()
    b = LocalKafka()
    try:
        b.start(timeout=120)
    except KafkaJarsMissing as exc:  # pragma: no cover - jars vanished meanwhile
        pytest.fail(str(exc), pytrace=False)
    try:
        yield b
    finally:
        b.cleanup()


@pytest.fixture(
    params=[pytest.param("tansu", marks=pytest.mark.tansu),
            pytest.param("kafka", marks=pytest.mark.kafka)],
    ids=list(KINDS),
)
def broker(request: pytest.FixtureRequest) -> Broker:
    return request.getfixturevalue(request.param)


@pytest.fixture
def broker_factory() -> Iterator[Callable[..., Broker]]:
    made: list[Broker] = []

    def make(kind: str, start: bool = True, **kwargs) -> Broker:
        if kind == "kafka":
            _require_kafka_jars()
        b = make_broker(kind, **kwargs)
        made.append(b)
        return b.start(timeout=120) if start else b

    yield make
    for b in made:
        b.cleanup()


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``unique_topic("orders")`` -> ``"orders-<test>-<8 hex>"``, safe on shared brokers."""

    def name(prefix: str = "t") -> str:
        test = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40].strip("-")
        return f"{prefix}-{test}-{uuid.uuid4().hex[:8]}"

    return name
