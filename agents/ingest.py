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
* Each partition's records are taken in offset order from its committed offset, whatever
  the fetches around Faust's seeks deliver (:meth:`Ingest.take`): fetches from a
  revocation until the seek that ends the next assignment's recovery (``perform_seek``,
  wrapped in :func:`install`) are set aside, then taken only where they follow the
  committed offset; a fetch starting below the next offset to take has its duplicates
  dropped, one starting beyond it seeks the partition back. Before, a fetch dropped during
  the assignment was followed by one taken before the seek (a worker resuming a brand
  processed offsets 475-476, then 458-474 as late mentions, and its state diverged), and a
  fetch delivered while the seek ran and dropped left the position past records nobody
  processed (the worker stalled once the stream had ended). On every revocation the buffer
  is cleared and batches taken before it are dropped (:meth:`Ingest.on_revoked`),
  re-fetched after the seek.
* The other topics' records of a fetch that returns while flow is stopped are sought back
  here (:func:`seek_partitions`) and not handed to Faust: Faust drops such a fetch whole and
  seeks back only the partitions with a committed offset, so a table changelog's records were
  lost, and its recovery waited for them forever ("No event received for active tp ...
  since recovery start", seen after a failover: the fetch had started before the
  revocation and returned once the new assignment's recovery had sought the changelog).
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
from aiokafka.errors import IllegalStateError

from agents import metrics
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
        #: records fetched and discarded to keep each partition in offset order (fetched
        #: again, or taken already); also counted by reason in ``veille_ingest_discarded``
        self.dropped = 0
        #: True from a revocation (and start) until Faust has sought the assignment's
        #: partitions to their committed offsets: fetches meanwhile are set aside (parked)
        self.seek_pending = True
        #: Faust finished the assignment's recovery (``on_rebalance_complete``): its next seek
        #: positions the assigned partitions (not one of the seeks Faust makes while flow is
        #: stopped, before the assignment is known)
        self.assignment_ready = False
        #: partition -> the next offset to take: set from the committed offsets by the
        #: assignment's seek, then moved on by every record taken
        self.expected: dict[Any, int] = {}
        #: partition -> the expected offset it was sought back to for a gap (a second gap at
        #: the same offset after that seek is the log's own: compaction, transaction markers)
        self.gap_sought: dict[Any, int] = {}
        #: (partition, records) fetched while the assignment's seek is pending, in order
        self.parked: list[tuple[Any, list[Any]]] = []
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

        Each partition's records are taken in offset order from its committed offset
        (:attr:`expected`), whatever the fetches deliver around a seek (records at an offset
        are the same whichever fetch brings them):

        * from a revocation until the assignment's seek (:attr:`seek_pending`) fetches are
          set aside (:attr:`parked`): a fetch delivered while that seek runs may come from
          after it, and dropping it would move the position past records never taken, with
          nothing left to fetch when they were the last ones. The seek done, they go through
          the rules below, except that one starting beyond the committed offset came from
          before the seek (which put the position back): dropped;
        * records below the expected offset were taken already (a fetch from before a seek,
          delivered again after it): dropped;
        * records starting beyond it: the position moved past records never taken; the
          partition is sought back to the expected offset, here (no other fetch is under
          way: the next one starts there) and the records dropped. Should the next fetch
          start beyond it again, the log has no record there (compaction, transaction
          markers): taken;
        * while the consumer's flow is stopped (outside a rebalance) and for a partition
          not active, records are dropped and the partition sought back the same way.

        Records fetched after the seek are kept even when the generation changed during the
        fetch: dropping them lost them (the fetch position had moved on, and no seek
        followed).
        """
        mine = [tp for tp in records if tp.topic == self.topic]
        if not mine:
            return records
        rest = {tp: recs for tp, recs in records.items() if tp.topic != self.topic}
        app = self.worker.app
        if self.seek_pending:
            self.parked.extend((tp, records[tp]) for tp in mine if records[tp])
            return rest
        flowing = consumer.flow_active
        seek_to: dict[Any, int] = {}
        for tp in mine:
            recs = records[tp]
            if not recs:
                continue
            if not flowing or (active is not None and tp not in active):
                self._discard(len(recs), "flow_stopped")
                if tp in self.expected:
                    seek_to[tp] = self.expected[tp]
                continue
            back = self._take_in_order(tp, recs)
            if back is not None:
                seek_to[tp] = back
        if seek_to:
            await seek_partitions(consumer, seek_to)
        if not flowing:
            return rest
        self.ready.set()
        epoch, buffer = self.epoch, self.buffer
        while (len(buffer) >= self.max_buffered and self.epoch == epoch
               and not consumer.should_stop and not app.should_stop):
            self.drained.clear()
            try:
                await asyncio.wait_for(self.drained.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
        return rest

    def _take_in_order(self, tp: Any, recs: list[Any], parked: bool = False) -> int | None:
        """Buffer what of ``recs`` (one partition's fetch) follows the expected offset (see
        :meth:`take`); the offset to seek the partition back to, if any."""
        want = self.expected.get(tp)
        first = recs[0].offset
        if want is not None and first != want:
            if first < want:  # taken already: keep what follows
                keep = [r for r in recs if r.offset >= want]
                self._discard(len(recs) - len(keep), "taken_already")
                if not keep:
                    return None
                recs = keep
            elif parked:  # fetched before the seek, which put the position back
                self._discard(len(recs), "before_seek")
                return None
            elif self.gap_sought.get(tp) != want:  # want..first-1 never taken: fetch them
                self._discard(len(recs), "gap")
                self.gap_sought[tp] = want
                return want
        self.buffer.extend(recs)
        self.expected[tp] = recs[-1].offset + 1
        self.gap_sought.pop(tp, None)
        return None

    def _discard(self, n: int, reason: str) -> None:
        """Count ``n`` fetched records discarded for ``reason`` (see :meth:`take`)."""
        if n:
            self.dropped += n
            metrics.INGEST_DISCARDED.labels(reason).inc(n)

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

    def on_sought(self, consumer: Any) -> None:
        """Faust sought the assigned partitions to their committed offsets (those without
        one to 0, :func:`agents.recovery.install`): take records again, each partition from
        its committed offset."""
        committed = consumer._committed_offset  # noqa: SLF001 - set by Faust's seek
        self.expected = {tp: committed.get(tp) or 0 for tp in consumer.assignment()
                         if tp.topic == self.topic}
        self.gap_sought.clear()
        self.seek_pending = False
        self.assignment_ready = False
        parked, self.parked = self.parked, []
        for tp, recs in parked:
            self._take_in_order(tp, recs, parked=True)
        if self.buffer:
            self.ready.set()

    def on_revoked(self) -> None:
        """A rebalance: forget buffered records and batches taken before it; take no record
        until the next assignment's seek (:meth:`on_sought`)."""
        self.seek_pending = True
        self.assignment_ready = False
        self.expected.clear()
        self.gap_sought.clear()
        self._discard(sum(len(recs) for _, recs in self.parked) + len(self.buffer), "rebalance")
        self.parked.clear()
        self.epoch += 1
        self.buffer.clear()
        self.next_ack.clear()
        self.ready.clear()
        self.drained.set()


async def seek_partitions(consumer: Any, offsets: dict[Any, int]) -> None:
    """Seek each partition of ``offsets`` (partition -> offset) in the consumer's own thread
    (Faust's ``seek_wait``: ``Consumer.seek`` changes aiokafka's fetcher from the calling
    thread). A partition no longer assigned is let go (its next owner starts from the
    committed offset)."""
    assigned = consumer.assignment()
    for tp, offset in offsets.items():
        if tp in assigned:
            try:
                await consumer.seek_wait({tp: offset})
            except IllegalStateError:  # revoked meanwhile
                pass


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
            rest = await ingest.take(consumer, records, active_partitions)
            if rest and not consumer.flow_active:  # Faust would drop them (module docstring)
                await seek_partitions(consumer, {tp: recs[0].offset for tp, recs in rest.items()
                                           if recs})
                return {}
            return rest

        consumer._getmany = _getmany
        perform_seek = consumer.perform_seek  # Faust's, wrapped by agents.recovery.install

        async def _perform_seek() -> None:
            # At the end of an assignment's recovery Faust resumes the partitions, then seeks
            # them to their committed offsets; a fetch in between (flow already resumed by
            # the changelog recovery) came from wherever the position was: records are
            # taken only after that seek, from the committed offsets on (Ingest.take).
            # (Faust also seeks whenever it polls while flow is stopped, during the
            # rebalance itself: those seeks do not end it.)
            ends_rebalance = ingest.assignment_ready
            await perform_seek()
            if ends_rebalance:
                ingest.on_sought(consumer)

        consumer.perform_seek = _perform_seek
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

    @app.on_rebalance_complete.connect
    async def _rebalance_complete(sender: Any, **kwargs: Any) -> None:
        ingest.assignment_ready = True  # Faust's next seek positions the new assignment

    @app.task
    async def _mentions_batches() -> None:  # pragma: no cover - exercised by integration tests
        try:
            await ingest.run()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            await app.crash(exc)
            raise
