"""End to end on a real broker (embedded Tansu and Apache Kafka): a crisis in, an alert out.

A worker process (``veille worker``) runs against the broker; a synthetic stream with an angry
high-reach burst on one brand, a happy launch on another and a few bad records goes in. The
crisis alert for the right brand must come out on ``veille.alerts``, bad records on the
dead-letter topic with their reason, and ``/metrics`` must count every record:
received = processed + dead-lettered, exactly.
"""

from __future__ import annotations

import asyncio
import re
import time

import orjson
import pytest

from agents import kafka
from agents.produce import produce_mentions
from agents.workers import WorkerProcess
from pipeline.engine import Engine
from pipeline.settings import BrandConfig, Settings
from tests.support.kafka_io import send_values
from tests.support.streams import stream

BAD = [b"{not json", b"\xff\xfe", b"[1,2]", orjson.dumps({"id": "x", "brand": "acme"}),
       orjson.dumps({"id": "y", "created_at": "2026-01-05T00:00:00Z", "brand": "acme",
                     "text": "x" * 20_000, "author": {"id": "a", "handle": "b"}})]


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def read_topic(settings: Settings, topic: str, until, timeout: float) -> list:
    c = kafka.consumer(settings, topic)
    await c.start()
    got = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=500)
            for recs in batch.values():
                got.extend(recs)
            if until(got):
                break
    finally:
        await c.stop()
    return got


@pytest.mark.slow
def test_crisis_in_alert_out(broker, tmp_path):
    settings = Settings(
        kafka_bootstrap=broker.bootstrap, broker_kind=broker.kind, app_id=f"veille-e2e-{broker.kind}",
        brands=[BrandConfig(name="acme", handles=["acme"]), BrandConfig(name="nordair")],
        detection={"warmup_s": 6 * 3600}, topics={"partitions": 4},
        snapshot_every_s=1.0,
    )
    # 10 hours of history, then an angry burst on acme with high-reach authors
    acme = stream("acme", 11, 6, seed=1, bursts=[(10.0, 30, 40, "angry")])
    nordair = stream("nordair", 11, 6, seed=2)
    mentions = sorted(acme + nordair, key=lambda m: m["created_at"])

    asyncio.run(kafka.ensure_topics(settings))
    with WorkerProcess(settings, tmp_path / "w") as worker:
        asyncio.run(send_values(settings, settings.topics.mentions, BAD))
        sent = asyncio.run(produce_mentions(settings, mentions))
        alerts = asyncio.run(read_topic(
            settings, settings.topics.alerts,
            lambda got: any(orjson.loads(r.value)["kind"] == "crisis" for r in got), timeout=150))
        decoded = [orjson.loads(r.value) for r in alerts]
        crisis = [a for a in decoded if a["kind"] == "crisis"]
        assert crisis, f"no crisis alert; got {decoded}; worker log:\n{worker.tail()}"
        assert {a["brand"] for a in crisis} == {"acme"}
        first = crisis[0]
        assert first["update"] in ("opened", "escalated")
        assert first["evidence"]["negative_share"] > first["evidence"]["negative_baseline"]
        assert first["sample_mention_ids"], first
        assert all(r.key == b"acme" for r in alerts if orjson.loads(r.value)["brand"] == "acme")

        total = sent + len(BAD)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = worker.metrics()
            received = metric(text, "veille_mentions_received_total")
            if received >= total:
                break
            time.sleep(1)
        processed = metric(text, "veille_mentions_processed_total")
        duplicates = metric(text, "veille_mentions_duplicate_total")
        dead = metric(text, "veille_deadletter_total")
        assert received == total, worker.tail()
        # one line says it runs, where, and how to stop it (Faust prints nothing at warn)
        assert (f"veille worker running: broker {settings.kafka_bootstrap}, metrics "
                f"{worker.metrics_url}, 2 brand(s) configured") in worker.log_path.read_text()
        assert processed + duplicates + dead == received
        assert dead == len(BAD)
        assert metric(text, "veille_mentions_processed_total", brand="acme") > 0
        assert re.search(r'veille_deadletter_total\{reason="invalid_json"\} 1\.0', text)

    # parity: the same input through the offline engine gives the same incident updates
    offline = Engine(settings)
    expected = []
    raw = [orjson.dumps(m) for m in mentions]
    for i in range(0, len(raw), 500):
        expected += [a.model_dump(mode="json") for a in offline.process(raw[i:i + 500]).alerts]
    live = asyncio.run(read_topic(settings, settings.topics.alerts,
                                  lambda got: len(got) >= len(expected), timeout=60))
    key = lambda a: (a["brand"], a["version"])  # noqa: E731 - order per brand is what Kafka keeps
    assert sorted((orjson.loads(r.value) for r in live), key=key) == sorted(expected, key=key)

    dlq = asyncio.run(read_topic(settings, settings.topics.deadletter,
                                 lambda got: len(got) >= len(BAD), timeout=30))
    assert sorted(r.value for r in dlq) == sorted(BAD)  # original bytes kept
    reasons = {dict(r.headers)["veille.dlq.reason"].decode() for r in dlq}
    assert reasons == {"invalid_json", "invalid_utf8", "not_an_object", "missing_field",
                       "text_too_long"}
