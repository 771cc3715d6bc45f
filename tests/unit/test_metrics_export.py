"""agents.metrics: the cached label children export the same series as ``labels()`` would."""

from __future__ import annotations

from prometheus_client import REGISTRY

import agents.metrics as metrics
from pipeline.settings import Settings
from pipeline.watch import BrandWatch


def _value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_child_is_the_registered_series() -> None:
    """``child`` returns the very child ``labels()`` registers, once per label set."""
    first = metrics.child(metrics.LATE, "cache-brand")
    assert first is metrics.LATE.labels("cache-brand")
    assert metrics.child(metrics.LATE, "cache-brand") is first
    before = _value("veille_mentions_late_total", brand="cache-brand") or 0.0
    first.inc(3)
    assert _value("veille_mentions_late_total", brand="cache-brand") == before + 3


def test_record_brand_follows_the_watch_each_time() -> None:
    """Exported twice, a brand's gauges show its latest figures (no stale cached child)."""
    watch = BrandWatch("cache-watch", Settings().detection, None)
    watch.clock = 1_000.0
    metrics.record_brand(watch)
    assert _value("veille_brand_event_time_seconds", brand="cache-watch") == 1_000.0
    assert _value("veille_brand_info", brand="cache-watch", competitor="false") == 1.0
    watch.clock = 2_500.0
    metrics.record_brand(watch)
    assert _value("veille_brand_event_time_seconds", brand="cache-watch") == 2_500.0


def test_record_batch_counts_by_label_set() -> None:
    """Per-(brand, lang, label) counts add up across batches through the cached children."""
    from collections import Counter

    from pipeline.engine import EngineOutput

    out = EngineOutput()
    out.counts = Counter({("cache-count", "en", "negative"): 4, ("cache-count", "fr", "none"): 1})
    labels = {"brand": "cache-count", "lang": "en", "sentiment": "negative"}
    before = _value("veille_mentions_processed_total", **labels) or 0.0
    metrics.record_batch(out, 5)
    metrics.record_batch(out, 5)
    assert _value("veille_mentions_processed_total", **labels) == before + 8
    fr = {"brand": "cache-count", "lang": "fr", "sentiment": "none"}
    assert _value("veille_mentions_processed_total", **fr) == 2
