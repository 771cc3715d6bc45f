"""The mentions path: batches of raw ``veille.mentions`` records through the engine, results out.

Records reach :func:`handle_batch` in batches from :mod:`agents.ingest` (no Faust stream/event
per record). Per batch: the engine decodes, validates, scores and watches every record; scored
mentions go to ``veille.mentions.scored``, incident updates to ``veille.alerts``, rejected
records (original bytes, reason in headers) to ``veille.deadletter``. The batch's offsets are
acknowledged only after this returns (:meth:`agents.recovery.Recovery.run_batch`), and every
output producer is flushed before any commit (:mod:`agents.outputs`), so nothing is committed
before it is processed and its outputs are on the broker (at-least-once).

Brand state is snapshotted into the ``brand-state`` table (changelog-backed) before every offset
commit, with the input offset it covers, on the changelog partition of the brand's input
partition; a resumed brand skips the events its snapshot already holds (:mod:`agents.recovery`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from agents import ingest, metrics
from agents.deadletter import deadletter_headers, source_message
from agents.outputs import Outputs
from pipeline.codec import Rejection, encode


def restorer(worker: Any) -> Callable[[str], dict[str, Any] | None]:
    """The engine's hook to resume a brand from the state table (see :mod:`agents.recovery`)."""
    return worker.recovery.restore


async def handle_batch(worker: Any, records: Sequence[Any]) -> None:
    """Process one batch of raw mention records (never raises on bad input).

    ``records`` have ``topic``, ``partition``, ``offset``, ``timestamp`` (ms), ``key`` and
    ``value`` (aiokafka ``ConsumerRecord``).
    """
    started = time.perf_counter()
    engine = worker.engine
    values = [r.value for r in records]
    stamps = [r.timestamp / 1000.0 for r in records]
    keys = [r.key for r in records]
    cpu = time.thread_time()
    try:
        out = engine.process(values, stamps, keys)
    except Exception:  # a bug must not lose the batch: isolate the record(s) at fault
        worker.app.log.exception("engine failed on a batch; retrying record by record")
        for rec, value, stamp in zip(records, values, stamps):
            try:
                one = engine.process([value], [stamp], [rec.key])
            except Exception as exc_one:  # noqa: BLE001 - dead-letter whatever broke
                rej = Rejection("processing_error", f"{type(exc_one).__name__}: {exc_one}"[:300])
                await _deadletter(worker, rec, rej)
                metrics.RECEIVED.inc()
                metrics.DEADLETTERED.labels(rej.reason).inc()
                continue
            await _publish(worker, [rec], one)
        return
    metrics.ENGINE_SECONDS.inc(time.thread_time() - cpu)
    await _publish(worker, records, out)  # delivered before any commit (agents.outputs)
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)


async def _deadletter(worker: Any, source: Any, rejection: Rejection) -> None:
    """Dead-letter ``source`` (a raw record or a Faust event): original bytes, reason headers."""
    msg = source_message(source)
    await worker.outputs.send(
        worker.settings.topics.deadletter, msg.key, msg.value,
        deadletter_headers(msg, rejection),
    )


async def _publish(worker: Any, records: Sequence[Any], out: Any) -> None:
    names = worker.settings.topics
    outputs = worker.outputs
    if not outputs.started:
        await outputs.start()
    send = outputs.append if outputs.batching else None
    dumps = orjson.dumps
    for index, rejection in out.rejected:
        await _deadletter(worker, records[index], rejection)
    rows = [(names.scored, s["mention"]["brand"], dumps(s)) for s in out.scored]
    rows += [(names.posts_reviewed, r["brand"], dumps(r)) for r in out.reviews]
    rows += [(names.trends, t["brand"], dumps(t)) for t in out.trends]
    rows += [(names.alerts, a.brand, encode(a)) for a in out.alerts]
    if send is not None:
        for topic, brand, value in rows:
            send(topic, brand.encode(), value)
        outputs.ship_later()  # shipped while the next batch is scored; flushed before commits
        if outputs.backlogged:
            await outputs.ship()
    else:
        for topic, brand, value in rows:
            await outputs.send(topic, brand.encode(), value)
    now = time.time()
    if out.alerts:
        produced = max(r.timestamp for r in records) / 1000.0
        for _ in out.alerts:
            metrics.ALERT_LATENCY.observe(max(0.0, now - produced))
    metrics.record_batch(out, len(records))
    _export_brands(worker, records)


def _export_brands(worker: Any, records: Sequence[Any]) -> None:
    """Export the batch's brands' figures. (Snapshots are written before each offset commit,
    :mod:`agents.recovery`, so that committed offsets are always covered by them.)"""
    watches = worker.engine.watches
    for key in {r.key for r in records if r.key}:
        watch = watches.get(key.decode("utf-8", "replace"))
        if watch is not None:
            metrics.record_brand(watch)


def register(worker: Any) -> None:
    """Attach the mentions path to the app: the topic is subscribed through Faust's conductor
    (group, assignment, commits stay Faust's); its records go to :mod:`agents.ingest`."""
    worker.outputs = Outputs(worker)
    worker.ingest = ingest.Ingest(worker, handle_batch, freeze=True)
    ingest.install(worker.app, worker.ingest)
    worker.app.topics.add(worker.topics.mentions)
