"""Output records of the mentions path (scored mentions, alerts, dead letters, ...).

Outputs are appended to one open record batch per output partition (aiokafka's
``create_batch``/``send_batch``) on a producer of their own, and each batch is shipped at the
end of the input batch (:meth:`Outputs.ship`): a few futures per input batch instead of
Faust's per-record ``Topic.send`` machinery (``FutureMessage``, callbacks, sensors) or
aiokafka's per-record ``send`` (partitioner, accumulator, one future per record), which cost
more than scoring a mention. Partitions are chosen as aiokafka's default partitioner does
(murmur2 of the key), so a brand's outputs stay on one partition, in order.

Shipping does not hold up the mentions path: :meth:`Outputs.ship_later` wakes one shipper task
that hands the open batches to the producer while the next input batch is scored. aiokafka
keeps one produce request in flight per broker and ``send_batch`` waits until a partition's
previous batch has left, so shipping inside the batch loop made every input batch wait for a
produce round trip (at half load the loop spent ~3x its CPU time waiting, and the records
queued meanwhile). Outputs appended while the shipper waits join the next request. Appending
waits for the shipper only past :data:`MAX_FULL_BATCHES` full batches (backpressure).

Offset safety: a batch's offsets are acknowledged once its outputs are appended here;
:meth:`Outputs.flush` ships what is open and waits for every delivery so far, and the recovery
calls it before every snapshot and offset commit (:mod:`agents.recovery`), so a batch's
outputs are on the broker before any offset or snapshot that covers it. A failed delivery
marks the recovery broken at once (no commit until restart).

Under ``exactly_once`` outputs go one by one through the app's producer, whose ``send`` the
recovery routes to the input partition's transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agents import kafka

PRUNE_EVERY = 256  #: delivered batch futures are dropped from the pending list this often
MAX_BATCH_BYTES = 512 * 1024  #: one output batch (below the 1 MiB max request size)
MAX_FULL_BATCHES = 16  #: appending waits for the shipper past this many full batches (8 MiB)


async def _wait_for_partitions(producer: Any, topic: str, timeout: float = 60.0) -> list[int]:
    """``topic``'s partitions, once the producer's metadata lists them (just declared topics
    take a moment to appear); the partition of each output is chosen from them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (parts := producer.client.cluster.partitions_for_topic(topic)):
        if loop.time() > deadline:
            raise RuntimeError(f"output topic {topic!r} has no partitions after {timeout}s")
        try:
            await producer.partitions_for(topic)
        except Exception:  # noqa: BLE001 - not there yet: ask again
            await asyncio.sleep(0.5)
            await producer.client.force_metadata_update()
    return sorted(parts)


