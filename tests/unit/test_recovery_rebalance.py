"""A batch still in flight when a rebalance revokes its partitions (agents.recovery).

A worker's batch creates a brand in the engine, then awaits its outputs while a second worker's
arrival revokes every partition. Faust's revocation waits for our batch only when a commit is
already pending (the commit hook takes the batch lock); otherwise the revocation signal used
to run while the batch was in flight: it dropped the brands whose partition was known, the new
brand stayed in the engine, and when its partition came back from the other worker the stale
copy was used instead of that worker's snapshot. The batch's acks, made after Faust had
dropped the old assignment's, counted in the next generation. These tests play that
interleaving on the real engine and recovery, through :meth:`Recovery.revoke` (the signal's
handler since the fix; before it the handler called ``on_revoked`` at once).
"""

from __future__ import annotations

import asyncio

import orjson
from faust.types import TP

from agents.ingest import Ingest
from agents.snapshots import encode_snapshot
from pipeline.engine import Engine
from pipeline.settings import Settings
from tests.support.streams import START, iso
from tests.unit.test_ingest import TOPIC, make_worker, rec, run

ALL = {TP(TOPIC, p) for p in range(4)}


def mention(partition: int, offset: int, brand: str = "acme"):
    r = rec(partition, offset, key=brand.encode())
    r.value = orjson.dumps({"id": f"{brand}-{offset}", "created_at": iso(START + offset),
                            "brand": brand, "text": f"@{brand} hello", "author": {
                                "id": "u", "handle": "bob"}})
    r.timestamp = int((START + offset) * 1000)
    return r


def worker_with_engine():
    w = make_worker()
    w.engine = Engine(Settings(kafka_bootstrap="x:1", detection={"warmup_s": 0}))
    w.engine.restore = w.recovery.restore
    return w


async def handle_then_wait(released: asyncio.Event):
    async def handle(worker, records):
        worker.engine.process([r.value for r in records], [r.timestamp / 1000 for r in records])
        await released.wait()  # its outputs are still being delivered
    return handle


def overtaken_batch(w, ing: Ingest, records) -> None:
    """Run one batch and revoke every partition while it awaits its outputs."""
    async def play():
        released = asyncio.Event()
        task = asyncio.ensure_future(w.recovery.run_batch(
            records, await handle_then_wait(released), epoch=ing.epoch, ingest=ing))
        await asyncio.sleep(0)
        assert "acme" in w.engine.watches  # the engine has the batch; outputs pending
        ing.on_revoked()  # what agents.ingest and the revocation signal do, in that order
        revoking = asyncio.ensure_future(w.recovery.revoke(ALL))
        await asyncio.sleep(0.01)
        assert not revoking.done()  # the revocation waits for the batch in flight
        released.set()
        await task
        await revoking
    run(play())


def test_a_brand_created_by_an_overtaken_batch_does_not_outlive_the_revocation():
    w = worker_with_engine()
    ing = Ingest(w, None)
    overtaken_batch(w, ing, [mention(0, i) for i in range(5)])
    assert w.engine.watches == {}  # before: the new brand stayed, a stale copy
    assert w.recovery.dirty == {} and w.recovery.applied == {} and w.recovery.partition_of == {}
    assert not any(w.app.consumer._acked.values())  # not acked: re-fetched from the commit
    assert ing.dropped == 5


def test_a_snapshot_taken_before_the_revocation_covers_exactly_the_overtaken_batch():
    """A commit pending when the rebalance began runs after the batch: its snapshot must
    claim the batch's offsets, since the brand's state holds them."""
    w = worker_with_engine()
    ing = Ingest(w, None)

    async def play():
        released = asyncio.Event()
        task = asyncio.ensure_future(w.recovery.run_batch(
            [mention(0, i) for i in range(5)], await handle_then_wait(released),
            epoch=ing.epoch, ingest=ing))
        await asyncio.sleep(0)
        ing.on_revoked()
        released.set()
        await task
    run(play())
    assert w.recovery.applied == {0: 4} and w.recovery.dirty == {"acme": 0}
    assert not any(w.app.consumer._acked.values())


def test_when_the_partition_comes_back_the_brand_resumes_from_the_other_workers_snapshot():
    w = worker_with_engine()
    ing = Ingest(w, None)
    overtaken_batch(w, ing, [mention(0, i) for i in range(5)])
    # meanwhile the other worker processed offsets 0..49 of partition 0 and snapshotted acme
    other = Engine(Settings(kafka_bootstrap="x:1", detection={"warmup_s": 0}))
    other.process([mention(0, i).value for i in range(50)])
    w.state[b"acme"] = encode_snapshot(0, 49, other.watches["acme"].to_state())
    # it died; partition 0 is ours again, fetched from its committed offset (say 40)
    records = [mention(0, i) for i in range(40, 60)]
    run(w.recovery.run_batch(records, lambda wk, recs: _process(wk, recs), epoch=ing.epoch,
                             ingest=ing))
    other.process([r.value for r in records[10:]])
    assert w.recovery.covered["acme"] == (0, 49) and w.recovery.skipped == 10
    assert orjson.dumps(w.engine.watches["acme"].to_state()) == orjson.dumps(
        other.watches["acme"].to_state())


async def _process(worker, records):
    worker.engine.process([r.value for r in records], [r.timestamp / 1000 for r in records])
