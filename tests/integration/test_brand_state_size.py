"""A brand whose state is over 1 MB on a real broker (embedded Tansu and Apache Kafka).

One brand snapshot is one record of the ``brand-state`` changelog. Before snapshots were
compressed and bounded (``agents.snapshots``, ``snapshot_max_bytes``), a state over ~1 MB made
the producer refuse the record at the first commit and the worker crashed, again at every
restart. Here the brand keeps 5,000 recent mention ids of ~270 bytes (``BrandWatch.seen_ids``):
its snapshot JSON is ~1.4 MB.

* It is written compressed and survives a SIGKILL and a restart with exactly the state of an
  offline recount.
* With ``snapshot_max_bytes`` below its compressed size, the worker goes on: the other brand's
  partition is committed, the big brand's partition is not (its snapshot is not written). On
  Kafka, a worker restarted with a larger limit meets the broker's refusal (the changelog
  keeps the max.message.bytes it was created with) and holds the partition the same way;
  once the topic's limit is raised, a restarted worker replays that partition from its last
  commit and ends with the exact state.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client.parser import text_string_to_metric_families

from agents import kafka
from agents.app import record_max_bytes
from agents.snapshots import decode_snapshot, unpack
from agents.workers import WorkerProcess
from pipeline.settings import BrandConfig, Settings
from tests.chaos.harness import offline_run, read_all
from tests.support.streams import stream

pytestmark = pytest.mark.slow

#: acme (the big brand) and globex hash to partitions 0 and 1 of a 2-partition topic
PARTITION = {"acme": 0, "globex": 1}


def state_settings(broker, **kw) -> Settings:
    tag = uuid.uuid4().hex[:8]
    names = ("mentions", "scored", "alerts", "deadletter", "labels", "posts_outgoing",
             "posts_reviewed", "trends")
    return Settings(
        kafka_bootstrap=broker.bootstrap, broker_kind=broker.kind, app_id=f"veille-size-{tag}",
        brands=[BrandConfig(name="acme", handles=["acme"]), BrandConfig(name="globex")],
        topics={"partitions": 2, **{n: f"size-{tag}.{n}" for n in names}},
        snapshot_every_s=1.0, **kw)


def mentions() -> list[dict]:
    """~5,900 acme mentions with ~270-byte ids (distinct hex: compresses about 2:1), then
    some globex ones, in event-time order."""
    acme = stream("acme", 18, 8, seed=5)
    for m in acme:
        m["id"] += "-" + "".join(hashlib.sha256(f"{m['id']}/{k}".encode()).hexdigest()
                                 for k in range(4))
    out = sorted(acme + stream("globex", 18, 1, seed=6), key=lambda m: m["created_at"])
    assert sum(m["brand"] == "acme" for m in out) > 5_000  # BrandWatch.seen_ids is full
    return out


def metric(worker: WorkerProcess, name: str, brand: str) -> float:
    for family in text_string_to_metric_families(worker.metrics()):
        for s in family.samples:
            if s.name == name and s.labels.get("brand") == brand:
                return s.value
    return 0.0


def last_snapshots(settings: Settings) -> dict[str, bytes]:
    recs = asyncio.run(read_all(settings, f"{settings.app_id}-brand-state-changelog"))
    return {r.key.decode(): r.value for r in recs if r.value is not None}


async def produce(settings: Settings, broker, ms: list[dict]) -> None:
    """Send mentions keyed by brand, one record per batch on Tansu (exact end offsets)."""
    p = kafka.producer(settings, **broker.producer_kwargs)
    await p.start()
    try:
        for m in ms:
            await p.send(settings.topics.mentions, orjson.dumps(m), key=m["brand"].encode())
        await p.flush()
    finally:
        await p.stop()


async def committed_and_end(settings: Settings) -> dict[int, tuple[int, int]]:
    """partition -> (committed offset or -1, end offset) of the mentions topic, asked as a
    group member that joins nothing (Tansu 0.6 answers no admin OffsetFetch)."""
    c = kafka.consumer(settings, group_id=settings.app_id)
    await c.start()
    try:
        tps = [TopicPartition(settings.topics.mentions, p) for p in (0, 1)]
        end = await c.end_offsets(tps)
        return {tp.partition: (await c.committed(tp) or -1, end[tp]) for tp in tps}
    finally:
        await c.stop()


def wait_caught_up(settings: Settings, worker: WorkerProcess, stall_s: float = 150) -> None:
    """Until the group committed every mention (bounded by progress, not time)."""
    moved, best = time.monotonic(), -1
    while True:
        assert worker.running(), worker.tail()
        progress = asyncio.run(committed_and_end(settings))
        done = sum(max(0, c) for c, _ in progress.values())
        if all(c == e for c, e in progress.values()):
            return
        if done > best:
            best, moved = done, time.monotonic()
        assert time.monotonic() - moved < stall_s, (progress, worker.tail())
        time.sleep(1.0)


def assert_exact(settings: Settings) -> bytes:
    """Every brand's last snapshot is the offline recount of the topic; acme's value."""
    source = asyncio.run(read_all(settings, settings.topics.mentions))
    offline = offline_run(settings, source)
    snaps = last_snapshots(settings)
    for brand, watch in offline.watches.items():
        expected = orjson.loads(orjson.dumps(watch.to_state()))
        assert decode_snapshot(snaps[brand])[2] == expected, f"{brand}: state differs"
    return snaps["acme"]


def test_a_state_over_1mb_is_saved_and_survives_a_restart_exactly(broker, tmp_path):
    settings = state_settings(broker)
    stream_ = mentions()
    half = len(stream_) // 2
    asyncio.run(kafka.ensure_topics(settings))
    asyncio.run(produce(settings, broker, stream_[:half]))
    worker = WorkerProcess(settings, tmp_path / "w1").start(timeout=120)
    try:
        wait_caught_up(settings, worker)
    finally:
        worker.kill()
    asyncio.run(produce(settings, broker, stream_[half:]))
    with WorkerProcess(settings, tmp_path / "w2") as worker:
        wait_caught_up(settings, worker)
        time.sleep(2.5)  # the gauges of the last snapshot
        raw_gauge = metric(worker, "veille_brand_state_raw_bytes", "acme")
        size_gauge = metric(worker, "veille_brand_state_bytes", "acme")
        assert metric(worker, "veille_brand_state_oversize_total", "acme") == 0
    value = assert_exact(settings)
    raw = unpack(value)
    assert len(raw) > 1_048_576, len(raw)  # over Kafka's default record limit uncompressed
    assert len(value) < settings.snapshot_max_bytes, len(value)
    assert raw_gauge > 1_048_576 and 0 < size_gauge < settings.snapshot_max_bytes


def wait_for(what, check, worker: WorkerProcess, timeout: float = 150) -> object:
    """Poll ``check()`` until it returns a true value (the worker must stay up)."""
    deadline = time.monotonic() + timeout
    while True:
        assert worker.running(), worker.tail()
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, (what, worker.tail())
        time.sleep(1.0)


def test_a_state_over_the_limit_holds_only_its_partition_and_nothing_is_lost(broker, tmp_path):
    settings = state_settings(broker, snapshot_max_bytes=200_000)
    stream_ = mentions()
    cut = len(stream_) * 3 // 4
    asyncio.run(kafka.ensure_topics(settings))
    asyncio.run(produce(settings, broker, stream_[:cut]))
    acme, globex = PARTITION["acme"], PARTITION["globex"]

    def settled() -> dict | None:
        progress = asyncio.run(committed_and_end(settings))
        g_committed, g_end = progress[globex]
        held = metric(worker, "veille_brand_state_unsaved", "acme") == 1
        return progress if held and g_committed == g_end else None

    with WorkerProcess(settings, tmp_path / "w1") as worker:
        progress = wait_for("acme held, globex committed", settled, worker)
        a_committed, a_end = progress[acme]
        assert a_committed < a_end  # acme's snapshot is not written: its partition waits
        refused = metric(worker, "veille_brand_state_oversize_total", "acme")
        assert refused >= 1 and "over snapshot_max_bytes=200,000" in worker.tail(400)
        # more input: the worker goes on, globex's partition is committed further, acme's not
        asyncio.run(produce(settings, broker, stream_[cut:]))
        progress = wait_for("globex committed again", lambda: (
            (p := settled()) and p[globex][1] > progress[globex][1] and p), worker)
        assert progress[acme][0] == a_committed and progress[acme][1] > a_end
        assert metric(worker, "veille_brand_state_oversize_total", "acme") > refused
    settings = settings.model_copy(update={"snapshot_max_bytes": 1_000_000})
    if broker.kind == "kafka":  # Tansu 0.6 enforces no record size limit
        # the changelog was created with max.message.bytes = 200,000 + 16 KiB: the broker
        # refuses acme's snapshot; the worker holds its partition again, without crashing
        with WorkerProcess(settings, tmp_path / "w2") as worker:
            wait_for("the broker refuses acme's snapshot", lambda: (
                metric(worker, "veille_brand_state_unsaved", "acme") == 1
                and "the broker refused the snapshot of brand 'acme'" in worker.tail(400)),
                worker)
        asyncio.run(raise_topic_limit(settings))  # what an operator does (kafka-configs)
    # a restart with a limit the state fits in: acme's partition replays from its last
    # commit, resumed from acme's last written snapshot (if any), and catches up exactly
    with WorkerProcess(settings, tmp_path / "w3") as worker:
        wait_caught_up(settings, worker)
        assert metric(worker, "veille_brand_state_unsaved", "acme") == 0
    assert_exact(settings)


async def raise_topic_limit(settings: Settings) -> None:
    """Set the changelog's max.message.bytes to what ``settings`` need."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs(settings))
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(
            ConfigResourceType.TOPIC, f"{settings.app_id}-brand-state-changelog",
            configs={"max.message.bytes": str(record_max_bytes(settings))})])
    finally:
        await admin.close()
