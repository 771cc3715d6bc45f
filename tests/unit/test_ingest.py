"""The mentions fast path (agents.ingest): buffering, stale records, bulk acks read by Faust.

Faust's own commit arithmetic (``Consumer._new_offset``) is run on the acks, so a wrong ack
(too far, a hole, an offset below the committed one) shows up as a wrong commit offset.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace

from faust.transport.consumer import Consumer as FaustConsumer
from faust.types import TP
from intervaltree import IntervalTree

from agents.ingest import Ingest
from agents.recovery import Recovery
from pipeline.settings import Settings

TOPIC = "veille.mentions"


def rec(partition: int, offset: int, key: bytes = b"acme", topic: str = TOPIC):
    return SimpleNamespace(topic=topic, partition=partition, offset=offset, key=key,
                           value=b"{}", timestamp=1_700_000_000_000, headers=[])


class FakeConsumer:
    """The attributes of Faust's consumer that ingest and ``_new_offset`` use."""

    def __init__(self) -> None:
        self._committed_offset: dict = defaultdict(lambda: None)
        self._acked: dict = defaultdict(list)
        self._acked_index: dict = defaultdict(set)
        self._gap: dict = defaultdict(IntervalTree)
        self._n_acked = 0
        self.flow_active = True
        self.should_stop = False

    def new_offset(self, tp: TP):
        return FaustConsumer._new_offset(self, tp)  # Faust's own arithmetic


def make_worker(batch_size: int = 4):
    consumer = FakeConsumer()
    app = SimpleNamespace(consumer=consumer, consumer_generation_id=1, should_stop=False,
                          topics=SimpleNamespace(acks_enabled_for=lambda t: True),
                          monitor=SimpleNamespace(stream_inbound_time={}))
    settings = Settings(kafka_bootstrap="x:1", batch_size=batch_size)
    worker = SimpleNamespace(app=app, settings=settings,
                             engine=SimpleNamespace(watches={}), state={})
    worker.recovery = Recovery(worker)
    return worker


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_take_keeps_other_topics_and_drops_only_while_flow_is_stopped():
    w = make_worker()
    ing = Ingest(w, None)
    mine, other = TP(TOPIC, 0), TP("veille.labels", 0)
    fetched = {mine: [rec(0, 0), rec(0, 1)], other: [rec(0, 7, topic="veille.labels")]}
    rest = run(ing.take(w.app.consumer, fetched, active=None))
    assert list(rest) == [other] and [r.offset for r in ing.buffer] == [0, 1]
    # a rebalance completed while this fetch was out: its records are the new positions' ones
    w.app.consumer_generation_id = 2
    run(ing.take(w.app.consumer, {mine: [rec(0, 2)]}, active=None))
    assert [r.offset for r in ing.buffer] == [0, 1, 2]
    # flow stopped (a rebalance is under way): dropped, Faust seeks back before resuming
    w.app.consumer.flow_active = False
    rest = run(ing.take(w.app.consumer, {mine: [rec(0, 3)]}, active=None))
    assert rest == {} and [r.offset for r in ing.buffer] == [0, 1, 2] and ing.dropped == 1


def test_acks_give_faust_the_next_offset_after_each_processed_batch():
    w = make_worker()
    ing = Ingest(w, None)
    c = w.app.consumer
    ing.ack([rec(0, 0), rec(1, 0), rec(0, 1), rec(0, 2)])
    assert c.new_offset(TP(TOPIC, 0)) == 3 and c.new_offset(TP(TOPIC, 1)) == 1
    # a gap in the partition (compacted or transaction markers) does not block commits
    ing.ack([rec(0, 5), rec(0, 6)])
    assert c.new_offset(TP(TOPIC, 0)) == 7
    assert c._n_acked == 8  # 0-6 on partition 0 (3, 4: the gap), 0 on partition 1
    assert set(w.app.monitor.stream_inbound_time) == {TP(TOPIC, 0), TP(TOPIC, 1)}  # livelock


def test_acks_never_go_below_the_committed_offset():
    w = make_worker()
    ing = Ingest(w, None)
    c = w.app.consumer
    c._committed_offset[TP(TOPIC, 0)] = 10
    ing.ack([rec(0, 8), rec(0, 9)])  # re-delivered, already committed
    assert c._acked[TP(TOPIC, 0)] == []
    ing.ack([rec(0, 10), rec(0, 11)])
    assert c.new_offset(TP(TOPIC, 0)) == 12


def test_batches_taken_before_a_rebalance_are_neither_processed_nor_acked():
    w = make_worker(batch_size=2)
    seen = []

    async def handle(worker, records):
        seen.append([r.offset for r in records])

    ing = Ingest(w, handle)

    async def scenario():
        epoch = ing.epoch
        ing.on_revoked()  # a rebalance between taking the batch and processing it
        await w.recovery.run_batch([rec(0, 0), rec(0, 1)], handle, epoch=epoch, ingest=ing)
        await w.recovery.run_batch([rec(0, 0), rec(0, 1)], handle, epoch=ing.epoch,
                                   ingest=ing)

    run(scenario())
    assert seen == [[0, 1]]
    assert w.app.consumer.new_offset(TP(TOPIC, 0)) == 2


def test_the_buffer_is_drained_in_batches_in_order():
    w = make_worker(batch_size=3)
    seen = []

    async def handle(worker, records):
        seen.append([r.offset for r in records])
        if sum(map(len, seen)) >= 7:
            w.app.should_stop = True

    ing = Ingest(w, handle)

    async def scenario():
        await ing.take(w.app.consumer, {TP(TOPIC, 0): [rec(0, i) for i in range(7)]}, None)
        await asyncio.wait_for(ing.run(), 5)

    run(scenario())
    assert seen == [[0, 1, 2], [3, 4, 5], [6]]
    assert w.app.consumer.new_offset(TP(TOPIC, 0)) == 7
