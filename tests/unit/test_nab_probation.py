"""bench/nab.py: NAB's probationary period is the alarm's warm-up (``detect(probation=...)``)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from pipeline.volume import DEFAULT_SURGE, SUSTAINED_Z, VolumeScore

ROOT = Path(__file__).resolve().parents[2]


def _nab():
    spec = importlib.util.spec_from_file_location("bench_nab_probation", ROOT / "bench" / "nab.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _scores(evidence_rows: range, n: int = 40) -> list[VolumeScore]:
    """Warm buckets every 5 min; multi-hour evidence (sustained 2, in buckets sharp enough
    for the alarm's gate) on ``evidence_rows``."""
    return [VolumeScore(i * 300.0, 10, 10, 5, 15, 0.0, 0.0, True,
                        SUSTAINED_Z if i in evidence_rows else 0.0,
                        2.0 if i in evidence_rows else 0.0) for i in range(n)]


def test_episode_opened_in_probation_does_not_mask_the_rows_after_it():
    nab = _nab()
    sc = _scores(range(5, 20))
    assert nab.detect(sc, DEFAULT_SURGE) == [5]          # fired where the scorer ignores it
    assert nab.detect(sc, DEFAULT_SURGE, probation=10) == [10]  # fires once, after probation


def test_probation_changes_nothing_after_it():
    nab = _nab()
    sc = _scores(range(25, 30))
    assert nab.detect(sc, DEFAULT_SURGE, probation=10) == nab.detect(sc, DEFAULT_SURGE) == [25]
    assert nab.detect(_scores(range(2, 8)), DEFAULT_SURGE, probation=10) == []