class Outputs:
    """The output side of one worker's mentions path (see the module docstring)."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        settings = worker.settings
        #: Own batching producer, unless outputs must join the input's transactions.
        self.batching = settings.processing_guarantee != "exactly_once"
        self._producer: Any = None
        self._pending: list[asyncio.Future] = []
        self._open: dict[tuple[str, int], Any] = {}
        self._full: list[tuple[str, int, Any]] = []
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}
        self.started = False
        self.closed = False  #: producer stopped: appending or shipping raises
        self._lock = asyncio.Lock()
        self._ship_lock = asyncio.Lock()
        self._shipper: asyncio.Future | None = None

    async def start(self) -> None:
        """Declare the output topics and start the producer (idempotent)."""
        async with self._lock:
            if self.started:
                return
            t = self.worker.topics
            topics = (t.scored, t.alerts, t.deadletter, t.posts_reviewed, t.trends)
            for topic in topics:
                await topic.maybe_declare()  # Topic.send is bypassed: make sure they exist
            if self.batching:
                tansu = self.worker.settings.broker_kind == "tansu"
                producer = kafka.producer(self.worker.settings, linger_ms=0,
                                          max_batch_size=MAX_BATCH_BYTES,
                                          enable_idempotence=not tansu)
                await producer.start()
                for topic in topics:
                    name = topic.get_topic_name()
                    self._partitions[name] = await _wait_for_partitions(producer, name)
                self._producer = producer
                self.worker.app.on_before_shutdown.connect(self._stop)
            self.started = True

    async def _stop(self, *args: Any, **kwargs: Any) -> None:
        producer = self._producer
        if producer is None:
            return
        try:
            await self.flush()
        finally:
            self._producer = None
            self.closed = True
            await producer.stop()

    # ------------------------------------------------------------------ appending
    def _partition(self, topic: str, key: bytes | None) -> int:
        p = self._partition_of.get((topic, key)) if key is not None else None
        if p is None:
            parts = self._partitions.get(topic)
            if parts is None:  # a topic not declared at start: its metadata must be there
                known = self._producer.client.cluster.partitions_for_topic(topic)
                if not known:
                    raise RuntimeError(f"no metadata for output topic {topic!r}")
                parts = self._partitions[topic] = sorted(known)
            # aiokafka's default partitioner (murmur2 of the key), as Topic.send would choose
            p = self._producer._partitioner(key, parts, parts)
            if key is not None:
                self._partition_of[(topic, key)] = p
        return p

    def append(self, topic: str, key: bytes | None, value: bytes,
               headers: Sequence[tuple[str, bytes]] | None = None) -> None:
        """Append one record to its partition's open batch (batching mode, started)."""
        if self._producer is None:
            raise RuntimeError("output producer not running")
        p = self._partition(topic, key)
        batch = self._open.get((topic, p))
        if batch is None:
            batch = self._open[(topic, p)] = self._producer.create_batch()
        hdrs = list(headers) if headers else []
        if batch.append(timestamp=None, key=key, value=value, headers=hdrs) is None:
            self._full.append((topic, p, batch))
            batch = self._open[(topic, p)] = self._producer.create_batch()
            if batch.append(timestamp=None, key=key, value=value, headers=hdrs) is None:
                raise ValueError(f"output record of {len(value)} bytes does not fit a batch")

    async def send(self, topic: str, key: bytes | None, value: bytes,
                   headers: Sequence[tuple[str, bytes]] | None = None) -> None:
        """Queue one record; shipped at the end of the batch (or soon, for other agents)."""
        if not self.started:
            await self.start()
        if not self.batching:
            await self.worker.app.producer.send(topic, key, value, None, None, headers)
            return
        self.append(topic, key, value, headers)
        self.ship_later()

    # ------------------------------------------------------------------ shipping
    @property
    def backlogged(self) -> bool:
        """True when appending should wait for the shipper (:meth:`ship`)."""
        return len(self._full) >= MAX_FULL_BATCHES

    def ship_later(self) -> None:
        """Have the shipper task hand every open batch to the producer (returns at once)."""
        if self._shipper is None or self._shipper.done():
            self._shipper = asyncio.ensure_future(self._ship_loop())

    async def _ship_loop(self) -> None:
        try:
            while self._open or self._full:  # what was appended while a request was out
                await self.ship()
        except Exception as exc:  # noqa: BLE001 - no commit may cover these outputs
            recovery = self.worker.recovery
            recovery.broken = recovery.broken or f"output ship failed: {exc!r}"[:300]

    async def ship(self) -> None:
        """Hand every open batch to the producer (delivery is awaited by :meth:`flush`);
        after a round of the shipper in progress, if any."""
        async with self._ship_lock:
            if not (self._open or self._full):
                return
            producer = self._producer
            if producer is None:
                raise RuntimeError("outputs queued after the output producer stopped")
            full, self._full = self._full, []
            opened, self._open = self._open, {}
            on_sent = self.worker.recovery._on_sent
            pending = self._pending
            for topic, p, batch in [*full, *((t, p, b) for (t, p), b in opened.items())]:
                fut = await producer.send_batch(batch, topic, partition=p)
                fut.add_done_callback(on_sent)
                pending.append(fut)
            if len(pending) >= PRUNE_EVERY:
                self._pending = [f for f in pending if not f.done()]

    async def flush(self) -> None:
        """Ship what is open and wait until every output appended so far is delivered (a no-op
        under exactly_once: Faust flushes its producer before each commit). Raises if one
        failed."""
        await self.ship()  # after the shipper's round in progress: its futures are pending
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
