"""The mentions fast path (agents.ingest): buffering, stale records, bulk acks read by Faust.

Faust's own commit arithmetic (``Consumer._new_offset``) is run on the acks, so a wrong ack
(too far, a hole, an offset below the committed one) shows up as a wrong commit offset.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace

from faust.transport.consumer import Consumer as FaustConsumer
from prometheus_client import REGISTRY
from faust.types import TP
from intervaltree import IntervalTree

from agents.ingest import Ingest
from agents.recovery import Recovery
from pipeline.settings import Settings

TOPIC = "veille.mentions"
CHANGELOG = "veille-brand-state-changelog"


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
        self.sought: list = []
        self.assigned = {TP(t, p) for t in (TOPIC, "veille.labels", CHANGELOG) for p in range(4)}

    def assignment(self):
        return self.assigned

    async def seek_wait(self, partitions) -> None:  # Faust's, done in the consumer's thread
        self.sought.extend(partitions.items())

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
    ing.on_sought(w.app.consumer)  # the assignment was sought to its committed offsets
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


def test_each_partition_is_taken_in_order_from_its_committed_offset():
    """Seen in the failover chaos scenario: a fetch of 458-474 was dropped (flow stopped),
    the next one (475-476) taken, then the assignment's seek brought 458-474 back after them:
    the brand counted them as late and its state diverged from an offline recount. And a
    fetch delivered while the seek ran, dropped, left the position past records never
    taken: the worker stalled once the stream had ended. Records are now taken from the
    committed offset on, in order, whatever the fetches deliver."""
    w = make_worker(batch_size=50)
    ing = Ingest(w, None)
    c, p0, p1 = w.app.consumer, TP(TOPIC, 0), TP(TOPIC, 1)
    c._committed_offset[p1] = 458
    # a rebalance: fetches are set aside until the assignment's seek, one from before it
    # (the position it left was put back by the seek) and one from after it
    run(ing.take(c, {p1: [rec(1, 475), rec(1, 476)]}, active=None))
    run(ing.take(c, {p1: [rec(1, i) for i in range(458, 461)]}, active=None))
    assert not ing.buffer and ing.dropped == 0 and len(ing.parked) == 2
    ing.on_sought(c)
    assert [r.offset for r in ing.buffer] == [458, 459, 460] and ing.dropped == 2
    assert ing.expected == {p0: 0, p1: 461, TP(TOPIC, 2): 0, TP(TOPIC, 3): 0}  # 0: no commit
    assert c.sought == [] and not ing.parked
    # the position moved past records never taken: sought back, nothing taken
    run(ing.take(c, {p1: [rec(1, 475), rec(1, 476)]}, active=None))
    assert c.sought == [(p1, 461)] and len(ing.buffer) == 3
    run(ing.take(c, {p1: [rec(1, i) for i in range(461, 477)]}, active=None))
    assert [r.offset for r in ing.buffer] == list(range(458, 477))
    # the same records delivered again (a fetch from before a seek): only the new ones
    run(ing.take(c, {p1: [rec(1, i) for i in range(470, 481)]}, active=None))
    assert [r.offset for r in ing.buffer] == list(range(458, 481))
    ing.on_revoked()  # nothing is taken until the next assignment's seek
    run(ing.take(c, {p1: [rec(1, 481)]}, active=None))
    assert not ing.buffer and ing.seek_pending and len(ing.parked) == 1
    ing.on_revoked()  # a rebalance again: what was set aside is let go (fetched again)
    assert not ing.parked


def test_a_gap_the_log_itself_has_is_taken_after_one_seek_back():
    """Offsets with no record (compaction, transaction markers): the fetch after seeking back
    starts beyond the expected offset again, and is taken."""
    w = make_worker()
    ing = Ingest(w, None)
    c, p0 = w.app.consumer, TP(TOPIC, 0)
    c._committed_offset[p0] = 10
    ing.on_sought(c)
    run(ing.take(c, {p0: [rec(0, 12), rec(0, 13)]}, active=None))
    assert c.sought == [(p0, 10)] and not ing.buffer
    run(ing.take(c, {p0: [rec(0, 12), rec(0, 13)]}, active=None))
    assert [r.offset for r in ing.buffer] == [12, 13] and ing.expected[p0] == 14
    run(ing.take(c, {p0: [rec(0, 16)]}, active=None))  # a new gap: checked again
    assert c.sought == [(p0, 10), (p0, 14)]


def test_records_dropped_outside_a_rebalance_are_fetched_again():
    """Flow stopped or a partition not active: its records are dropped and the partition
    sought back at once to the next offset to take (they may have been its last records:
    waiting for a later fetch to notice would wait forever)."""
    w = make_worker()
    ing = Ingest(w, None)
    c, p0, p1 = w.app.consumer, TP(TOPIC, 0), TP(TOPIC, 1)
    c._committed_offset[p1] = 5
    ing.on_sought(c)
    c.flow_active = False
    run(ing.take(c, {p1: [rec(1, 5), rec(1, 6)]}, active=None))
    assert c.sought == [(p1, 5)] and not ing.buffer and ing.dropped == 2
    c.flow_active = True
    run(ing.take(c, {p0: [rec(0, 0)], p1: [rec(1, 5)]}, active={p0}))  # p1 paused meanwhile
    assert c.sought == [(p1, 5), (p1, 5)] and [r.offset for r in ing.buffer] == [0]
    run(ing.take(c, {p1: [rec(1, 5), rec(1, 6)]}, active=None))
    assert [(r.partition, r.offset) for r in ing.buffer] == [(0, 0), (1, 5), (1, 6)]


def discarded() -> dict[str, float]:
    """``veille_ingest_discarded_total`` by reason, as scraped."""
    return {r: REGISTRY.get_sample_value("veille_ingest_discarded_total", {"reason": r})
            for r in ("rebalance", "before_seek", "taken_already", "gap", "flow_stopped")}


def test_every_discarded_record_is_counted_by_reason():
    """Ops see the records ingest set aside and fetched again (veille_ingest_discarded):
    each rule of Ingest.take counts under its own reason, and the sum is Ingest.dropped."""
    w = make_worker(batch_size=50)
    ing = Ingest(w, None)
    c, p0, p1 = w.app.consumer, TP(TOPIC, 0), TP(TOPIC, 1)
    c._committed_offset[p1] = 10
    before = discarded()
    run(ing.take(c, {p1: [rec(1, 20)]}, active=None))  # parked, then from before the seek
    ing.on_sought(c)
    run(ing.take(c, {p1: [rec(1, i) for i in range(8, 13)]}, active=None))  # 8, 9 taken already
    run(ing.take(c, {p1: [rec(1, 15), rec(1, 16)]}, active=None))  # 13-14 never taken: a gap
    run(ing.take(c, {p0: [rec(0, 0), rec(0, 1), rec(0, 2)]}, active={p1}))  # p0 not active
    ing.on_revoked()  # 10, 11, 12 buffered and let go
    after = discarded()
    delta = {r: after[r] - before[r] for r in after}
    assert delta == {"rebalance": 3, "before_seek": 1, "taken_already": 2, "gap": 2,
                     "flow_stopped": 3}
    assert ing.dropped == sum(delta.values())


def test_only_the_seek_that_ends_an_assignment_lets_records_in():
    """install() wraps the consumer's perform_seek: records are taken once the seek made
    after Faust's ``on_rebalance_complete`` returned; the seeks Faust makes whenever it polls
    while flow is stopped (the rebalance is under way) do not end the wait."""
    from agents import ingest as ingest_mod

    w = make_worker()
    ing = Ingest(w, None)
    sought = []

    class Consumer(FakeConsumer):
        async def _getmany(self, active_partitions, timeout):
            return {}

        async def perform_seek(self):
            sought.append(ing.seek_pending)  # still pending while Faust seeks

    class Signal:
        handlers: list = []

        def connect(self, fn):
            self.handlers.append(fn)
            return fn

        async def send(self):
            for fn in self.handlers:
                await fn(None)

    app = SimpleNamespace(_new_consumer=Consumer, _on_partitions_revoked=None,
                          task=lambda fn: fn, on_rebalance_complete=Signal())
    ingest_mod.install(app, ing)
    consumer = app._new_consumer()
    assert ing.seek_pending
    run(consumer.perform_seek())  # polled while flow was stopped: still pending
    assert sought == [True] and ing.seek_pending
    run(app.on_rebalance_complete.send())  # the assignment's recovery is done
    run(consumer.perform_seek())
    assert sought == [True, True] and not ing.seek_pending
    ing.on_revoked()
    run(consumer.perform_seek())
    assert ing.seek_pending


def test_a_fetch_returning_while_flow_is_stopped_keeps_the_changelog_records():
    """Faust drops a fetch that returns while flow is stopped and seeks back only partitions
    with a committed offset: a changelog's records were lost, and the table recovery that had
    just sought the changelog waited for them forever (reproduced in the failover chaos
    scenario). The wrapper seeks them back instead and hands Faust nothing."""
    from agents import ingest as ingest_mod

    w = make_worker()
    ing = Ingest(w, None)  # a rebalance is under way: the assignment's seek is to come
    fetched: list = []

    class Consumer(FakeConsumer):
        async def _getmany(self, active_partitions, timeout):
            return fetched.pop(0)

        async def perform_seek(self):
            pass

    app = SimpleNamespace(_new_consumer=Consumer, _on_partitions_revoked=None,
                          task=lambda fn: fn, on_rebalance_complete=SimpleNamespace(
                              connect=lambda fn: fn))
    ingest_mod.install(app, ing)
    consumer = app._new_consumer()
    log0, log1, gone = TP(CHANGELOG, 0), TP(CHANGELOG, 1), TP(CHANGELOG, 2)
    consumer.assigned.discard(gone)  # revoked meanwhile: let go
    change = [rec(0, 7, topic=CHANGELOG), rec(0, 8, topic=CHANGELOG)]
    fetched.append({log0: change, log1: [rec(1, 3, topic=CHANGELOG)],
                    gone: [rec(2, 1, topic=CHANGELOG)], TP(TOPIC, 0): [rec(0, 40)]})
    consumer.flow_active = False
    assert run(consumer._getmany(None, 0.1)) == {}
    assert sorted(consumer.sought) == [(log0, 7), (log1, 3)]
    assert not ing.buffer  # the mentions' record: dropped, the assignment's seek is to come
    consumer.flow_active = True  # flow running: the changelog's records go to Faust
    fetched.append({log0: change})
    assert run(consumer._getmany(None, 0.1)) == {log0: change}


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
    ing.on_sought(w.app.consumer)

    async def scenario():
        await ing.take(w.app.consumer, {TP(TOPIC, 0): [rec(0, i) for i in range(7)]}, None)
        await asyncio.wait_for(ing.run(), 5)

    run(scenario())
    assert seen == [[0, 1, 2], [3, 4, 5], [6]]
    assert w.app.consumer.new_offset(TP(TOPIC, 0)) == 7
