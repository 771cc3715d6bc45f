"""Analysts' corrections on ``veille.labels`` teach the sentiment model, on every worker.

Every worker keeps the same sentiment model: the shipped cold-start model plus **every** label of
the topic, learnt in topic order. Two parts:

* **learner** (:func:`learn_all`, an ``app.task`` on every worker): a plain aiokafka consumer
  with *no group* (``agents.kafka.consumer``, so the security settings apply), assigned all
  partitions of ``veille.labels``, reading from the beginning. It learns every valid label that
  carries its ``text`` and skips the others (bad records, labels without text: see below). So
  all workers converge to the same model, and a restart rebuilds it deterministically from the
  topic (the topic keeps labels forever, ``retention.ms=-1``: they are the training data). A
  broker error does not: the learner resumes from the offsets it has learnt, with the model as
  it is (:func:`keep_learning`; it relearnt from the beginning before, scoring meanwhile with
  the cold-start model, and logged a traceback every 2 s while the broker was down). Each
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
(after a restart it counts the catch-up again).

Catch-up at start (:class:`CatchUp`, ``worker.labels_catchup``): the learner captures the end
offsets of every labels partition when it starts and sets ``ready`` (an :class:`asyncio.Event`)
once its position has reached them on every partition, i.e. once every label present at start is
learnt (or, on a broker whose end offsets overshoot, once a fetch comes back empty at the
partitions' high watermark). ``veille_labels_backlog`` is the number of those records not read
yet. :func:`wait_ready` is what the mentions agent awaits before its first batch: it waits at
most ``timeout`` seconds, logs the outcome, and counts it in
``veille_labels_wait_total{outcome="ready"|"timeout"}``; after a timeout the worker scores with
the labels read so far, and later calls return at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from agents import kafka, metrics
from agents.mentions import _deadletter
from pipeline.codec import Rejection, decode_label
from pipeline.schemas import Label
from pipeline.sentiment import SentimentModel

log = logging.getLogger(__name__)

#: Default bound of :func:`wait_ready`, in seconds.
READY_TIMEOUT_S = 60.0


@dataclass
class CatchUp:
    """Progress of the learner's start-up catch-up (see module docstring).

    Attributes
    ----------
    ready
        Set once every label present at start is learnt.
    present
        Records present on the labels topic at start (end minus beginning offsets).
    read
        Records of those read so far.
    waited
        True once :func:`wait_ready` has returned (ready or timed out): later calls return at
        once.
    positions
        Next offset to read per labels partition (what the model has learnt).
    """

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    present: int = 0
    read: int = 0
    started: float = field(default_factory=time.monotonic)
    waited: bool = False
    #: next offset to read per partition: the labels learnt so far. A learner restarted
    #: after a broker error resumes there with the model as it is (:func:`keep_learning`).
    positions: dict[TopicPartition, int] = field(default_factory=dict)


def catchup(worker: Any) -> CatchUp:
    """The worker's :class:`CatchUp` (created on first use)."""
    state = getattr(worker, "labels_catchup", None)
    if state is None:
        state = CatchUp()
        worker.labels_catchup = state
    return state


async def wait_ready(worker: Any, timeout: float = READY_TIMEOUT_S) -> bool:
    """Wait (at most ``timeout`` s, once per worker) until the labels present at start are
    learnt. Returns True when they are, False after a timeout (the worker then scores with the
    labels read so far)."""
    state = catchup(worker)
    if state.ready.is_set() or state.waited:
        return state.ready.is_set()
    log.info("labels: waiting up to %.0f s for the %d labels records present at start "
             "before scoring", timeout, state.present)
    try:
        await asyncio.wait_for(state.ready.wait(), timeout)
    except asyncio.TimeoutError:
        state.waited = True
        metrics.LABELS_WAIT.labels("timeout").inc()
        log.warning("labels: catch-up not done after %.0f s (%d of %d records present at start "
                    "read); scoring with the labels learnt so far", timeout, state.read,
                    state.present)
        return False
    state.waited = True
    metrics.LABELS_WAIT.labels("ready").inc()
    return True


async def _caught_up(consumer: Any, pending: dict[TopicPartition, int], empty: bool) -> bool:
    """Drop from ``pending`` the partitions whose position reached their end offset at start
    (or, after an empty fetch, their high watermark); True when none is left."""
    for tp in list(pending):
        pos = await consumer.position(tp)
        high = consumer.highwater(tp)
        if pos >= pending[tp] or (empty and high is not None and pos >= high):
            del pending[tp]
    return not pending


def learnable(raw: bytes | None) -> Label | None:
    """The label a learner learns from a ``veille.labels`` record value, or None to skip it."""
    if raw is None:
        return None
    label = decode_label(raw)
    if isinstance(label, Rejection) or label.text is None:
        return None
    return label


