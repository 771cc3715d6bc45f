"""Analysts' corrections on ``veille.labels`` teach the sentiment model, on every worker.

Every worker keeps the same sentiment model: the shipped cold-start model plus **every** label of
the topic, learnt in topic order. Two parts:

* **learner** (:func:`learn_all`, an ``app.task`` on every worker): a plain aiokafka consumer
  with *no group* (``agents.kafka.consumer``, so the security settings apply), assigned all
  partitions of ``veille.labels``, reading from the beginning. It learns every valid label that
  carries its ``text`` and skips the others (bad records, labels without text: see below). So
  all workers converge to the same model, and a restart rebuilds it deterministically from the
  topic (the topic keeps labels forever, ``retention.ms=-1``: they are the training data). Each
  fetch is learnt in (record timestamp, partition, offset) order; labels published within the
  same instant on two partitions may be learnt in another order by a worker that reads them in
  one fetch rather than two (a negligible difference in the weights, not in what is learnt).
* **checker** (agent ``veille.labels.check``, Faust consumer group: each record is handled by
  exactly one worker): bad records go to the dead-letter topic with their reason (once, not
  once per worker). A label without ``text`` is completed from the mentions this worker
  scored recently (``Engine`` keeps the last 200,000 ids with their text): the checker
  re-publishes it with ``text`` and ``lang`` filled in, on the same key, and the learners of all
  workers learn that copy. Labels keyed by brand (like mentions) land on the worker that scored
  the mention, since both topics have the same partition count. A label without text whose
  mention this worker has not seen is dead-lettered (``missing_field``): send the text.

``veille_labels_learned_total`` counts the labels this worker's model learnt since it started
(after a restart it counts the catch-up again). Until the catch-up is done, a restarted worker
scores with the labels read so far.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiokafka import TopicPartition

from agents import kafka, metrics
from agents.mentions import _deadletter
from pipeline.codec import Rejection, decode_label
from pipeline.schemas import Label
from pipeline.sentiment import SentimentModel

log = logging.getLogger(__name__)


def learnable(raw: bytes | None) -> Label | None:
    """The label a learner learns from a ``veille.labels`` record value, or None to skip it."""
    if raw is None:
        return None
    label = decode_label(raw)
    if isinstance(label, Rejection) or label.text is None:
        return None
    return label


async def _partitions(consumer: Any, topic: str) -> list[TopicPartition]:
    while True:
        await consumer.topics()  # metadata refresh
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        await asyncio.sleep(1.0)


async def learn_all(worker: Any, stop: asyncio.Event | None = None) -> None:
    """Learn every label of the labels topic, from the beginning, forever (see module doc)."""
    settings = worker.settings
    topic = settings.topics.labels
    consumer = kafka.consumer(settings)
    await consumer.start()
    try:
        parts = await _partitions(consumer, topic)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        while stop is None or not stop.is_set():
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            records = [r for recs in batch.values() for r in recs]
            records.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
            for r in records:
                label = learnable(r.value)
                if label is not None and worker.engine.learn_label(label):
                    metrics.LABELS.inc()
            if records:
                await asyncio.sleep(0)  # let the mention agents run between fetches
    finally:
        await consumer.stop()


def register(worker: Any) -> None:
    """Attach the labels checker agent and the learner task to the app."""

    @worker.app.task
    async def labels_learner() -> None:  # pragma: no cover - exercised by the integration tests
        while True:
            try:
                await learn_all(worker)
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker hiccup must not stop learning: start over, same result
                log.exception("labels learner failed; relearning from the beginning")
                worker.engine.sentiment = SentimentModel.default()
                await asyncio.sleep(2.0)

    @worker.app.agent(worker.topics.labels, name="veille.labels.check")
    async def check(stream):  # pragma: no cover - exercised by the integration tests
        async for event in stream.events():
            label = decode_label(event.value)
            if isinstance(label, Rejection):
                await _deadletter(worker, event, label)
                metrics.DEADLETTERED.labels(label.reason).inc()
                continue
            if label.text is not None:
                continue  # the learners take it
            known = worker.engine._recent.get(label.mention_id)
            if known is None:
                rej = Rejection(
                    "missing_field",
                    f"label for mention {label.mention_id[:80]!r} has no text and this worker "
                    "has not scored that mention: include the text (or key labels by brand)")
                await _deadletter(worker, event, rej)
                metrics.DEADLETTERED.labels(rej.reason).inc()
                continue
            full = label.model_copy(update={"text": known[0], "lang": label.lang or known[1]})
            await worker.topics.labels.send(
                key=event.message.key, value=orjson.dumps(full.model_dump(mode="json")))
