"""The broker launchers (agents/brokers.py) and the facts the team relies on about each broker.

Tests named ``test_tansu_*`` characterise Tansu 0.6.0's known deviations from Kafka: if one of them
starts failing, Tansu changed -- update the notes in agents/brokers.py and the Faust overrides.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError
from aiokafka.structs import OffsetAndMetadata

from agents.brokers import (
    REPO_ROOT,
    BrokerStartError,
    EmbeddedTansu,
    KafkaJarsMissing,
    LocalKafka,
    free_port,
    port_is_free,
    probe_metadata,
    wait_for_broker,
)


N = 400
PARTITIONS = 4


# --- helpers ----------------------------------------------------------------------------------
def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return process_gone(pid)


async def create_topic(bootstrap: str, name: str, partitions: int = PARTITIONS, **configs: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        resp = await admin.create_topics(
            [NewTopic(name, partitions, 1, topic_configs=dict(configs) or None)])
        assert [e[1] for e in resp.topic_errors] == [0], resp
    finally:
        await admin.close()


async def produce(broker, topic: str, n: int = N, **kwargs) -> dict[bytes, list[tuple[int, bytes]]]:
    """Produce ``n`` keyed records; return {key: [(partition, value), ...]} in send order."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, **{**broker.producer_kwargs, **kwargs})
    await producer.start()
    sent: dict[bytes, list[tuple[int, bytes]]] = defaultdict(list)
    try:
        futs = []
        for i in range(n):
            key, value = b"user-%d" % (i % 37), b"msg-%d" % i
            futs.append((key, value, await producer.send(topic, value=value, key=key)))
        for key, value, fut in futs:
            md = await fut
            sent[key].append((md.partition, value))
    finally:
        await producer.stop()
    return sent


async def consume(broker, topic: str, n: int, group: str | None = None,
                  timeout: float = 30) -> dict[bytes, list[tuple[int, bytes]]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, **broker.consumer_kwargs)
    await consumer.start()
    got: dict[bytes, list[tuple[int, bytes]]] = defaultdict(list)
    count = 0
    try:
        deadline = time.monotonic() + timeout
        while count < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                for r in recs:
                    got[r.key].append((r.partition, r.value))
                    count += 1
        if group:
            await consumer.commit()
    finally:
        await consumer.stop()
    return got


# --- both brokers -----------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_roundtrip_keyed_4_partitions(broker, unique_topic):
    topic = unique_topic("roundtrip")
    await create_topic(broker.bootstrap, topic)
    sent = await produce(broker, topic)
    got = await consume(broker, topic, N)
    assert sum(map(len, got.values())) == N
    assert got.keys() == sent.keys()
    for key, records in sent.items():
        assert len({p for p, _ in records}) == 1, f"key {key!r} spread over partitions"
        assert got[key] == records, f"key {key!r}: wrong partition or order"
    assert {p for recs in got.values() for p, _ in recs} == set(range(PARTITIONS))


@pytest.mark.asyncio
async def test_create_topics_with_partitions(broker, unique_topic):
    topic = unique_topic("create")
    await create_topic(broker.bootstrap, topic, partitions=6)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        (desc,) = await admin.describe_topics([topic])
        assert desc["error_code"] == 0 and len(desc["partitions"]) == 6
        resp = await admin.create_topics([NewTopic(topic, 6, 1)])
        assert resp.topic_errors[0][1] == TopicAlreadyExistsError.errno  # what Faust tolerates
    finally:
        await admin.close()


@pytest.mark.asyncio
async def test_compacted_topic_config_accepted(broker, unique_topic):
    topic = unique_topic("changelog")
    await create_topic(broker.bootstrap, topic, partitions=2, **{"cleanup.policy": "compact"})
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 10
        while True:  # Kafka: the broker's metadata image may lag the controller for a moment
            (resp,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            entries = {e[0]: e[1] for e in resp.resources[0][4]}
            if "cleanup.policy" in entries or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert entries.get("cleanup.policy") == "compact", resp.resources[0][:3]
    finally:
        await admin.close()


@pytest.mark.asyncio
async def test_topics_auto_created_on_produce(broker, unique_topic):
    topic = unique_topic("auto")
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, **broker.producer_kwargs)
    await producer.start()
    try:
        md = await asyncio.wait_for(producer.send_and_wait(topic, b"x", key=b"k"), 30)
        assert md.offset == 0
    finally:
        await producer.stop()


