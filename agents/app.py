"""The Faust application factory and the one mapping from veille settings to Faust settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import faust

from agents.brokers import EmbeddedTansu
from agents.topics import Topics, declare_topics
from pipeline.engine import Engine
from pipeline.settings import Settings

def broker_credentials(settings: Settings) -> Any:
    """Faust credentials object from the security settings (None for plaintext)."""
    sec = settings.security
    if sec.protocol == "PLAINTEXT":
        return None
    ssl_context = None
    if sec.protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        ssl_context = create_ssl_context(
            cafile=sec.ssl_cafile, certfile=sec.ssl_certfile, keyfile=sec.ssl_keyfile
        )
    if sec.protocol == "SSL":
        return faust.SSLCredentials(ssl_context)
    password = sec.sasl_password.get_secret_value() if sec.sasl_password else None
    mechanism = sec.sasl_mechanism or "PLAIN"
    if mechanism == "PLAIN":
        return faust.SASLCredentials(
            username=sec.sasl_username, password=password, ssl_context=ssl_context,
            mechanism="PLAIN",
        )
    return faust.SASLCredentials(
        username=sec.sasl_username, password=password, ssl_context=ssl_context,
        mechanism=mechanism,
    )


def is_embedded(settings: Settings) -> bool:
    """True when the broker is the embedded Tansu (its workarounds then apply)."""
    return settings.broker_kind == "tansu"


#: Room for the key and the record's own overhead above :attr:`Settings.snapshot_max_bytes`.
RECORD_MARGIN = 16_384


def record_max_bytes(settings: Settings) -> int:
    """The producer's max request size and the changelog's ``max.message.bytes``.

    Kafka's defaults are ~1 MB (``message.max.bytes`` 1,048,588, aiokafka's max request
    1,048,576, Faust's 1,000,000); Tansu 0.6 enforces none (5 MB records were taken).

    >>> record_max_bytes(Settings())
    1016384
    """
    return settings.snapshot_max_bytes + RECORD_MARGIN


def faust_settings(settings: Settings) -> dict[str, Any]:
    """Map veille settings onto Faust's. The only place where Faust settings are chosen."""
    if not settings.kafka_bootstrap:
        raise ValueError(
            "no Kafka bootstrap: set KAFKA_BOOTSTRAP=host:port (or run `veille demo`, which "
            "starts the embedded broker)"
        )
    conf: dict[str, Any] = {
        "broker": [f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",")],
        "store": "memory://",
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.topics.partitions,
        "topic_replication_factor": settings.topics.replicas,
        "processing_guarantee": settings.processing_guarantee,
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        "web_port": settings.web_port or 6066,
        "web_bind": settings.metrics_host,
        "web_host": settings.metrics_host,
        "table_standby_replicas": 0,
        # snapshots are taken at each commit (agents.recovery): one period for both
        "broker_commit_interval": settings.snapshot_every_s,
        # one brand snapshot = one record: explicit, consistent with the changelog topic's
        "producer_max_request_size": record_max_bytes(settings),
    }
    creds = broker_credentials(settings)
    if creds is not None:
        conf["broker_credentials"] = creds
    if is_embedded(settings):  # fast group join, one record per batch (see agents.brokers)
        conf.update(EmbeddedTansu.faust_overrides)
    return conf


#: The mentions consumer's fetch wait (ms). Faust hard-codes 1500 ms; a fetch for partitions
#: with nothing new then held the next one (one fetch in flight per broker) for up to 1.5 s
#: while records of the others waited: p50 produce->scored ~1.5 s at 1,000 mentions/s.
FETCH_MAX_WAIT_MS = 100


def quiet_debug_logging() -> None:
    """Raise the root logger to its handlers' level.

    Faust's worker leaves the root logger at DEBUG for its startup spinner, so every
    ``log.debug`` of aiokafka (one per output record) built a LogRecord that no handler
    wanted: ~5 % of the worker's time. ``--loglevel debug`` still logs everything.
    """
    root = logging.getLogger()
    levels = [h.level for h in root.handlers if type(h).__name__ != "SpinnerHandler"]
    if levels and root.level < min(levels):
        root.setLevel(min(levels))


@dataclass
class Worker:
    """What the agents of one app share: settings, topics, the engine, the state table."""

    app: faust.App
    settings: Settings
    topics: Topics
    engine: Engine
    state: Any  # faust Table: brand -> snapshot bytes
    snapshot_at: dict[str, float] = field(default_factory=dict)
    recovery: Any = None  # agents.recovery.Recovery
    ingest: Any = None  # agents.ingest.Ingest (the mentions topic's batches)
    outputs: Any = None  # agents.outputs.Outputs


def create_app(settings: Settings) -> faust.App:
    """Build the Faust app with its topics, table and agents.

    The returned app has a ``veille`` attribute (:class:`Worker`) that tests use to reach the
    engine and topics.
    """
    from agents import labels, mentions, metrics_server, posts, recovery, recovery_watch

    app = faust.App(settings.app_id, **faust_settings(settings))
    app.conf.web_enabled = bool(settings.web_port)
    topics = declare_topics(app, settings)
    state = app.Table(
        "brand-state", default=None, key_type=bytes, value_type=bytes,  # bytes = raw serializer
        partitions=settings.topics.partitions,
        # applied when Faust creates the changelog (an existing topic keeps its own)
        extra_topic_configs={"max.message.bytes": str(record_max_bytes(settings))},
    )
    worker = Worker(app, settings, topics, Engine(settings), state)
    worker.recovery = recovery.Recovery(worker)
    recovery.install(app, worker.recovery)
    worker.engine.restore = mentions.restorer(worker)
    mentions.register(worker)
    labels.register(worker)
    posts.register(worker)
    metrics_server.register(worker)
    recovery_watch.register(app)
    app.task(_after_startup(app))
    app.veille = worker  # type: ignore[attr-defined]
    return app


def _after_startup(app: faust.App) -> Any:
    async def quiet_logging() -> None:  # runs once the worker has set its logging up
        quiet_debug_logging()

    return quiet_logging
