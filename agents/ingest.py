"""Batch ingestion of ``veille.mentions`` without Faust's per-event machinery.

Faust delivers each record through ``Consumer._drain_messages`` (a ``wait_first`` with four
tasks per record), the conductor, an ``Event`` and a stream queue: that path, not the engine,
capped the worker at the bare-Faust rate. Here the app's own Faust consumer still owns the
group, the assignment, table recovery and commits; only the *records* of the mentions topic are
taken out of each fetch (``Consumer._getmany`` is wrapped, see :func:`install`) and appended to
a buffer that one task drains in batches through :meth:`agents.recovery.Recovery.run_batch`.

Offset safety
-------------
* A batch's offsets are acknowledged in the Faust consumer (:meth:`Ingest.ack`: the same
  bookkeeping as ``Consumer.ack``, in bulk) only after the engine processed the batch and its
  outputs were appended to the output batches (:mod:`agents.outputs`, shipped while the next
  batch is scored), under the recovery lock. Faust's commit timer then commits acked offsets
  through the recovery hook, which snapshots the brands and delivers every output first:
  nothing is committed before it is processed and its outputs are on the broker.
* Records fetched while flow is stopped (a rebalance) are dropped: Faust seeks back to the
  committed offsets before resuming; on every revocation the buffer is cleared and batches
  taken before it are dropped (:meth:`Ingest.on_revoked`), re-fetched after that seek.
* Backpressure: the fetch loop waits while the buffer holds more than a few batches.

Latency: the group consumer's fetch wait is cut from Faust's 1.5 s to
:data:`agents.app.FETCH_MAX_WAIT_MS`, and a batch is whatever is buffered (up to
``batch_size``): no waiting to fill it.
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from collections.abc import Sequence
from time import monotonic
from typing import Any

from aiokafka import TopicPartition

from agents.app import FETCH_MAX_WAIT_MS
from pipeline.engine import batch_gc

BUFFERED_BATCHES = 4  #: fetch pauses while the buffer holds this many batches


def freeze_startup_objects() -> None:
    """Collect, then move every object alive now (modules, the Faust app, the sentiment model)
    to the collector's permanent generation (:func:`gc.freeze`).

    Each full collection traversed them again: about 40,000 objects, 90 ms on this machine's
    cores, on top of the brands' state (150-250 ms pauses measured in the worker, straight
    into the p99 latency; 20-70 ms after the freeze). They live as long as the process;
    should one die it is still freed by reference counting, only a reference cycle among
    frozen objects would never be collected (the garbage of start-up itself is collected
    first).
    """
    gc.collect()
    gc.freeze()


class Ingest:
    """The mentions topic's buffer, batch task and bulk acknowledgements.

    Parameters
    ----------
    worker
        The :class:`agents.app.Worker` (app, settings, recovery).
    handle
        ``async handle(worker, records)``: processes one batch (:func:`agents.mentions.handle_batch`).
    freeze
        Freeze start-up's objects out of the collector before the first batch
        (:func:`freeze_startup_objects`; the worker process does, tests do not).
    """

    def __init__(self, worker: Any, handle: Any, freeze: bool = False) -> None:
        self.worker = worker
        self.handle = handle
        self.freeze = freeze
        self.topic = worker.settings.topics.mentions
        self.batch_size = worker.settings.batch_size
        self.max_buffered = BUFFERED_BATCHES * self.batch_size
        self.buffer: deque[Any] = deque()
        self.epoch = 0
        #: tp -> next offset to acknowledge (covers offset gaps, as Faust's own gap tracking)
        self.next_ack: dict[Any, int] = {}
        self.batches = 0
        self.dropped = 0
        self._ready: asyncio.Event | None = None
        self._drained: asyncio.Event | None = None

    # ------------------------------------------------------------------ events (lazy: loop)
    @property
    def ready(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    @property
    def drained(self) -> asyncio.Event:
        if self._drained is None:
            self._drained = asyncio.Event()
        return self._drained

    # ------------------------------------------------------------------ fetch side
    async def take(self, consumer: Any, records: dict[Any, list[Any]],
                   active: set[Any] | None) -> dict[Any, list[Any]]:
        """Move the mentions records of one fetch into the buffer; return the other records.

        Records are dropped only while the consumer's flow is stopped (a rebalance: Faust
        seeks every assigned partition back to its committed offset before flow resumes).
        Records fetched after a rebalance completed are kept: dropping them because the
        generation changed during the fetch lost them (the fetch position had moved on).
        """
        mine = [tp for tp in records if tp.topic == self.topic]
        if not mine:
            return records
        rest = {tp: recs for tp, recs in records.items() if tp.topic != self.topic}
        app = self.worker.app
        if not consumer.flow_active:  # a rebalance began: Faust seeks back before resuming
            self.dropped += sum(len(records[tp]) for tp in mine)
            return rest
        buffer = self.buffer
        for tp in mine:
            if active is None or tp in active:
                buffer.extend(records[tp])
        self.ready.set()
        epoch = self.epoch
        while (len(buffer) >= self.max_buffered and self.epoch == epoch
               and not consumer.should_stop and not app.should_stop):
            self.drained.clear()
            try:
                await asyncio.wait_for(self.drained.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
        return rest

    # ------------------------------------------------------------------ batch side
    async def run(self) -> None:
        """Drain the buffer in batches until the app stops (the app's task).

        Scoring starts once the labels present at start are learnt (bounded wait, see
        :func:`agents.labels.wait_ready`), so a restarted worker scores as it did before; what
        start-up built is then frozen out of the collector (:func:`freeze_startup_objects`)
        and the batches run under :func:`pipeline.engine.batch_gc` (no collector passes per
        batch).
        """
        from agents.labels import wait_ready  # here: agents.labels imports agents.mentions

        if getattr(self.worker, "labels_catchup", None) is not None:  # a labels learner runs
            await wait_ready(self.worker)
        if self.freeze:
            freeze_startup_objects()
        with batch_gc():
            await self._drain()

    async def _drain(self) -> None:
        app = self.worker.app
        buffer, size = self.buffer, self.batch_size
        recovery = self.worker.recovery
        while not app.should_stop:
            await self.ready.wait()
            if not buffer:
                self.ready.clear()
                continue
            n = min(len(buffer), size)
            batch = [buffer.popleft() for _ in range(n)]
            if not buffer:
                self.ready.clear()
            if len(buffer) < self.max_buffered:
                self.drained.set()
            await recovery.run_batch(batch, self.handle, epoch=self.epoch, ingest=self)
            self.batches += 1
            await asyncio.sleep(0)  # let the fetcher, the sender and the commit timer run

    def ack(self, records: Sequence[Any]) -> int:
        """Acknowledge a processed batch's offsets in the Faust consumer (``Consumer.ack`` in
        bulk, gaps included); returns how many offsets were acked."""
        consumer = self.worker.app.consumer
        if not self.worker.app.topics.acks_enabled_for(self.topic):
            return 0
        high: dict[Any, int] = {}
        low: dict[Any, int] = {}
        for r in records:
            tp = (r.topic, r.partition)
            if tp not in low:
                low[tp] = r.offset
            if r.offset > high.get(tp, -1):
                high[tp] = r.offset
        n = 0
        inbound = getattr(self.worker.app.monitor, "stream_inbound_time", None)
        now = monotonic()
        for key, hi in high.items():
            tp = TopicPartition(*key)  # aiokafka validates commit keys by type
            start = self.next_ack.get(tp, low[key])
            committed = consumer._committed_offset[tp]  # noqa: SLF001 - Faust's ack bookkeeping
            if committed is not None:
                start = max(start, committed)
            if hi < start:
                continue
            index = consumer._acked_index[tp]  # noqa: SLF001
            offsets = [o for o in range(start, hi + 1) if o not in index]
            index.update(offsets)
            consumer._acked[tp].extend(offsets)  # noqa: SLF001
            n += len(offsets)
            self.next_ack[tp] = hi + 1
            if inbound is not None:  # Faust's livelock check: this partition's stream is live
                inbound[tp] = now
        consumer._n_acked += n  # noqa: SLF001
        return n

    def on_revoked(self) -> None:
        """A rebalance: forget buffered records and batches taken before it."""
        self.epoch += 1
        self.dropped += len(self.buffer)
        self.buffer.clear()
        self.next_ack.clear()
        self.ready.clear()
        self.drained.set()


def install(app: Any, ingest: Ingest) -> None:
    """Route the mentions topic's fetched records to ``ingest`` and start its batch task."""
    new_consumer = app._new_consumer

    def make_consumer() -> Any:
        consumer = new_consumer()
        getmany = consumer._getmany

        async def _getmany(active_partitions: Any, timeout: float) -> Any:
            records = await getmany(active_partitions=active_partitions, timeout=timeout)
            if not records:
                return records
            return await ingest.take(consumer, records, active_partitions)

        consumer._getmany = _getmany
        thread = getattr(consumer, "_thread", None)
        create = getattr(thread, "_create_worker_consumer", None)
        if create is not None:
            def _create_worker_consumer(transport: Any) -> Any:
                client = create(transport)
                client._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # aiokafka hands it to its Fetcher
                return client

            thread._create_worker_consumer = _create_worker_consumer
        return consumer

    app._new_consumer = make_consumer
    on_revoked = app._on_partitions_revoked

    async def _on_partitions_revoked(revoked: Any) -> None:
        ingest.on_revoked()  # before Faust's revocation commit: no batch starts after it
        await on_revoked(revoked)

    app._on_partitions_revoked = _on_partitions_revoked

    @app.task
    async def _mentions_batches() -> None:  # pragma: no cover - exercised by integration tests
        try:
            await ingest.run()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            await app.crash(exc)
            raise