@pytest.mark.asyncio
async def test_consumer_group_commit_and_fetch(broker, unique_topic):
    topic, group = unique_topic("group"), unique_topic("g")
    await create_topic(broker.bootstrap, topic)
    await produce(broker, topic, n=40)
    got = await consume(broker, topic, 40, group=group)  # joins, reads all, commits
    assert sum(map(len, got.values())) == 40
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group,
                                enable_auto_commit=False, **broker.consumer_kwargs)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        committed = {tp: await consumer.committed(tp) for tp in tps}
        ends = await consumer.end_offsets(tps)  # exact here: producer_kwargs batch one record
        assert committed == ends
        # Commit outside membership (manual assign + group_id, as offset-reset tools do) once the
        # group's members have left: Kafka accepts it (group is Empty); Tansu 0.6.0 rejects it.
        consumer.assign(tps)
        if broker.kind == "kafka":
            await consumer.commit({tps[0]: OffsetAndMetadata(3, "meta")})
            assert await consumer.committed(tps[0]) == 3
        else:
            with pytest.raises(CommitFailedError):
                await consumer.commit({tps[0]: OffsetAndMetadata(3, "meta")})
    finally:
        await consumer.stop()


@pytest.mark.asyncio
async def test_end_offsets_exact_with_one_record_batches(broker, unique_topic):
    topic = unique_topic("hw")
    await create_topic(broker.bootstrap, topic, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, max_batch_size=16)
    await producer.start()
    try:
        futs = [await producer.send(topic, b"v%d" % i, partition=0) for i in range(30)]
        await asyncio.gather(*futs)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        assert (await consumer.end_offsets([tp]))[tp] == 30
    finally:
        await consumer.stop()


def test_metadata_probe(broker):
    (node,) = probe_metadata(broker.bootstrap)
    assert node[1:] == ("127.0.0.1", broker.port)
    assert broker.running and broker.log_path.exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind", [pytest.param("tansu", marks=pytest.mark.tansu),
                                  pytest.param("kafka", marks=pytest.mark.kafka)])
