"""The commit hook (agents.recovery.Recovery.commit): snapshots, outputs, offsets, in order.

Faust fixes the offsets to commit before calling the hook. The snapshots are taken under the
batch lock; then the outputs are delivered, then the snapshots, then the offsets committed.
Under at-least-once batches go on during those round trips (the next commit covers them);
under exactly_once the lock is held to the end.
"""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

from aiokafka.errors import MessageSizeTooLargeError
from faust.types import TP
from prometheus_client import REGISTRY

from agents import recovery as recovery_module
from agents.recovery import Recovery
from agents.snapshots import decode_snapshot
from pipeline.settings import Settings
from tests.unit.test_ingest import TOPIC, rec
from tests.unit.test_outputs import settle


class Watch:
    def __init__(self) -> None:
        self.events: list[int] = []
        self.blob = ""  # incompressible filler: makes the snapshot as large as a test needs

    def to_state(self) -> dict:
        return {"events": list(self.events), "blob": self.blob}


class Table:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.changelog_topic = SimpleNamespace(get_topic_name=lambda: "brand-state-changelog")

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


class World:
    """A worker whose output flush waits for the test (``release``); every step logged."""

    def __init__(self, guarantee: str = "at_least_once", **settings: object) -> None:
        self.log: list[str] = []
        self.released = asyncio.Event()
        self.sent: list[tuple[bytes, bytes]] = []
        self.committed: list[dict] = []
        world = self

        class Outputs:
            async def flush(self) -> None:
                world.log.append("outputs flush")
                await world.released.wait()
                world.log.append("outputs delivered")

        class Producer:
            async def send(self, topic, key, value, partition, timestamp, headers, *,
                           transactional_id=None):
                world.log.append(f"snapshot {key.decode()}")
                world.sent.append((key, value))
                fut = asyncio.get_running_loop().create_future()
                fut.set_result(None)
                return fut

            async def flush(self) -> None:
                pass

        consumer = SimpleNamespace(assignment=lambda: {TP(TOPIC, p) for p in range(4)})
        app = SimpleNamespace(consumer=consumer, producer=Producer(), should_stop=False,
                              conf=SimpleNamespace(id="veille"),
                              assignor=SimpleNamespace(group_for_topic=lambda t: 0))
        self.watches = {b: Watch() for b in ("a", "b", "c")}
        self.worker = SimpleNamespace(
            app=app, settings=Settings(kafka_bootstrap="x:1", processing_guarantee=guarantee,
                                       **settings),
            engine=SimpleNamespace(watches=self.watches), state=Table(), outputs=Outputs())
        self.recovery = Recovery(self.worker)

    async def handle(self, worker, records) -> None:
        for r in records:
            self.watches[r.key.decode()].events.append(r.offset)
        self.log.append(f"batch {records[0].offset}-{records[-1].offset}")

    async def batch(self, brand: str, offsets: range, partition: int = 0) -> None:
        await self.recovery.run_batch(
            [rec(partition, o, key=brand.encode()) for o in offsets], self.handle)

    async def commit(self, offsets: dict | None = None) -> bool:
        async def commit_offsets(some) -> bool:
            self.log.append("commit offsets")
            self.committed.append(dict(some))
            return True
        return await self.recovery.commit(offsets or {TP(TOPIC, 0): 10}, commit_offsets)

    def snapshots(self) -> dict[str, tuple[int, list[int]]]:
        out = {}
        for key, value in self.sent:
            _, offset, state = decode_snapshot(value)
            out[key.decode()] = (offset, state["events"])
        return out


def test_batches_go_on_while_the_commit_waits_for_the_broker():
    async def play():
        w = World()
        await w.batch("a", range(0, 10))
        commit = asyncio.ensure_future(w.commit())
        await settle()  # snapshot taken; the outputs' delivery is slow
        await asyncio.wait_for(w.batch("a", range(10, 15)), 1)  # not held by the commit
        assert not commit.done()
        w.released.set()
        assert await commit
        # outputs delivered before the snapshot, the snapshot before the offsets
        assert w.log == ["batch 0-9", "outputs flush", "batch 10-14", "outputs delivered",
                         "snapshot a", "commit offsets"]
        # the snapshot is the state when it was taken, with the offset it covers
        assert w.snapshots() == {"a": (9, list(range(10)))}
        assert w.recovery.dirty == {"a": 0} and w.recovery.applied == {0: 14}  # next commit
    asyncio.run(play())


def test_under_exactly_once_the_commit_holds_the_batches_to_the_end():
    async def play():
        w = World("exactly_once")
        await w.batch("a", range(0, 10))
        commit = asyncio.ensure_future(w.commit())
        await settle()
        batch = asyncio.ensure_future(w.batch("a", range(10, 15)))
        await settle()
        assert not batch.done()
        w.released.set()
        await commit
        await batch
        assert w.log == ["batch 0-9", "outputs flush", "outputs delivered", "snapshot a",
                         "commit offsets", "batch 10-14"]
    asyncio.run(play())


