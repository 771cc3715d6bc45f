"""Chaos tier: the short form of each fault scenario on real Apache Kafka (see harness.py).

Each test runs ~7k sequence-numbered mentions through a ``veille worker`` process, injects one
fault, then checks: no mention lost, no incident opened twice, no alert update dropped or
changed, and every brand's last snapshot equal to an offline recount of the topic (so no
mention counted twice in a brand's state). ``bench/chaos.py`` runs the same scenarios
(``--json`` for figures).

All six run in the default suite (~7.5 minutes together on the shared 2-core box): a worker
SIGKILLed then SIGTERMed mid-stream and restarted, two workers one SIGKILLed, exactly_once with
a SIGKILL (no duplicate for read-committed readers), the broker restarted and killed, the broker
frozen while alerts are due, and a short soak. None is marked xfail: each held on the ingestion
path of ``agents/ingest.py`` (bench/chaos.py runs in the issue-10 report).
"""

from __future__ import annotations

import pytest

from tests.chaos.harness import run_scenario

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


def _check(rep):
    row = rep.row()
    assert rep.passed, row
    assert row["lost"] == 0 and row["duplicated_incidents"] == 0 and not row["state_mismatch"]
    return row


@pytest.mark.parametrize("name", ["worker_killed", "two_workers_one_dies"])
def test_scenario_on_shared_kafka(name, kafka, tmp_path):
    _check(run_scenario(name, kafka, tmp_path))


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