def test_stop_kill_leave_no_process(broker_factory, kind):
    b = broker_factory(kind)
    pid, port = b.pid, b.port
    b.stop()
    assert process_gone(pid) and not b.running and b.pid is None
    assert port_is_free(port)
    b.stop()  # idempotent
    b.start()
    pid = b.pid
    b.kill()
    assert process_gone(pid) and port_is_free(port)
    workdir = b.workdir
    b.cleanup()
    assert not workdir.exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind", [pytest.param("tansu", marks=pytest.mark.tansu),
                                  pytest.param("kafka", marks=pytest.mark.kafka)])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_broker_dies_with_its_parent(kind, how, tmp_path):
    """A crashed test run (SIGKILL) or a Ctrl-C (SIGINT) never leaves a broker behind."""
    if kind == "kafka" and not LocalKafka.jars_present():
        pytest.fail("Apache Kafka jars are missing: run deploy/kafka/fetch.sh", pytrace=False)
    # Ctrl-C as in a terminal: a test run started in the background (``make test &``)
    # ignores SIGINT, and its children inherit that
    script = textwrap.dedent(f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from agents.brokers import make_broker
        with make_broker({kind!r}, workdir={str(tmp_path)!r}) as b:
            print(b.pid, flush=True)
            time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"parent printed {line!r}"
        pid = int(line)
        assert not process_gone(pid)
        parent.send_signal(how)
        assert wait_gone(pid, 30), f"{kind} pid {pid} survived its parent's {how.name}"
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.slow
@pytest.mark.kafka
@pytest.mark.asyncio
async def test_kafka_restart_keeps_data_and_port(broker_factory, unique_topic):
    b = broker_factory("kafka")
    topic, group = unique_topic("durable"), unique_topic("g")
    await create_topic(b.bootstrap, topic)
    sent = await produce(b, topic, n=100)
    await consume(b, topic, 100, group=group)
    bootstrap, pid = b.bootstrap, b.pid
    b.restart()
    assert b.bootstrap == bootstrap and b.pid != pid and process_gone(pid)
    assert await consume(b, topic, 100) == sent
    consumer = AIOKafkaConsumer(bootstrap_servers=b.bootstrap, group_id=group)
    await consumer.start()
    try:
        assert await consumer.committed(TopicPartition(topic, 0)) is not None
    finally:
        await consumer.stop()
    b.restart(graceful=False)  # SIGKILL: log recovery, still no data loss for acked records
    assert await consume(b, topic, 100) == sent


@pytest.mark.kafka
@pytest.mark.asyncio
async def test_kafka_idempotent_producer(kafka, unique_topic):
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        md = await producer.send_and_wait(unique_topic("idem"), b"x")
        assert md.offset == 0
    finally:
        await producer.stop()


def test_missing_kafka_jars_error_says_how_to_fetch(tmp_path):
    b = LocalKafka(libs=tmp_path / "nothing", workdir=tmp_path / "w")
    with pytest.raises(KafkaJarsMissing, match="deploy/kafka/fetch.sh"):
        b.start()
    assert b.pid is None


@pytest.mark.tansu
def test_port_in_use_is_reported(tansu):
    with pytest.raises(BrokerStartError, match="already in use"):
        EmbeddedTansu(port=tansu.port).start(timeout=5)
    with pytest.raises(BrokerStartError):
        wait_for_broker(f"127.0.0.1:{free_port()}", timeout=0.3)


# --- Tansu 0.6.0 deviations (characterisation) ------------------------------------------------
@pytest.mark.tansu
@pytest.mark.asyncio
async def test_tansu_end_offset_wrong_with_multi_record_batches(tansu, unique_topic):
    """High watermark = base offset of the LAST batch + 1: 10 + 1 + 5 records -> 12, not 16.

    Records themselves are all stored and readable with the right offsets; only ListOffsets
    (end_offsets / highwater, which Faust uses to finish changelog recovery) is wrong.
    """
    topic = unique_topic("batches")
    await create_topic(tansu.bootstrap, topic, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=tansu.bootstrap, linger_ms=50)
    await producer.start()
    try:
        for size in (10, 1, 5):
            futs = [await producer.send(topic, b"v", partition=0) for _ in range(size)]
            await asyncio.gather(*futs)
    finally:
        await producer.stop()
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=tansu.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        assert (await consumer.end_offsets([tp]))[tp] == 12
        consumer.assign([tp])
        offsets = []
        deadline = time.monotonic() + 10
        while len(offsets) < 16 and time.monotonic() < deadline:
            for recs in (await consumer.getmany(timeout_ms=300)).values():
                offsets += [r.offset for r in recs]
        assert offsets == list(range(16))
    finally:
        await consumer.stop()


@pytest.mark.tansu
@pytest.mark.asyncio
async def test_tansu_no_idempotent_producer(tansu, unique_topic):
    producer = AIOKafkaProducer(bootstrap_servers=tansu.bootstrap, enable_idempotence=True)
    with pytest.raises(KafkaError):
        await asyncio.wait_for(producer.start(), 30)
    await producer.stop()


@pytest.mark.tansu
@pytest.mark.asyncio
async def test_tansu_compaction_not_applied(tansu, unique_topic):
    topic = unique_topic("cmp")
    await create_topic(tansu.bootstrap, topic, partitions=1, **{"cleanup.policy": "compact"})
    producer = AIOKafkaProducer(bootstrap_servers=tansu.bootstrap, **tansu.producer_kwargs)
    await producer.start()
    try:
        for i in range(60):
            await producer.send_and_wait(topic, b"%d" % i, key=b"k%d" % (i % 3), partition=0)
    finally:
        await producer.stop()
    got = await consume(tansu, topic, 60, timeout=10)
    assert sum(map(len, got.values())) == 60  # every version kept (Kafka keeps them too until
    # the segment rolls and the cleaner runs; Tansu's memory engine has no cleaner at all)


@pytest.mark.slow
@pytest.mark.tansu
@pytest.mark.asyncio
async def test_tansu_restart_keeps_port_loses_data(broker_factory, unique_topic):
    b = broker_factory("tansu")
    topic = unique_topic("volatile")
    await create_topic(b.bootstrap, topic)
    await produce(b, topic, n=20)
    port = b.port
    b.restart()
    assert b.port == port
    admin = AIOKafkaAdminClient(bootstrap_servers=b.bootstrap)
    await admin.start()
    try:
        assert topic not in await admin.list_topics()
    finally:
        await admin.close()


@pytest.mark.slow
@pytest.mark.tansu
@pytest.mark.asyncio
async def test_tansu_first_group_join_waits_half_session_timeout(tansu, unique_topic):
    topic = unique_topic("join")
    await create_topic(tansu.bootstrap, topic, partitions=1)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=tansu.bootstrap, group_id=unique_topic("g"),
                                **tansu.consumer_kwargs)
    t0 = time.monotonic()
    await consumer.start()
    try:
        while not consumer.assignment() and time.monotonic() - t0 < 20:
            await consumer.getmany(timeout_ms=100)
        joined = time.monotonic() - t0
    finally:
        await consumer.stop()
    assert consumer.assignment() or joined < 20
    assert 2.0 < joined < 6.0, f"joined in {joined:.2f}s (session timeout 6 s)"


@pytest.mark.tansu
def test_broker_started_from_a_short_lived_thread_survives_it():
    """PDEATHSIG follows the forking *thread*: brokers must not die with a worker thread."""
    import threading

    box = {}
    t = threading.Thread(target=lambda: box.setdefault("b", EmbeddedTansu().start()))
    t.start()
    t.join()
    b = box["b"]
    try:
        time.sleep(0.3)
        assert b.running and probe_metadata(b.bootstrap)
    finally:
        b.cleanup()


def test_kafka_cluster_ids_never_read_as_an_option():
    """1 in 64 random base64 ids starts with '-', which ``kafka-storage format -t`` rejects."""
    import base64

    from agents.brokers import _kafka_cluster_id

    ids = {_kafka_cluster_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert not any(i.startswith("-") for i in ids)
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
