"""Exact recovery of per-brand state: snapshots tied to input offsets, taken at every commit.

The problem
-----------
Faust commits input offsets on its own timer; brand state used to be snapshotted on another
timer. After a SIGKILL the worker resumed from the committed offset with the last snapshot, so
the events between the two were either missing from the brand's state (snapshot older than the
commit) or applied twice (snapshot newer than the commit).

The design
----------
* **Snapshot before every commit.** The consumer's ``_commit_offsets`` is wrapped
  (:func:`install`): before Faust commits, every brand changed since its last snapshot is
  written to the ``brand-state`` changelog, on the brand's input partition. The snapshots are
  taken under the batch lock (no batch is half-done), after Faust chose the offsets to commit
  from acknowledged batches. The order is *snapshots taken* → *outputs durable* (producer
  flush) → *snapshots sent* → Faust flushes again and commits the offsets. So a committed
  offset is always covered by snapshots, and a snapshot only ever covers events whose alerts,
  scored mentions and dead letters are already on the broker. Under at-least-once, batches
  go on during the round trips after the snapshots are taken (the next commit covers them);
  under exactly_once the lock is held to the end (:meth:`Recovery.commit`).
* **Each snapshot says which input it covers**: ``{"format": 2, "partition": p, "offset": o,
  "state": <BrandWatch.to_state()>}`` where ``o`` is the last offset of partition ``p`` this
  worker had fully processed (the batch lock guarantees no batch is half-done at that moment),
  zlib-compressed (:mod:`agents.snapshots`; older uncompressed values still restore).
* **A snapshot too large to write holds its partition.** One brand is one record, bounded by
  ``snapshot_max_bytes`` (the producer's max request size and the changelog topic's
  ``max.message.bytes`` follow it). A larger snapshot is not sent (before, the producer's
  ``MessageSizeTooLargeError`` crashed the worker at every commit): it is counted
  (``veille_brand_state_oversize_total``), logged, and the brand's input partition is left
  out of the commits until its snapshot fits; the other partitions go on. A restart then
  replays that partition from its last commit, which the brand's last written snapshot
  covers: nothing is lost. Under exactly_once the recovery is broken instead.
* **Skip what a snapshot already holds.** When a brand is resumed from its snapshot, events of
  that brand on partition ``p`` with offset ``<= o`` are skipped (:meth:`Recovery.filter`):
  after a crash between the snapshot and the commit they are re-delivered, but already counted.
* **No half-done batch is ever snapshotted or committed.** If a batch is interrupted (an
  exception, a cancellation) or an output send fails, the recovery is marked broken: no
  snapshot and no commit happen any more and the app crashes; a restart replays from the last
  commit, which the snapshots cover exactly.
* **Uncommitted partitions.** aiokafka does not seek a partition without a committed offset
  after a rebalance, and Faust skips records fetched under the previous generation: the first
  records of a fresh partition could be lost. Such partitions are sought to their beginning.
* **Rebalance.** Faust commits (hence snapshots) before partitions are revoked; the brands of
  revoked partitions are then dropped from the engine, and resumed from the table if the
  partitions come back (so a stale copy is never used).
* **exactly_once** (Apache Kafka only): Faust 0.15 opens one transaction per input partition
  but sends outputs with its plain producer. Here every batch is processed per input partition
  and its outputs and snapshots go through that partition's transactional producer, so they are
  committed atomically with the input offsets: read-committed consumers never see an output of
  an aborted (killed) attempt.

What holds under at-least-once: brand state is exact (no event lost or counted twice); outputs
of events processed after the last commit may be published again after a crash. They are
identical (processing is deterministic, incident ids are stable), so consumers dedup alert
updates by ``(id, version)``.

Producers must key mentions by brand (the README says so): the key tells which brand an event
belongs to before it is decoded.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError

from agents import metrics
from agents.ingest import seek_partitions
from agents.snapshots import decode_snapshot, pack, snapshot_json

#: Broker refusals of a record for its size (the changelog topic's max.message.bytes).
TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError)
CAPTURE_SLICE_S = 0.005  #: at-least-once: snapshots are encoded this long at a time (batch lock)
log = logging.getLogger("veille.recovery")

#: Input partition whose sub-batch is being processed (exactly_once routes outputs by it).
CURRENT_PARTITION: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "veille_current_partition", default=None
)


class Recovery:
    """Ties brand snapshots to input offsets for one worker (see the module docstring).

    Parameters
    ----------
    worker
        The :class:`agents.app.Worker` (app, settings, topics, engine, state table).
    """

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.exactly_once = worker.settings.processing_guarantee == "exactly_once"
        self.lock = asyncio.Lock()
        self._holder: asyncio.Task | None = None
        #: input partition -> last offset whose batch was fully processed
        self.applied: dict[int, int] = {}
        #: brand -> input partition, for brands changed since their last snapshot
        self.dirty: dict[str, int] = {}
        #: brand -> input partition, for brands held in the engine
        self.partition_of: dict[str, int] = {}
        #: brand -> (partition, offset) covered by the snapshot it was resumed from
        self.covered: dict[str, tuple[int, int]] = {}
        self._looked_up: dict[str, dict[str, Any] | None] = {}
        self.broken: str | None = None
        self.skipped = 0
        self.snapshots = 0
        self.max_bytes: int = worker.settings.snapshot_max_bytes
        #: brand -> input partition, for brands whose last snapshot was too large to write:
        #: those partitions' offsets are not committed until the brand's snapshot fits
        self.oversize: dict[str, int] = {}
        self._snapshot_sends: set[asyncio.Future] = set()
        metrics.STATE_MAX_BYTES.set(self.max_bytes)

    # ------------------------------------------------------------------ restore / skip
    def _lookup(self, brand: str) -> dict[str, Any] | None:
        if brand in self._looked_up:
            return self._looked_up[brand]
        raw = self.worker.state.get(brand.encode())
        state = None
        if raw is not None:
            partition, offset, state = decode_snapshot(raw)
            if partition is not None and offset is not None:
                log.info("resume %s from its snapshot (partition %s, offset %s)",
                         brand, partition, offset)
                self.covered[brand] = (partition, offset)
                self.partition_of.setdefault(brand, partition)
        self._looked_up[brand] = state
        return state

    def restore(self, brand: str) -> dict[str, Any] | None:
        """The engine's restore hook: the brand's last snapshot state, or None."""
        state = self._lookup(brand)
        self._looked_up.pop(brand, None)
        return state

    def filter(self, records: Sequence[Any]) -> Sequence[Any]:
        """Drop records already contained in the snapshot their brand was resumed from.

        Keys are decoded once per batch (a batch holds a few brands); the records are only
        gone through when one of those brands has a snapshot position.
        """
        watches = self.worker.engine.watches
        covered = self.covered
        positions: dict[bytes, tuple[int, int]] = {}
        for key in {rec.key for rec in records}:
            if key:
                brand = key.decode("utf-8", "replace")
                if brand not in watches:
                    self._lookup(brand)
                cov = covered.get(brand)
                if cov is not None:
                    positions[key] = cov
        if not positions:
            return records
        keep = []
        for rec in records:
            cov = positions.get(rec.key)
            if cov is not None and rec.partition == cov[0] and rec.offset <= cov[1]:
                self.skipped += 1
                continue
            keep.append(rec)
        return keep

    # ------------------------------------------------------------------ batches
    async def run_batch(
        self, records: Sequence[Any], handle: Callable[[Any, Sequence[Any]], Awaitable[None]],
        *, epoch: int | None = None, ingest: Any = None,
    ) -> None:
        """Process one batch of raw input records under the batch lock, skipping covered ones;
        then acknowledge its offsets (``ingest.ack``) while still holding the lock.

        A batch taken before a rebalance (``epoch`` older than ``ingest.epoch``) is dropped:
        its records are re-fetched from the committed offset. A batch overtaken by a rebalance
        while it ran (its outputs were awaited) is noted but not acknowledged (Faust dropped
        the old assignment's acks; one added now would count in the next generation's commit
        before its records are processed again); the revocation waits for it (:meth:`revoke`).
        """
        async with self.lock:
            if ingest is not None and (epoch != ingest.epoch or self.worker.app.should_stop):
                ingest.dropped += len(records)  # re-fetched from the committed offset
                return
            self._holder = asyncio.current_task()
            try:
                if self.broken:
                    raise RuntimeError(f"recovery broken: {self.broken}")
                todo = self.filter(records)
                if todo and self.exactly_once:
                    by_partition: dict[int, list[Any]] = {}
                    for r in todo:
                        by_partition.setdefault(r.partition, []).append(r)
                    for partition, group in by_partition.items():
                        token = CURRENT_PARTITION.set(partition)
                        try:
                            await handle(self.worker, group)
                        finally:
                            CURRENT_PARTITION.reset(token)
                elif todo:
                    await handle(self.worker, todo)
            except BaseException as exc:
                self.broken = f"batch interrupted: {exc!r}"[:300]
                log.error("batch interrupted; no snapshot or commit until restart: %r", exc)
                raise
            finally:
                self._holder = None
                # lookups of brands the engine did not take (a key whose value is invalid, an
                # unknown brand): forgotten per batch, or unknown keys would grow it unbounded
                self._looked_up.clear()
            self._note(records)  # snapshots stay exact: the engine has the batch
            if ingest is not None and epoch == ingest.epoch:
                ingest.ack(records)
            elif ingest is not None:  # overtaken by a rebalance: Faust dropped its acks for
                ingest.dropped += len(records)  # the old assignment; re-fetched, then skipped

    def _note(self, records: Sequence[Any]) -> None:
        applied, dirty, part_of = self.applied, self.dirty, self.partition_of
        watches = self.worker.engine.watches
        partition_of_key: dict[bytes | None, int] = {}
        for rec in records:
            p = rec.partition
            if rec.offset > applied.get(p, -1):
                applied[p] = rec.offset
            partition_of_key[rec.key] = p  # the key's last record, as record by record
        for key, p in partition_of_key.items():
            if key:
                brand = key.decode("utf-8", "replace")
                if brand in watches:
                    dirty[brand] = p
                    part_of[brand] = p

    # ------------------------------------------------------------------ commit hook
    async def commit(self, offsets: Mapping[Any, int],
                     commit: Callable[[Mapping[Any, int]], Awaitable[bool]]) -> bool:
        """Snapshot every changed brand, then ``commit(offsets)``; False (nothing committed)
        when the recovery is broken.

        The offsets of a mentions partition holding a brand whose snapshot could not be
        written (larger than ``snapshot_max_bytes``) are left out (:meth:`committable`): the
        broker keeps the partition's last commit, which that brand's last written snapshot
        covers, so a restart replays from there and loses nothing.

        Under at-least-once the batch lock is held only while the snapshots are taken (in
        slices of :data:`CAPTURE_SLICE_S`, so a batch may run between two slices): flushing
        the outputs, sending the snapshots and committing are round trips to the broker
        during which batches go on. That is safe because ``offsets`` were fixed by Faust
        before this hook, from acknowledged batches: every snapshot taken after that covers
        them, and its outputs (appended before it) are delivered by the flush that precedes
        the snapshots' sending. Batches run meanwhile are covered by the next commit.

        Under exactly_once the lock is held through the commit itself: a batch run while
        Faust commits a partition's transaction would put its outputs in that transaction
        without its offsets or the snapshot covering them (after a crash they were published
        again: duplicates for read-committed consumers).
        """
        if self._holder is not None and self._holder is asyncio.current_task():
            return await self._commit_locked(offsets, commit)
        if self.exactly_once:
            async with self.lock:
                return await self._commit_locked(offsets, commit)
        snapshots = await self._capture_sliced()
        if self.broken or not await self._write(snapshots):
            log.error("not committing %s: %s", dict(offsets), self.broken)
            return False
        return await commit(self.committable(offsets))

    async def _commit_locked(self, offsets: Mapping[Any, int],
                             commit: Callable[[Mapping[Any, int]], Awaitable[bool]]) -> bool:
        if self.broken or not await self._write(self._capture()):
            log.error("not committing %s: %s", dict(offsets), self.broken)
            return False
        return await commit(self.committable(offsets))

    def committable(self, offsets: Mapping[Any, int]) -> dict[Any, int]:
        """``offsets`` without the mentions partitions held by an unwritten snapshot."""
        held = set(self.oversize.values())
        if not held:
            return dict(offsets)
        topic = self.worker.settings.topics.mentions
        return {tp: o for tp, o in offsets.items()
                if tp.topic != topic or tp.partition not in held}

    def _capture(self, until: float | None = None) -> list[tuple[bytes, int, bytes]]:
        """Encode the snapshot JSON of every changed brand (``(key, partition, json)``), or
        of those encoded before ``until`` (``time.perf_counter``); the caller holds the batch
        lock. Each covers the last offset of its partition processed so far. (Compressed
        by :meth:`_write`, out of the lock.)"""
        out: list[tuple[bytes, int, bytes]] = []
        if not self.dirty:
            return out
        app = self.worker.app
        assigned = {tp.partition for tp in app.consumer.assignment()
                    if tp.topic == self.worker.settings.topics.mentions}
        watches = self.worker.engine.watches
        dirty = self.dirty
        for brand, partition in list(dirty.items()):
            del dirty[brand]
            watch = watches.get(brand)
            if watch is None or partition not in assigned:
                self._let_go(brand)
                continue
            raw = snapshot_json(partition, self.applied[partition], watch.to_state())
            out.append((brand.encode(), partition, raw))
            if until is not None and time.perf_counter() >= until:
                break
        return out

    async def _capture_sliced(self) -> list[tuple[bytes, int, bytes]]:
        """:meth:`_capture` in slices under the batch lock, letting a waiting batch in between
        two (many brands must not hold the mentions path for long)."""
        out: list[tuple[bytes, int, bytes]] = []
        while True:
            async with self.lock:
                if self.broken:
                    return out
                out += self._capture(until=time.perf_counter() + CAPTURE_SLICE_S)
                if not self.dirty:
                    return out
            await asyncio.sleep(0)

    async def _write(self, snapshots: Sequence[tuple[bytes, int, bytes]]) -> bool:
        """Deliver every output queued so far, then the snapshots (compressed here, out of
        the batch lock); True when both are on the broker (a snapshot never covers an output
        that could still be lost), or when the only snapshots missing were too large (for
        ``snapshot_max_bytes`` or for the broker): their brands hold their partitions."""
        if self.broken:
            return False
        outputs = getattr(self.worker, "outputs", None)
        if outputs is not None:
            try:  # every output queued so far is on the broker before any commit
                await outputs.flush()
            except Exception as exc:  # noqa: BLE001 - a lost output: replay from the last commit
                self.broken = f"output delivery failed: {exc!r}"[:300]
                log.error("%s; no commit until restart", self.broken)
                return False
        if not snapshots:
            return not self.broken
        values = self._pack(snapshots)
        if self.broken:
            return False
        app = self.worker.app
        await app.producer.flush()  # outputs durable before the snapshots that cover them
        if self.broken:
            return False
        topic = self.worker.state.changelog_topic.get_topic_name()
        data = self.worker.state.data
        sent = []
        try:
            for key, partition, value in values:
                fut = await app.producer.send(
                    topic, key, value, partition, None, None,
                    transactional_id=(self.transactional_id(partition) if self.exactly_once
                                      else None),
                )
                self._snapshot_sends.add(fut)  # its failure is handled here (_on_sent)
                sent.append((key, partition, value, fut))
            results = await asyncio.gather(*(f for *_, f in sent), return_exceptions=True)
        except Exception as exc:  # noqa: BLE001 - the producer failed: replay from the last commit
            self.broken = f"snapshot delivery failed: {exc!r}"[:300]
            log.error("%s; no commit until restart", self.broken)
            return False
        finally:
            self._snapshot_sends.difference_update(f for *_, f in sent)
        for (key, partition, value, _), result in zip(sent, results):
            brand = key.decode("utf-8", "replace")
            if not isinstance(result, BaseException):
                data[key] = value
                self.snapshots += 1
                self._saved(brand, partition)
            elif isinstance(result, TOO_LARGE) and not self.exactly_once:
                # the topic's max.message.bytes is below snapshot_max_bytes (a topic created
                # with a lower limit keeps it): held like a snapshot over the limit
                self._hold(brand, partition,
                           f"the broker refused the snapshot of brand {brand!r} "
                           f"({len(value):,} bytes): {result!r}; the max.message.bytes of "
                           f"topic {topic} is lower than snapshot_max_bytes + 16 KiB "
                           "(kafka-configs --alter raises it)")
            elif not self.broken:
                self.broken = f"snapshot delivery failed: {result!r}"[:300]
                log.error("%s; no commit until restart", self.broken)
        return not self.broken

    def _pack(self, snapshots: Sequence[tuple[bytes, int, bytes]]
              ) -> list[tuple[bytes, int, bytes]]:
        """Compress the snapshots; keep those that fit in ``snapshot_max_bytes``.

        A brand whose snapshot does not fit stays dirty (tried again at the next commit) and
        holds its input partition's commit (:meth:`committable`); under exactly_once, where a
        partition's transaction cannot stay open, the recovery is broken instead (the worker
        stops, nothing is committed).
        """
        out = []
        for key, partition, raw in snapshots:
            value = pack(raw)
            brand = key.decode("utf-8", "replace")
            metrics.record_snapshot(brand, len(key) + len(value), len(raw))
            if len(key) + len(value) <= self.max_bytes:
                out.append((key, partition, value))
                continue
            why = (f"snapshot of brand {brand!r} is {len(value):,} bytes compressed "
                   f"({len(raw):,} uncompressed), over snapshot_max_bytes={self.max_bytes:,}")
            if self.exactly_once:
                self.broken = why[:300]
                log.error("%s; exactly_once: no commit until restart", why)
                return []
            self._hold(brand, partition, why)
        return out

    def _hold(self, brand: str, partition: int, why: str) -> None:
        """The brand's snapshot was not written: hold its partition's commits, try again at
        the next commit (logged when the brand starts being held)."""
        if brand not in self.oversize:
            log.error("%s: not written; input partition %d is not committed until it fits "
                      "(raise snapshot_max_bytes and the changelog topic's max.message.bytes, "
                      "or lower the brand's bounded memories)", why, partition)
        metrics.record_snapshot_saved(brand, False)
        self.oversize[brand] = partition
        self.dirty.setdefault(brand, partition)

    def _let_go(self, brand: str) -> None:
        """The brand's partition is no longer this worker's: it holds no commit any more
        (its unwritten snapshot, if any, is the next owner's to write)."""
        if self.oversize.pop(brand, None) is not None:
            metrics.child(metrics.STATE_UNSAVED, brand).set(0)

    def _saved(self, brand: str, partition: int) -> None:
        """The brand's snapshot is on the broker: its partition is no longer held by it."""
        if self.oversize.pop(brand, None) is not None:
            log.warning("snapshot of brand %r written again: input partition %d is committed "
                        "again", brand, partition)
        metrics.record_snapshot_saved(brand, True)

    # ------------------------------------------------------------------ rebalance
    async def revoke(self, revoked: Any) -> None:
        """:meth:`on_revoked` under the batch lock: after the batch in flight, if any.

        Without the lock, a revocation could run while a batch awaited its outputs: the
        brands that batch had just created were not known yet, stayed in the engine, and
        when their partition came back from another worker the stale copy was used instead
        of that worker's snapshot (``tests/unit/test_recovery_rebalance.py``).
        """
        async with self.lock:
            self.on_revoked(revoked)

    def on_revoked(self, revoked: Any) -> None:
        """Forget the brands of revoked input partitions (resumed from the table if back);
        the caller holds the batch lock (:meth:`revoke`).

        Brands whose partition is unknown go too (a mention keyed by another brand than its
        own: no partition is known to hold its state), and so do lookups of brands never
        restored.
        """
        parts = {tp.partition for tp in revoked if tp.topic == self.worker.settings.topics.mentions}
        if not parts:
            return
        watches = self.worker.engine.watches
        for brand in list(watches):
            p = self.partition_of.get(brand)
            if p is None or p in parts:
                del watches[brand]  # with its memory of seen ids (BrandWatch.seen)
                self.partition_of.pop(brand, None)
                self.dirty.pop(brand, None)
        for brand, p in list(self.oversize.items()):
            if p in parts:
                self._let_go(brand)
        for table in (self.partition_of, self.dirty):  # brands looked up, never restored
            for brand, p in list(table.items()):
                if p in parts:
                    del table[brand]
        for brand, (p, _) in list(self.covered.items()):
            if p in parts:
                del self.covered[brand]
        self._looked_up.clear()
        for p in parts:
            self.applied.pop(p, None)

    # ------------------------------------------------------------------ transactions
    def transactional_id(self, partition: int) -> str:
        """Faust's transactional id for an input partition of the mentions topic."""
        app = self.worker.app
        group = app.assignor.group_for_topic(self.worker.settings.topics.mentions)
        return f"{app.conf.id}-{group}-{partition}"

    def _on_sent(self, fut: asyncio.Future) -> None:
        if fut in self._snapshot_sends:  # a snapshot: handled by _write
            return
        if not fut.cancelled() and fut.exception() is not None and not self.broken:
            self.broken = f"output send failed: {fut.exception()!r}"[:300]
            log.error("%s; no commit until restart", self.broken)


def install(app: Any, recovery: Recovery) -> None:
    """Wrap the app's consumer commit and producer send (see the module docstring)."""
    new_consumer, new_producer = app._new_consumer, app._new_producer

    def make_consumer() -> Any:
        consumer = new_consumer()
        commit_offsets = consumer._commit_offsets

        async def _commit_offsets(offsets: Mapping[Any, int], start_new_transaction: bool = True
                                  ) -> bool:
            async def commit_some(some: Mapping[Any, int]) -> bool:
                # offsets held back by an unwritten snapshot stay uncommitted on the broker;
                # Faust's bookkeeping moves on (its acks were consumed), as after a commit
                consumer._committed_offset.update(  # noqa: SLF001
                    {tp: o for tp, o in offsets.items() if tp not in some})
                return await commit_offsets(some, start_new_transaction=start_new_transaction)

            done = await recovery.commit(offsets, commit_some)
            if not done and recovery.broken and not app.should_stop:
                asyncio.ensure_future(app.crash(RuntimeError(recovery.broken)))
            return done

        consumer._commit_offsets = _commit_offsets
        perform_seek = consumer.perform_seek
        sources = {recovery.worker.settings.topics.mentions, recovery.worker.settings.topics.labels}

        async def _perform_seek() -> None:
            # aiokafka's seek_to_committed does not seek a partition that has no commit yet,
            # so records fetched before a rebalance (then skipped by Faust as an old
            # generation) were never fetched again: lost. Seek those to the beginning.
            await perform_seek()
            await seek_partitions(consumer, {
                tp: 0 for tp in consumer.assignment()
                if tp.topic in sources and consumer._committed_offset.get(tp) is None})

        consumer.perform_seek = _perform_seek
        return consumer

    def make_producer() -> Any:
        producer = new_producer()
        send = producer.send

        async def _send(topic, key, value, partition, timestamp, headers, *,
                        transactional_id=None):
            if transactional_id is None and recovery.exactly_once:
                p = CURRENT_PARTITION.get()
                if p is not None:
                    transactional_id = recovery.transactional_id(p)
            fut = await send(topic, key, value, partition, timestamp, headers,
                             transactional_id=transactional_id)
            if isinstance(fut, asyncio.Future):
                fut.add_done_callback(recovery._on_sent)
            return fut

        producer.send = _send
        return producer

    app._new_consumer = make_consumer
    app._new_producer = make_producer

    @app.on_partitions_revoked.connect
    async def _revoked(sender: Any, revoked: Any, **kwargs: Any) -> None:
        await recovery.revoke(revoked)