async def _partitions(consumer: Any, topic: str, state: CatchUp) -> list[TopicPartition]:
    """The labels topic's partitions, once it exists; until then there is no label to wait
    for, so the catch-up is ready at once."""
    while True:
        await consumer.topics()  # metadata refresh
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        if not state.ready.is_set():
            _set_ready(state, 0)
        await asyncio.sleep(1.0)


async def learn_all(worker: Any, stop: asyncio.Event | None = None) -> None:
    """Learn every label of the labels topic, from the beginning, forever (see module doc).

    Partitions with a position in :attr:`CatchUp.positions` (a previous call learnt up to
    there) are read from that position, the others from the beginning.
    """
    settings = worker.settings
    topic = settings.topics.labels
    state = catchup(worker)
    positions = state.positions
    consumer = kafka.consumer(settings)
    try:
        await consumer.start()
        parts = await _partitions(consumer, topic, state)
        consumer.assign(parts)
        begin = await consumer.beginning_offsets(parts)
        end = await consumer.end_offsets(parts)
        for tp in parts:
            if tp in positions:
                consumer.seek(tp, positions[tp])
            else:
                await consumer.seek_to_beginning(tp)
        pending = {tp: end[tp] for tp in parts if end[tp] > positions.get(tp, begin[tp])}
        if not positions:  # first read: what is present at start
            state.present = sum(end[tp] - begin[tp] for tp in pending)
            state.read = 0
        learned = 0
        if not state.ready.is_set():
            metrics.LABELS_BACKLOG.set(max(state.present - state.read, 0))
            if not pending:
                _set_ready(state, learned)
        while stop is None or not stop.is_set():
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            records = [r for recs in batch.values() for r in recs]
            records.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
            for r in records:
                label = learnable(r.value)
                if label is not None and worker.engine.learn_label(label):
                    metrics.LABELS.inc()
                    learned += 1
            for tp, recs in batch.items():
                if recs:
                    positions[tp] = recs[-1].offset + 1
            if not state.ready.is_set():
                state.read += sum(1 for r in records
                                  if r.offset < end.get(TopicPartition(r.topic, r.partition), 0))
                metrics.LABELS_BACKLOG.set(max(state.present - state.read, 0))
                if await _caught_up(consumer, pending, empty=not records):
                    metrics.LABELS_BACKLOG.set(0)
                    _set_ready(state, learned)
            if records:
                await asyncio.sleep(0)  # let the mention agents run between fetches
    finally:
        await consumer.stop()


#: Retry delays of :func:`keep_learning` after a broker error: doubling from the first, at
#: most the second, back to the first once an attempt has lasted ``RETRY_RESET_S``.
RETRY_S = (1.0, 30.0)
RETRY_RESET_S = 60.0


async def keep_learning(worker: Any, stop: asyncio.Event | None = None,
                        sleep: Any = asyncio.sleep) -> None:
    """Run :func:`learn_all` until ``stop``, through broker errors.

    A Kafka error (broker down, metadata unavailable) logs one line and retries after a
    growing delay (:data:`RETRY_S`), resuming from the positions learnt so far with the model
    as it is: a broker outage changes nothing in what is learnt, nor in what mentions are
    scored with meanwhile. Any other error resets the sentiment model and relearns from the
    beginning (logged with its traceback): a failure inside learning may have left a label
    half learnt.
    """
    state = catchup(worker)
    delay = RETRY_S[0]
    while stop is None or not stop.is_set():
        began = time.monotonic()
        try:
            await learn_all(worker, stop)
            return
        except asyncio.CancelledError:
            raise
        except KafkaError as exc:
            if time.monotonic() - began >= RETRY_RESET_S:
                delay = RETRY_S[0]
            log.warning("labels learner: %s; retrying in %.0f s, from the %d labels "
                        "partition position(s) learnt so far", exc, delay,
                        len(state.positions))
        except Exception:  # noqa: BLE001 - learning must go on: start over, same labels
            log.exception("labels learner failed; relearning from the beginning")
            worker.engine.sentiment = SentimentModel.default()
            state.positions.clear()
            delay = RETRY_S[0]
        await sleep(delay)
        delay = min(2 * delay, RETRY_S[1])


def _set_ready(state: CatchUp, learned: int) -> None:
    state.ready.set()
    log.info("labels: caught up: %d labels learnt from the %d records present at start, "
             "in %.1f s", learned, state.present, time.monotonic() - state.started)


def register(worker: Any) -> None:
    """Attach the labels checker agent and the learner task to the app, and the worker's
    :class:`CatchUp` (``worker.labels_catchup``, awaited by :func:`wait_ready`)."""
    catchup(worker)

    @worker.app.task
    async def labels_learner() -> None:  # pragma: no cover - exercised by the integration tests
        await keep_learning(worker)

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
            known = worker.engine.recent_text(label.mention_id)
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
