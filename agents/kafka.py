"""Plain aiokafka clients built from the same settings as the worker (security included)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from pipeline.settings import Settings


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """aiokafka keyword arguments for bootstrap and security (SASL/SSL) from the settings."""
    sec = settings.security
    kw: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": sec.protocol,
    }
    if sec.protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        kw["ssl_context"] = create_ssl_context(
            cafile=sec.ssl_cafile, certfile=sec.ssl_certfile, keyfile=sec.ssl_keyfile
        )
    if sec.protocol.startswith("SASL"):
        kw["sasl_mechanism"] = sec.sasl_mechanism or "PLAIN"
        kw["sasl_plain_username"] = sec.sasl_username
        kw["sasl_plain_password"] = (
            sec.sasl_password.get_secret_value() if sec.sasl_password else None
        )
    return kw


class BrokerUnreachable(ConnectionError):
    """No Kafka broker answered at the configured bootstrap; the message says what to check."""


class _Held(logging.Filter):
    """Holds aiokafka's log records while a client starts (see :func:`start`)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False


async def start(client: Any, settings: Settings) -> None:
    """Start an aiokafka client; a broker that does not answer is a :class:`BrokerUnreachable`.

    The client is closed before raising (no "Unclosed AIOKafka..." warning follows), and the
    message names the bootstrap, so a command can print it as is: aiokafka's own "Unable
    connect to ..." log lines of this start are then dropped (the message says it); its
    other log records are emitted after the start, as they came.
    """
    log = logging.getLogger("aiokafka")
    held = _Held()
    log.addFilter(held)
    failed = False
    try:
        await client.start()
    except KafkaConnectionError as exc:
        failed = True
        await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())
        raise BrokerUnreachable(
            f"no Kafka broker answers at {settings.kafka_bootstrap}: is it running, and is "
            "KAFKA_BOOTSTRAP (or kafka_bootstrap in the settings file) right? (`veille broker` "
            "starts a local one)") from exc
    finally:
        log.removeFilter(held)
        for record in held.records:
            if not (failed and str(record.msg).startswith("Unable connect to")):
                log.handle(record)


async def check_reachable(settings: Settings) -> None:
    """Connect once to the bootstrap and close: :class:`BrokerUnreachable` when no broker
    answers (for a command whose own client, such as Faust's, would print a traceback)."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await start(admin, settings)
    await admin.close()


def run(main: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` for the commands: an unreachable broker exits with status 2 and its
    message on stderr, not a traceback."""
    try:
        return asyncio.run(main)
    except BrokerUnreachable as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from exc


def producer(settings: Settings, **kw: Any) -> AIOKafkaProducer:
    """A producer with acks=all (not started)."""
    return AIOKafkaProducer(**client_kwargs(settings), acks="all", **kw)


def consumer(settings: Settings, *topics: str, **kw: Any) -> AIOKafkaConsumer:
    """A consumer (not started); no group unless ``group_id`` is given."""
    kw.setdefault("auto_offset_reset", "earliest")
    kw.setdefault("enable_auto_commit", False)
    return AIOKafkaConsumer(*topics, **client_kwargs(settings), **kw)


async def ensure_topics(settings: Settings, names: list[str] | None = None) -> None:
    """Create veille's topics (settings' partitions and replicas) if they do not exist."""
    t = settings.topics
    names = names or [t.mentions, t.scored, t.alerts, t.deadletter, t.labels, t.posts_outgoing,
                      t.posts_reviewed, t.trends]
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await start(admin, settings)
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, t.partitions, t.replicas) for n in names if n not in existing]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
