"""Output shipping (agents.outputs): off the batch path, and flushed exactly before commits.

The producer here behaves as aiokafka's does for ``send_batch``: a partition takes a new batch
only once its previous one has left for the broker (``wait_drain``), and delivery completes
later. A test releases the broker by hand.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from agents import outputs as outputs_module
from agents.outputs import Outputs
from pipeline.settings import Settings

TOPIC = "veille.mentions.scored"


class Batch:
    def __init__(self, limit: int) -> None:
        self.records: list[bytes] = []
        self.limit = limit

    def append(self, *, timestamp, key, value, headers):
        if len(self.records) >= self.limit:
            return None
        self.records.append(value)
        return object()


class Broker:
    """A producer whose batches leave one at a time per partition and are delivered when the
    test says so (``deliver``)."""

    def __init__(self, batch_records: int = 1000) -> None:
        self.batch_records = batch_records
        self.sent: list[tuple[int, list[bytes]]] = []  #: (partition, records) handed over
        self.delivered: list[bytes] = []
        self._inflight: dict[int, asyncio.Future] = {}
        self._waiting: list[tuple[asyncio.Future, list[bytes]]] = []
        self.fail = False

    def create_batch(self) -> Batch:
        return Batch(self.batch_records)

    def _partitioner(self, key, parts, available):
        return int(key.decode()[-1]) % len(parts)

    async def send_batch(self, batch: Batch, topic: str, *, partition: int) -> asyncio.Future:
        while partition in self._inflight:  # aiokafka: wait until the previous batch left
            await self._inflight[partition]
        left = self._inflight[partition] = asyncio.get_running_loop().create_future()
        self.sent.append((partition, list(batch.records)))
        delivered = asyncio.get_running_loop().create_future()
        self._waiting.append((delivered, batch.records))

        def leave(p=partition, fut=left):
            del self._inflight[p]
            fut.set_result(None)
        self._leave = getattr(self, "_leave", [])
        self._leave.append(leave)
        return delivered

    def deliver(self) -> None:
        """Every batch handed over so far leaves and is acknowledged by the broker."""
        for leave in getattr(self, "_leave", []):
            leave()
        self._leave = []
        for fut, records in self._waiting:
            if self.fail:
                fut.set_exception(RuntimeError("broker said no"))
            else:
                self.delivered += records
                fut.set_result(None)
        self._waiting = []


def make_outputs(broker: Broker) -> Outputs:
    recovery = SimpleNamespace(broken=None)

    def on_sent(fut):
        if not fut.cancelled() and fut.exception() is not None:
            recovery.broken = f"output send failed: {fut.exception()!r}"
    recovery._on_sent = on_sent
    worker = SimpleNamespace(settings=Settings(kafka_bootstrap="x:1"), recovery=recovery)
    out = Outputs(worker)
    out._producer = broker
    out._partitions = {TOPIC: [0, 1]}
    out.started = True
    return out


async def settle() -> None:
    """Let every task run until it waits for something."""
    for _ in range(20):
        await asyncio.sleep(0)


async def a_shipped() -> tuple[Broker, Outputs]:
    """Outputs whose first record (``a``, partition 0) was handed to the broker."""
    broker = Broker()
    out = make_outputs(broker)
    out.append(TOPIC, b"brand0", b"a")
    out.ship_later()
    await settle()
    return broker, out


def test_shipping_does_not_wait_for_the_broker_and_groups_what_came_meanwhile():
    async def play():
        broker, out = await a_shipped()
        assert broker.sent == [(0, [b"a"])]
        # the broker has not taken the batch yet: the next input batches go on appending
        for value in (b"b", b"c"):
            out.append(TOPIC, b"brand0", value)
            out.ship_later()  # returns at once
        await settle()
        assert broker.sent == [(0, [b"a"])]  # partition 0 busy: b and c wait together
        broker.deliver()
        await settle()
        assert broker.sent == [(0, [b"a"]), (0, [b"b", b"c"])]
        broker.deliver()
        await out.flush()
        assert broker.delivered == [b"a", b"b", b"c"]
    asyncio.run(play())


def test_flush_waits_for_the_shippers_round_in_progress():
    """The shipper took the open batches and waits for partition 0: a flush must still wait
    for those (before: it saw nothing open and returned, and a commit could cover them)."""
    async def play():
        broker, out = await a_shipped()
        out.append(TOPIC, b"brand0", b"b")
        out.append(TOPIC, b"brand1", b"c")
        out.ship_later()
        await settle()  # the shipper holds b and c, waiting for partition 0
        flush = asyncio.ensure_future(out.flush())
        await settle()
        assert not flush.done()
        broker.deliver()  # a leaves and is delivered; b's round goes on
        await settle()
        assert not flush.done()  # b and c are handed over, not delivered yet
        broker.deliver()
        await asyncio.wait_for(flush, 1)
        assert sorted(broker.delivered) == [b"a", b"b", b"c"]
    asyncio.run(play())


def test_a_failed_delivery_breaks_the_recovery_and_the_flush():
    async def play():
        broker, out = await a_shipped()
        broker.fail = True
        broker.deliver()
        with pytest.raises(RuntimeError, match="broker said no"):
            await out.flush()
        assert "broker said no" in out.worker.recovery.broken
    asyncio.run(play())


def test_appending_past_the_full_batches_bound_asks_the_caller_to_wait(monkeypatch):
    monkeypatch.setattr(outputs_module, "MAX_FULL_BATCHES", 2)

    async def play():
        broker = Broker(batch_records=1)
        out = make_outputs(broker)
        for value in (b"a", b"b"):
            out.append(TOPIC, b"brand0", value)
        assert not out.backlogged  # one full batch, one open
        out.append(TOPIC, b"brand0", b"c")
        assert out.backlogged
        shipping = asyncio.ensure_future(out.ship())
        await settle()
        broker.deliver()
        await settle()
        broker.deliver()
        await asyncio.wait_for(shipping, 1)
        assert not out.backlogged
        broker.deliver()
        await out.flush()
        assert broker.delivered == [b"a", b"b", b"c"]
    asyncio.run(play())
