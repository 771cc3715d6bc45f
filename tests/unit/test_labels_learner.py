"""The labels learner through broker errors (agents.labels.keep_learning), on a fake consumer."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from agents import labels as labels_agent
from pipeline.settings import Settings

TOPIC = "veille.labels"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def label_record(tp: TopicPartition, offset: int):
    value = orjson.dumps({"mention_id": f"m{tp.partition}-{offset}", "label": "negative",
                          "text": f"text {tp.partition}-{offset}", "lang": "en"})
    return SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=offset, value=value,
                           timestamp=1_700_000_000_000 + offset)


class FakeLog:
    """The labels topic: two partitions of records; a broker that fails on cue."""

    def __init__(self, sizes: dict[TopicPartition, int]) -> None:
        self.records = {tp: [label_record(tp, o) for o in range(n)] for tp, n in sizes.items()}
        #: what the next consumers do, in order: "ok", "start" (start fails), or
        #: ("fetches", k) (the k+1-th fetch fails)
        self.script: list = []
        self.consumers: list[FakeConsumer] = []


class FakeConsumer:
    def __init__(self, log: FakeLog, stop: asyncio.Event) -> None:
        self.log, self.stop_event = log, stop
        self.plan = log.script.pop(0) if log.script else "ok"
        self.pos: dict[TopicPartition, int] = {}
        self.fetches = 0
        self.started = self.stopped = False
        log.consumers.append(self)

    async def start(self) -> None:
        if self.plan == "start":
            raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1)]")
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def topics(self) -> set[str]:
        return {TOPIC}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.log.records}

    def assign(self, parts) -> None:
        self.pos = {tp: 0 for tp in parts}

    async def seek_to_beginning(self, *parts) -> None:
        for tp in parts:
            self.pos[tp] = 0

    def seek(self, tp, offset: int) -> None:
        self.pos[tp] = offset

    async def beginning_offsets(self, parts):
        return {tp: 0 for tp in parts}

    async def end_offsets(self, parts):
        return {tp: len(self.log.records[tp]) for tp in parts}

    async def position(self, tp) -> int:
        return self.pos[tp]

    def highwater(self, tp) -> int:
        return len(self.log.records[tp])

    async def getmany(self, timeout_ms: int, max_records: int):
        if isinstance(self.plan, tuple) and self.fetches == self.plan[1]:
            raise KafkaError("Unable to get cluster metadata over all known brokers")
        self.fetches += 1
        out = {}
        for tp, at in self.pos.items():
            recs = self.log.records[tp][at:at + 2]  # two records per partition per fetch
            if recs:
                out[tp] = recs
                self.pos[tp] = recs[-1].offset + 1
        if not out:
            self.stop_event.set()  # all read: end the test's learner
        await asyncio.sleep(0)
        return out


def make_worker():
    learnt: list[str] = []
    engine = SimpleNamespace(sentiment="trained model",
                             learn_label=lambda label: learnt.append(label.mention_id) or True)
    worker = SimpleNamespace(settings=Settings(kafka_bootstrap="x:1"), engine=engine)
    return worker, learnt


def run_learner(monkeypatch, log: FakeLog, worker) -> list[float]:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    async def main() -> None:
        stop = asyncio.Event()
        monkeypatch.setattr(labels_agent.kafka, "consumer", lambda settings: FakeConsumer(log, stop))
        await labels_agent.keep_learning(worker, stop, sleep=sleep)

    asyncio.run(main())
    return slept


def test_a_broker_error_resumes_where_learning_was_with_the_model_kept(monkeypatch, caplog):
    log = FakeLog({P0: 5, P1: 3})
    log.script = [("fetches", 1), "start", "start", "ok"]  # fails mid-way, then 2 refused starts
    worker, learnt = make_worker()
    with caplog.at_level(logging.WARNING, logger="agents.labels"):
        slept = run_learner(monkeypatch, log, worker)
    every = sorted(f"m{tp.partition}-{o}" for tp, recs in log.records.items()
                   for o in range(len(recs)))
    assert sorted(learnt) == every and len(learnt) == len(set(learnt))  # each label once
    assert worker.engine.sentiment == "trained model"  # not reset to the cold-start model
    assert slept == [1.0, 2.0, 4.0]  # growing delays between attempts
    assert all(c.stopped for c in log.consumers)  # a refused start is closed too
    msgs = [r for r in caplog.records if r.name == "agents.labels"]
    assert [r.levelname for r in msgs if "labels learner" in r.getMessage()] == ["WARNING"] * 3
    assert all(r.exc_info is None for r in msgs)  # one line each, no traceback
    state = worker.labels_catchup
    assert state.ready.is_set() and state.positions == {P0: 5, P1: 3}
    assert state.present == 8 and state.read == 8  # counted once, through the resume


def test_an_error_inside_learning_relearns_from_the_beginning(monkeypatch, caplog):
    log = FakeLog({P0: 3})
    worker, learnt = make_worker()
    calls = {"n": 0}

    def learn_label(label):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("a bug while learning")
        learnt.append(label.mention_id)
        return True

    worker.engine.learn_label = learn_label
    monkeypatch.setattr(labels_agent.SentimentModel, "default",
                        classmethod(lambda cls: "cold-start model"))
    with caplog.at_level(logging.ERROR, logger="agents.labels"):
        run_learner(monkeypatch, log, worker)
    assert worker.engine.sentiment == "cold-start model"  # reset: a label may be half learnt
    assert learnt == ["m0-0", "m0-0", "m0-1", "m0-2"]  # then every label from the beginning
    assert any(r.exc_info for r in caplog.records)


def test_cancelling_the_learner_stops_it_and_closes_its_consumer(monkeypatch):
    log = FakeLog({P0: 1})
    worker, _ = make_worker()

    async def main() -> None:
        monkeypatch.setattr(labels_agent.kafka, "consumer",
                            lambda settings: FakeConsumer(log, asyncio.Event()))
        task = asyncio.ensure_future(labels_agent.keep_learning(worker))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert log.consumers[0].stopped
