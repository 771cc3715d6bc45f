"""Chaos tier: the short form of each fault scenario on real Apache Kafka (see harness.py).

Each test runs ~7k sequence-numbered mentions through ``veille worker`` processes, injects its
faults at the workers' own progress (a fault that leaves no work undone fails the scenario),
then checks: no mention lost, no incident opened twice, no alert update dropped or changed,
and every brand's last snapshot equal to an offline recount of the topic (so no mention counted
twice in a brand's state). ``bench/chaos.py`` runs the same scenarios (``--json`` for figures).

All six run in the default suite: a worker SIGKILLed, restarted, SIGTERMed in its backlog and
restarted; a second worker joining mid-stream then SIGKILLed; exactly_once with a SIGKILL (no
duplicate for read-committed readers); the broker restarted and killed; the broker frozen
while alerts are due; a short soak. None is marked xfail. Waits are bounded by progress (no
commit for 150 s, no record read for 60 s), not by fixed times, and the failover scenario holds
its stream back until its faults are done (``Producer(holds=...)``: a worker slow to start
still has input to process), so a loaded machine is slower, not failing.
"""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from agents.kafka import ensure_topics
from tests.chaos.harness import Producer, chaos_settings, generate, read_all, run_scenario, seq_of

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


def _check(rep):
    row = rep.row()
    print(f"report: {row}")  # whole, in the captured output: pytest shortens the assertion's
    assert rep.passed, row
    assert row["lost"] == 0 and row["duplicated_incidents"] == 0 and not row["state_mismatch"]
    return row


def test_worker_killed_then_sigtermed_during_processing(kafka, tmp_path):
    row = _check(run_scenario("worker_killed", kafka, tmp_path))
    kill, term = row["faults"]
    assert (kill["fault"], term["fault"]) == ("SIGKILL", "SIGTERM"), row
    assert kill["lag"] > 0, row  # the SIGKILL left work undone
    # the SIGTERM came inside the backlog (its graceful stop may finish what it fetched)
    assert term["lag"] > 0 or term["processed"] < term["backlog_at_start"], row
    assert term["exit"] == 0, row  # a graceful shutdown, not the SIGKILL after 60 s


def test_producer_holds_its_stream_until_released(kafka):
    """The failover scenario's stream: past a hold it only trickles until released, then goes
    on; every mention is sent once, each brand's in order."""
    settings = chaos_settings(kafka.bootstrap, kafka.kind, "producer-holds")
    asyncio.run(ensure_topics(settings))
    mentions = generate(hours=1.0)
    prod = Producer(settings, mentions, rate=5000, holds=(200,), slow_rate=20).start()
    prod.wait_sent(200, 60)
    t1, s1 = time.monotonic(), prod.sent
    time.sleep(1.0)
    t2, s2 = time.monotonic(), prod.sent
    assert s1 >= 200 and prod.unsent > 0, (s1, len(mentions))
    assert s2 - s1 <= 20 * 1.1 * (t2 - t1) + 2, (s1, s2)  # a trickle, however loaded the box
    prod.release(200)
    prod.join(120)
    assert (prod.sent, prod.unsent) == (len(mentions), 0)
    got = asyncio.run(read_all(settings, settings.topics.mentions))
    ids = [orjson.loads(r.value)["id"] for r in got]  # by partition, in offset order
    assert sorted(ids) == sorted(m["id"] for m in mentions)
    seqs = [seq_of(i) for i in ids]
    for brand in {b for b, _ in seqs}:
        mine = [s for b, s in seqs if b == brand]
        assert mine == sorted(mine), brand


def test_two_workers_one_dies(kafka, tmp_path):
    row = _check(run_scenario("two_workers_one_dies", kafka, tmp_path))
    assert row["survivor_alive"], row


def test_exactly_once_no_duplicate_for_read_committed(kafka, tmp_path):
    row = _check(run_scenario("exactly_once", kafka, tmp_path))
    assert row["duplicated_outputs"] == 0, row


@pytest.mark.parametrize("name", ["broker_restart", "output_unavailable"])
def test_scenario_on_private_kafka(name, broker_factory, tmp_path):
    _check(run_scenario(name, broker_factory("kafka"), tmp_path))


def test_soak_short(kafka, tmp_path, monkeypatch):
    from tests.chaos import harness

    monkeypatch.setitem(harness.SCENARIOS, "soak", (
        lambda run: harness.scenario_soak(run, seconds=25.0, rate=300.0), "shared", {}))
    _check(run_scenario("soak", kafka, tmp_path))
