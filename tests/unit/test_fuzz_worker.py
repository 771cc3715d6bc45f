"""Bad-input fuzzing of the worker's batch path (hypothesis, no broker).

``tests/unit/test_fuzz_engine.py`` fuzzes the engine's values. Here the raw Kafka records go
through what the worker runs on them, :meth:`agents.recovery.Recovery.run_batch` with
:func:`agents.mentions.handle_batch`, including what only the worker sees: record keys (the
brand the producer claims, any bytes, none, a flood of distinct unknown ones), partitions and
offsets. Whatever comes in: nothing raises, every record is scored, dead-lettered (original
bytes, reason header) or recognised as a duplicate, every offset is acknowledged, and what the
worker keeps per brand stays bounded by ``max_brands``.
"""

from __future__ import annotations

from collections import Counter

import orjson
from hypothesis import HealthCheck, given, settings, strategies as st

from agents import metrics
from agents.deadletter import HEADER_PREFIX
from agents.ingest import Ingest
from agents.mentions import handle_batch
from pipeline.engine import Engine
from pipeline.settings import BrandConfig, Settings
from tests.support.streams import START, iso
from tests.unit.test_fuzz_engine import RECORDS
from tests.unit.test_ingest import TOPIC, make_worker, rec, run

FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_BRANDS = 5


class FakeOutputs:
    """The worker's outputs, recorded (unbatched, as under exactly_once)."""

    started, batching = True, False

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes, list]] = []

    async def send(self, topic, key, value, headers=None):
        self.sent.append((topic, key, value, headers or []))


def worker(**kw):
    w = make_worker(batch_size=64)
    w.engine = Engine(Settings(kafka_bootstrap="x:1", max_brands=MAX_BRANDS, **kw))
    w.engine.restore = w.recovery.restore
    w.outputs = FakeOutputs()
    return w


def valid(brand: str, i: int, ts: float = 0.0) -> bytes:
    return orjson.dumps({"id": f"{brand}-{i}", "created_at": iso(START + ts + i), "brand": brand,
                         "text": f"@{brand} ça marche pas 😡 {i}",
                         "author": {"id": "u", "handle": "bob"}})


KEYS = st.one_of(st.none(), st.binary(max_size=30), st.sampled_from([b"acme", b"nordair"]),
                 st.text(max_size=12).map(str.encode))


def process(w, values: list[bytes], keys: list[bytes | None], partition: int = 0) -> None:
    """One batch through the worker's path, then the accounting checks."""
    start = w.recovery.applied.get(partition, -1) + 1
    records = []
    for i, (v, k) in enumerate(zip(values, keys)):
        r = rec(partition, start + i, key=k)
        r.value = v
        records.append(r)
    dup0 = metrics.DUPLICATES._value.get()
    sent0 = len(w.outputs.sent)
    run(w.recovery.run_batch(records, handle_batch, epoch=w.ingest.epoch, ingest=w.ingest))
    sent = w.outputs.sent[sent0:]
    by_topic = Counter(t for t, *_ in sent)
    names = w.settings.topics
    dups = metrics.DUPLICATES._value.get() - dup0
    assert by_topic[names.scored] + by_topic[names.deadletter] + dups == len(records)
    for topic, key, value, headers in sent:
        if topic == names.deadletter:  # original bytes, the reason in a header
            assert value in values and dict(headers)[HEADER_PREFIX + "reason"]
    if records:  # every offset acknowledged: none re-fetched, none lost
        tp = next(iter(w.app.consumer._acked))
        assert w.app.consumer.new_offset(tp) == records[-1].offset + 1
    bounded(w)


def bounded(w) -> None:
    r = w.recovery
    assert len(w.engine.watches) <= MAX_BRANDS
    assert not r._looked_up  # per-batch lookups forgotten
    assert len(r.partition_of) <= MAX_BRANDS and len(r.dirty) <= MAX_BRANDS
    assert set(r.covered) <= set(w.state)  # only brands with a snapshot


def with_ingest(w):
    w.ingest = Ingest(w, handle_batch)
    return w


@FUZZ
@given(st.lists(st.tuples(RECORDS, st.lists(KEYS, min_size=30, max_size=30)), max_size=3))
def test_any_records_with_any_keys_are_accounted_for(batches):
    w = with_ingest(worker())
    for values, keys in batches:
        process(w, values, keys[: len(values)])


def test_a_flood_of_unknown_brands_and_keys_keeps_the_worker_bounded():
    w = with_ingest(worker())
    for b in range(40):  # 40 batches, 64 new brands each: 2,560 brands, keyed by brand
        values = [valid(f"brand{b}-{i}", i) for i in range(64)]
        keys = [f"brand{b}-{i}".encode() for i in range(64)]
        process(w, values, keys)
    assert len(w.engine.watches) == MAX_BRANDS


def test_a_mention_keyed_by_another_brand_or_unkeyed_is_dead_lettered_untouched():
    w = with_ingest(worker())
    process(w, [valid("velo", 1), valid("nordair", 2)], [b"acme", None])
    assert w.engine.watches == {}  # no brand state the snapshots would not cover
    reasons = [dict(h)["veille.dlq.reason"] for topic, _, _, h in w.outputs.sent
               if topic == w.settings.topics.deadletter]
    assert reasons == [b"key_mismatch", b"key_mismatch"]


def test_configured_brands_only_dead_letter_the_rest():
    w = with_ingest(worker(brands=[BrandConfig(name="acme")]))
    values = [valid("acme", i) for i in range(20)] + [valid(f"x{i}", i) for i in range(40)]
    keys = [b"acme"] * 20 + [f"x{i}".encode() for i in range(40)]
    process(w, values, keys)
    assert list(w.engine.watches) == ["acme"]


def test_a_hot_brand_flooding_one_partition_with_duplicates_and_late_mentions():
    w = with_ingest(worker(detection={"warmup_s": 0}))
    for k in range(30):  # 1,920 records of one brand, a third re-sent ids, times out of order
        values = [valid("acme", (k * 64 + i) % 1300, ts=-(i % 7) * 600) for i in range(64)]
        process(w, values, [b"acme"] * 64)
    state = orjson.dumps(w.engine.watches["acme"].to_state())
    assert len(state) < 2_000_000
