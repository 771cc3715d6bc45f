"""Analysts' labels on a real broker (embedded Tansu): learnt by the worker, rebuilt after a restart.

A worker scores a mention, analysts correct texts on ``veille.labels`` (with text, and without
text for a mention the worker scored), bad label records go to the dead-letter topic. After a
restart, the worker relearns every label from the topic, and a new mention with a corrected text
is scored as the analysts said.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from types import SimpleNamespace

import orjson
import pytest
from prometheus_client import REGISTRY

from agents import kafka
from agents import labels as labels_agent
from agents.workers import WorkerProcess
from pipeline.engine import Engine
from pipeline.sentiment import SentimentModel
from pipeline.settings import BrandConfig, Settings
from tests.integration.test_end_to_end import metric, read_topic
from tests.support.kafka_io import send_values

CORRECTED = "our new lounge at gate B12 opens monday"  # the shipped model: neutral
SCORED = "the lounge wifi in terminal C works today"


def mention(mid: str, text: str) -> bytes:
    return orjson.dumps({"id": mid, "created_at": "2026-01-05T10:00:00Z", "brand": "acme",
                         "text": text, "lang": "en", "author": {"id": "u1", "handle": "bob"}})


def wait_metric(worker: WorkerProcess, name: str, at_least: float, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    value = 0.0
    while time.monotonic() < deadline:
        value = metric(worker.metrics(), name)
        if value >= at_least:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{name} = {value} < {at_least} after {timeout}s; log:\n{worker.tail()}")


def scored_label(settings: Settings, mid: str) -> str:
    recs = asyncio.run(read_topic(
        settings, settings.topics.scored,
        lambda got: any(orjson.loads(r.value)["mention"]["id"] == mid for r in got), timeout=60))
    hits = [orjson.loads(r.value) for r in recs if orjson.loads(r.value)["mention"]["id"] == mid]
    assert hits, f"mention {mid} not scored"
    return hits[-1]["sentiment"]["label"]


@pytest.mark.slow
def test_labels_are_learnt_and_survive_a_restart(tansu, tmp_path):
    run = uuid.uuid4().hex[:8]
    names = ("mentions", "scored", "alerts", "deadletter", "labels", "posts_outgoing",
             "posts_reviewed", "trends")
    settings = Settings(
        kafka_bootstrap=tansu.bootstrap, broker_kind="tansu", app_id=f"veille-labels-{run}",
        brands=[BrandConfig(name="acme", handles=["acme"])],
        topics={"partitions": 2, **{n: f"labels-{run}.{n}" for n in names}},
    )
    assert SentimentModel.default().predict_one(CORRECTED, "en").label == "neutral"
    asyncio.run(kafka.ensure_topics(settings))
    t = settings.topics
    labels = [orjson.dumps({"mention_id": f"c{i}", "label": "positive", "text": CORRECTED,
                            "lang": "en", "brand": "acme"}) for i in range(3)]
    bad = [b"{not json", orjson.dumps({"mention_id": "x", "label": "furious", "text": "a"}),
           orjson.dumps({"mention_id": "never-scored", "label": "negative"})]

    with WorkerProcess(settings, tmp_path / "w1") as worker:
        asyncio.run(send_values(settings, t.mentions, [mention("m1", SCORED)]))
        assert scored_label(settings, "m1") == "neutral"
        # three labels with text, one without text for the mention the worker scored, bad ones
        no_text = orjson.dumps({"mention_id": "m1", "label": "negative", "brand": "acme"})
        asyncio.run(send_values(settings, t.labels, labels + [no_text] + bad))
        assert wait_metric(worker, "veille_labels_learned_total", 4) == 4
        dlq = asyncio.run(read_topic(settings, t.deadletter, lambda got: len(got) >= 3, 60))
        assert sorted(r.value for r in dlq) == sorted(bad)
        reasons = sorted(dict(r.headers)["veille.dlq.reason"].decode() for r in dlq)
        assert reasons == ["invalid_json", "invalid_value", "missing_field"], reasons

    # mentions waiting before the restart: the worker scores them only after relearning the
    # labels present at start (agents.labels.wait_ready), not with the bare shipped model
    asyncio.run(send_values(settings, t.mentions, [mention("m2", CORRECTED), mention("m3", SCORED)]))
    with WorkerProcess(settings, tmp_path / "w2") as worker:
        # the restarted worker relearns the whole topic: shipped model + the same 4 labels
        assert wait_metric(worker, "veille_labels_learned_total", 4) == 4
        time.sleep(1.0)
        assert metric(worker.metrics(), "veille_labels_learned_total") == 4
        assert metric(worker.metrics(), "veille_labels_wait_total", outcome="ready") == 1
        assert scored_label(settings, "m2") == "positive"
        assert scored_label(settings, "m3") == "negative"
        # the same model as learning the labels offline, in topic order
        offline = SentimentModel.default()
        for text, label in [(CORRECTED, "positive")] * 3 + [(SCORED, "negative")]:
            offline.learn_one(text, label, "en")
        recs = asyncio.run(read_topic(settings, t.scored, lambda got: len(got) >= 3, 30))
        live = {orjson.loads(r.value)["mention"]["id"]: orjson.loads(r.value) for r in recs}
        assert live["m2"]["sentiment"]["probs"] == list(offline.predict_one(CORRECTED, "en").probs)


async def test_learner_sets_ready_once_the_labels_present_at_start_are_learnt(tansu):
    """The catch-up (``agents.labels.CatchUp``): ``ready`` is set after every label on the topic
    at start is learnt, not before; ``wait_ready`` returns True and counts it."""
    run = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=tansu.bootstrap, broker_kind="tansu",
                        topics={"partitions": 2, "labels": f"catchup-{run}.labels"})
    await kafka.ensure_topics(settings, [settings.topics.labels])
    good = [orjson.dumps({"mention_id": f"c{i}", "label": "positive", "text": f"{CORRECTED} {i}",
                          "lang": "en", "brand": "acme"}) for i in range(40)]
    p = kafka.producer(settings)
    await p.start()
    try:
        for i, v in enumerate(good + [b"{not json"]):
            await p.send_and_wait(settings.topics.labels, v, key=f"k{i % 7}".encode())
    finally:
        await p.stop()

    worker = SimpleNamespace(settings=settings, engine=Engine(settings))
    state = labels_agent.catchup(worker)
    assert not state.ready.is_set()
    ready_before = REGISTRY.get_sample_value("veille_labels_wait_total", {"outcome": "ready"}) or 0
    stop = asyncio.Event()
    task = asyncio.create_task(labels_agent.learn_all(worker, stop))
    try:
        assert await labels_agent.wait_ready(worker, timeout=60)
        # everything present at start was learnt before ready was set
        assert worker.engine.labels_learned == len(good)
        assert state.present == len(good) + 1 and state.read == state.present
        assert REGISTRY.get_sample_value("veille_labels_backlog") == 0
        assert REGISTRY.get_sample_value(
            "veille_labels_wait_total", {"outcome": "ready"}) == ready_before + 1
        assert await labels_agent.wait_ready(worker, timeout=0.01)  # once ready, at once
    finally:
        stop.set()
        await task


async def test_no_labels_topic_means_nothing_to_wait_for(tansu):
    """A labels topic that does not exist (yet) holds no label: scoring must not wait for it."""
    run = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=tansu.bootstrap, broker_kind="tansu",
                        topics={"labels": f"absent-{run}.labels"})
    worker = SimpleNamespace(settings=settings, engine=Engine(settings))
    stop = asyncio.Event()
    task = asyncio.create_task(labels_agent.learn_all(worker, stop))
    try:
        assert await labels_agent.wait_ready(worker, timeout=20)
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_wait_ready_is_bounded_and_counted():
    worker = SimpleNamespace()
    before = REGISTRY.get_sample_value("veille_labels_wait_total", {"outcome": "timeout"}) or 0
    t0 = time.monotonic()
    assert not await labels_agent.wait_ready(worker, timeout=0.2)
    assert 0.15 < time.monotonic() - t0 < 5
    assert REGISTRY.get_sample_value("veille_labels_wait_total", {"outcome": "timeout"}) == before + 1
    t0 = time.monotonic()
    assert not await labels_agent.wait_ready(worker, timeout=30)  # gave up once: no second wait
    assert time.monotonic() - t0 < 1
