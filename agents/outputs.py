"""Batched output sends of the mentions agent (scored mentions, alerts, dead letters, ...).

Each output record goes straight to a producer's ``send`` (which appends it to the producer's
batch and returns the delivery future) instead of Faust's ``Topic.send``, whose per-record
machinery (``FutureMessage``, callbacks, sensors) cost more than scoring a mention.

Offset safety is kept:

* with the app's producer (the default), Faust flushes that producer before it commits input
  offsets (and :mod:`agents.recovery` flushes it before snapshotting), so a batch's outputs are
  on the broker before its offsets are committed; ``exactly_once`` routing (the recovery's
  wrapper of ``producer.send``) applies unchanged;
* on the embedded Tansu broker, the app's producer puts one record per batch (Tansu's end
  offsets are wrong for multi-record batches, which only matters to changelog recovery), which
  caps output at a few hundred records/s. There, outputs go through a second, normally
  batching producer, and :meth:`Outputs.flush` waits for the batch's deliveries before the batch
  is acknowledged: Faust can only commit offsets of batches whose outputs are durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agents import kafka


class Outputs:
    """The output side of one worker's mentions agent (see the module docstring)."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        settings = worker.settings
        #: Own batching producer: only on Tansu (no transactions there, so no exactly_once).
        self.separate = (settings.broker_kind == "tansu"
                         and settings.processing_guarantee != "exactly_once")
        self._producer: Any = None
        self._pending: list[asyncio.Future] = []
        self._started = False
        self._lock = asyncio.Lock()

    async def _start(self) -> None:
        async with self._lock:
            if self._started:
                return
            t = self.worker.topics
            for topic in (t.scored, t.alerts, t.deadletter, t.posts_reviewed, t.trends):
                await topic.maybe_declare()  # Topic.send is bypassed: make sure they exist
            if self.separate:
                producer = kafka.producer(self.worker.settings, linger_ms=0,
                                          enable_idempotence=False)
                await producer.start()
                self._producer = producer
                self.worker.app.on_before_shutdown.connect(self._stop)
            self._started = True

    async def _stop(self, *args: Any, **kwargs: Any) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def send(self, topic: str, key: bytes | None, value: bytes,
                   headers: Sequence[tuple[str, bytes]] | None = None) -> None:
        """Queue one record (key-hashed partition, as ``Topic.send`` does)."""
        if not self._started:
            await self._start()
        if self._producer is not None:
            self._pending.append(await self._producer.send(
                topic, value, key=key, headers=list(headers) if headers else None))
        else:
            await self.worker.app.producer.send(topic, key, value, None, None, headers)

    async def flush(self) -> None:
        """Wait until this batch's outputs are delivered (own producer; a no-op otherwise,
        Faust flushing its producer before each commit). Raises if a delivery failed."""
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
