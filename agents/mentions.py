"""The mentions agent: batches from ``veille.mentions`` through the engine, results out.

Per batch: the engine decodes, validates, scores and watches every record; scored mentions go to
``veille.mentions.scored``, incident updates to ``veille.alerts``, rejected records (original
bytes, reason in headers) to ``veille.deadletter``. Faust acks the batch's offsets only after
this returns, and flushes the producer before committing, so nothing is committed before it is
processed and its outputs are sent (at-least-once).

Brand state is snapshotted into the ``brand-state`` table (changelog-backed) before every offset
commit, with the input offset it covers, on the changelog partition of the brand's input
partition; a resumed brand skips the events its snapshot already holds (:mod:`agents.recovery`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from faust.types import EventT

from agents import metrics
from agents.deadletter import deadletter_headers
from agents.outputs import Outputs
from pipeline.codec import Rejection, encode


def restorer(worker: Any) -> Callable[[str], dict[str, Any] | None]:
    """The engine's hook to resume a brand from the state table (see :mod:`agents.recovery`)."""
    return worker.recovery.restore


async def handle_batch(worker: Any, events: Sequence[EventT]) -> None:
    """Process one batch of mention events (never raises on bad input)."""
    started = time.perf_counter()
    engine = worker.engine
    values = [e.value for e in events]
    stamps = [e.message.timestamp for e in events]
    try:
        out = engine.process(values, stamps)
    except Exception:  # a bug must not lose the batch: isolate the record(s) at fault
        worker.app.log.exception("engine failed on a batch; retrying record by record")
        out = None
        for event in events:
            try:
                one = engine.process([event.value], [event.message.timestamp])
            except Exception as exc_one:  # noqa: BLE001 - dead-letter whatever broke
                rej = Rejection("processing_error", f"{type(exc_one).__name__}: {exc_one}"[:300])
                await _deadletter(worker, event, rej)
                metrics.RECEIVED.inc()
                metrics.DEADLETTERED.labels(rej.reason).inc()
                continue
            await _publish(worker, [event], one)
        await worker.outputs.flush()
        return
    await _publish(worker, events, out)
    await worker.outputs.flush()  # outputs delivered before the batch is acked (agents.outputs)
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)


async def _deadletter(worker: Any, event: EventT, rejection: Rejection) -> None:
    await worker.outputs.send(
        worker.settings.topics.deadletter, event.message.key, event.message.value,
        deadletter_headers(event, rejection),
    )


async def _publish(worker: Any, events: Sequence[EventT], out: Any) -> None:
    names = worker.settings.topics
    send = worker.outputs.send
    dumps = orjson.dumps
    for index, rejection in out.rejected:
        await _deadletter(worker, events[index], rejection)
    topic = names.scored
    for scored in out.scored:
        await send(topic, scored["mention"]["brand"].encode(), dumps(scored))
    for review in out.reviews:
        await send(names.posts_reviewed, review["brand"].encode(), dumps(review))
    for trend in out.trends:
        await send(names.trends, trend["brand"].encode(), dumps(trend))
    now = time.time()
    for alert in out.alerts:
        await send(names.alerts, alert.brand.encode(), encode(alert))
    if out.alerts:
        produced = max(e.message.timestamp for e in events)
        for _ in out.alerts:
            metrics.ALERT_LATENCY.observe(max(0.0, now - produced))
    metrics.record_batch(out, len(events))
    _snapshot(worker, events, out, now)


def _snapshot(worker: Any, events: Sequence[EventT], out: Any, now: float) -> None:
    """Export the batch's brands' figures. Snapshots are written before each offset commit
    (:mod:`agents.recovery`), so that committed offsets are always covered by them."""
    seen: set[bytes] = set()
    for event in events:
        key = event.message.key
        if key and key not in seen:
            seen.add(key)
            watch = worker.engine.watches.get(key.decode("utf-8", "replace"))
            if watch is not None:
                metrics.record_brand(watch)


def register(worker: Any) -> None:
    """Attach the mentions agent to the app."""
    settings = worker.settings
    worker.outputs = Outputs(worker)

    @worker.app.agent(worker.topics.mentions, name="veille.mentions.score")
    async def score(stream):  # pragma: no cover - exercised by the integration tests
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            await worker.recovery.run_batch(events, handle_batch)
