"""Simulated scenarios through the engine (the worker's code): crisis found, launch and noise
plateau never a crisis. Small streams (2 h warm-up, 1.5 h live) so it runs in seconds; the
multi-day, multi-seed figures are printed by ``bench/nab.py --scenarios``."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bench import crisis
from pipeline.settings import DetectionSettings

WARMUP_S = 2 * 3600.0
SPECS = ["crisis:acme@130m", "launch:nordair@140m", "noise_plateau:globex@150m"]


@pytest.fixture(scope="module")
def result() -> crisis.RunResult:
    return crisis.run(
        seed=3, days=3.5 / 24, warmup_s=WARMUP_S, scenarios=SPECS,
        detection=DetectionSettings(warmup_s=3600),
        start=datetime(2026, 1, 6, 6, tzinfo=timezone.utc),
    )


def test_crisis_detected_quickly_for_the_right_brand(result: crisis.RunResult) -> None:
    assert result.missed == []
    assert len(result.delays_s) == 1
    assert result.delays_s[0] <= 10 * 60  # a crisis-state alert on acme within 10 minutes


def test_launch_and_noise_plateau_are_not_crises(result: crisis.RunResult) -> None:
    assert result.false_crises == []


def test_summary_figures(result: crisis.RunResult) -> None:
    s = crisis.summarize([result])
    assert s["detected"] == 1 and s["missed"] == 0 and s["false_crises"] == 0
    assert s["false_incidents_per_brand_day"] is not None