def test_snapshots_are_taken_in_slices_each_covering_what_its_brand_holds(monkeypatch):
    """With many brands a batch may run between two slices of the snapshots: each brand's
    snapshot then claims the offsets its own state holds."""
    monkeypatch.setattr(recovery_module, "CAPTURE_SLICE_S", 0.0)  # one brand per slice

    async def play():
        w = World()
        for brand, start in (("a", 0), ("b", 3), ("c", 6)):
            await w.batch(brand, range(start, start + 3))
        commit = asyncio.ensure_future(w.commit())
        batch = asyncio.ensure_future(w.batch("c", range(9, 12)))  # waits for the lock
        await settle()
        w.released.set()
        await asyncio.wait_for(asyncio.gather(commit, batch), 1)
        assert w.log.index("batch 9-11") < w.log.index("outputs flush")  # between slices
        assert w.snapshots() == {"a": (8, [0, 1, 2]), "b": (11, [3, 4, 5]),
                                 "c": (11, [6, 7, 8, 9, 10, 11])}
        assert w.recovery.dirty == {}
    asyncio.run(play())


def test_a_broken_recovery_commits_nothing():
    async def play():
        w = World()
        await w.batch("a", range(0, 3))
        w.recovery.broken = "output send failed"
        w.released.set()
        assert not await w.commit()
        assert "commit offsets" not in w.log and w.sent == []
    asyncio.run(play())


def oversize_world(guarantee: str = "at_least_once") -> World:
    """Brands ``a`` on partition 0 and ``b`` on partition 1; ``a``'s snapshot is ~12.5 kB
    compressed, over ``snapshot_max_bytes`` = 10,000."""
    w = World(guarantee, snapshot_max_bytes=10_000)
    w.watches["a"].blob = random.Random(1).randbytes(12_000).hex()
    w.released.set()
    return w


def oversize_count(brand: str) -> float:
    return REGISTRY.get_sample_value("veille_brand_state_oversize_total", {"brand": brand}) or 0


def unsaved(brand: str) -> float | None:
    return REGISTRY.get_sample_value("veille_brand_state_unsaved", {"brand": brand})


def test_a_snapshot_too_large_holds_its_partition_and_the_others_go_on():
    async def play():
        w = oversize_world()
        await w.batch("a", range(0, 5), partition=0)
        await w.batch("b", range(0, 5), partition=1)
        before = oversize_count("a")
        offsets = {TP(TOPIC, 0): 5, TP(TOPIC, 1): 5}
        assert await w.commit(offsets)
        # b's snapshot and partition 1 are committed; a's is not written, partition 0 waits
        assert [k for k, _ in w.sent] == [b"b"] and b"a" not in w.worker.state.data
        assert w.committed == [{TP(TOPIC, 1): 5}]
        assert w.recovery.oversize == {"a": 0} and w.recovery.dirty == {"a": 0}
        assert not w.recovery.broken and oversize_count("a") == before + 1
        size = REGISTRY.get_sample_value("veille_brand_state_bytes", {"brand": "a"})
        assert size > 10_000 and unsaved("a") == 1 and unsaved("b") == 0
        # still too large at the next commit: still held
        await w.batch("a", range(5, 8), partition=0)
        assert await w.commit({TP(TOPIC, 0): 8})
        assert w.committed[-1] == {} and oversize_count("a") == before + 2
        # the brand's state shrinks: its snapshot is written, then partition 0 committed
        w.watches["a"].blob = ""
        assert await w.commit({TP(TOPIC, 0): 8})
        assert w.committed[-1] == {TP(TOPIC, 0): 8} and w.recovery.oversize == {}
        assert unsaved("a") == 0
        assert w.snapshots()["a"] == (7, list(range(8)))
    asyncio.run(play())


def test_under_exactly_once_a_snapshot_too_large_commits_nothing():
    async def play():
        w = oversize_world("exactly_once")
        await w.batch("a", range(0, 5), partition=0)
        await w.batch("b", range(0, 5), partition=1)
        assert not await w.commit({TP(TOPIC, 0): 5, TP(TOPIC, 1): 5})
        assert w.committed == [] and "snapshot of brand 'a'" in w.recovery.broken
    asyncio.run(play())


def test_a_snapshot_the_broker_refuses_breaks_the_recovery_before_any_commit():
    async def play():
        w = World()
        w.released.set()

        async def refuse(*args, **kwargs):
            raise RuntimeError("MessageSizeTooLargeError")
        w.worker.app.producer.send = refuse
        await w.batch("a", range(0, 3))
        assert not await w.commit()
        assert w.committed == [] and "snapshot delivery failed" in w.recovery.broken
    asyncio.run(play())


def test_a_snapshot_the_broker_refuses_for_its_size_holds_its_partition():
    """A changelog topic created with a lower max.message.bytes than snapshot_max_bytes."""
    async def play():
        w = World()
        w.released.set()
        send = w.worker.app.producer.send

        async def refuse_a(topic, key, value, *args, **kwargs):
            if key != b"a":
                return await send(topic, key, value, *args, **kwargs)
            fut = asyncio.get_running_loop().create_future()
            fut.set_exception(MessageSizeTooLargeError())
            return fut
        w.worker.app.producer.send = refuse_a
        await w.batch("a", range(0, 3), partition=0)
        await w.batch("b", range(0, 3), partition=1)
        assert await w.commit({TP(TOPIC, 0): 3, TP(TOPIC, 1): 3})
        assert not w.recovery.broken and w.committed == [{TP(TOPIC, 1): 3}]
        assert b"a" not in w.worker.state.data and b"b" in w.worker.state.data
        assert w.recovery.oversize == {"a": 0} and unsaved("a") == 1
        w.worker.app.producer.send = send  # the topic's limit raised: written, committed
        assert await w.commit({TP(TOPIC, 0): 3})
        assert w.committed[-1] == {TP(TOPIC, 0): 3} and unsaved("a") == 0
    asyncio.run(play())
