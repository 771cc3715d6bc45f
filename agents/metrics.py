"""Prometheus metrics of the worker: one catalog, bounded label sets (brand, kind, severity, lang).

Never label by author or mention. The catalog is documented in ``docs/metrics.md``; a test checks
that every metric named there is exported and vice versa.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from pipeline.codec import REASONS
from pipeline.engine import EngineOutput
from pipeline.watch import BrandWatch

RECEIVED = Counter("veille_mentions_received", "Mention records taken from the input topic.")
PROCESSED = Counter(
    "veille_mentions_processed", "Mentions scored, by brand, language and sentiment.",
    ["brand", "lang", "sentiment"],
)
DUPLICATES = Counter("veille_mentions_duplicate", "Re-delivered mentions (id seen recently).")
LATE = Counter("veille_mentions_late", "Mentions that arrived after their bucket closed.", ["brand"])
DEADLETTERED = Counter(
    "veille_deadletter", "Records sent to the dead-letter topic, by reason.", ["reason"]
)
ALERTS = Counter(
    "veille_alerts", "Alert updates published.", ["brand", "kind", "severity", "update"]
)
LABELS = Counter("veille_labels_learned", "Analyst labels learned by the sentiment model.")
OBSERVED = Gauge("veille_volume_observed", "Mentions in the last closed bucket.", ["brand"])
EXPECTED = Gauge("veille_volume_expected", "Expected mentions per bucket.", ["brand"])
LOWER = Gauge("veille_volume_lower", "Lower edge of the expected band.", ["brand"])
UPPER = Gauge("veille_volume_upper", "Upper edge of the expected band.", ["brand"])
ANOMALY = Gauge("veille_anomaly_score", "Volume surge surprise of the last bucket.", ["brand"])
CRISIS_SCORE = Gauge("veille_crisis_score", "Fused crisis score of the last bucket.", ["brand"])
NEG_SHARE = Gauge("veille_negative_share", "Negative share of the last bucket.", ["brand"])
NEG_BASE = Gauge("veille_negative_baseline", "The brand's usual negative share.", ["brand"])
INCIDENT = Gauge(
    "veille_incident_level",
    "Incident level per brand: 0 normal, 1 watch, 2 crisis, 3 recovering.", ["brand"],
)
EVENT_TIME = Gauge(
    "veille_brand_event_time_seconds", "The brand's event clock (latest mention time).", ["brand"]
)
BATCH_SECONDS = Histogram(
    "veille_batch_seconds", "Wall time to process one batch.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
ALERT_LATENCY = Histogram(
    "veille_alert_latency_seconds",
    "Wall time from the mention's record timestamp (produced) to the alert published.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

LEVELS = {"normal": 0, "watch": 1, "crisis": 2, "recovering": 3}

for _reason in REASONS:  # export every reason at 0 so rate() works from the start
    DEADLETTERED.labels(_reason)


def record_batch(out: EngineOutput, received: int) -> None:
    """Count what one engine batch did."""
    RECEIVED.inc(received)
    for (brand, lang, label), n in out.counts.items():
        PROCESSED.labels(brand, lang, label).inc(n)
    for brand, n in out.late.items():
        LATE.labels(brand).inc(n)
    if out.duplicates:
        DUPLICATES.inc(out.duplicates)
    for _, rejection in out.rejected:
        DEADLETTERED.labels(rejection.reason).inc()
    for alert in out.alerts:
        ALERTS.labels(alert.brand, alert.kind, alert.severity, alert.update).inc()


def record_brand(watch: BrandWatch) -> None:
    """Export one brand's latest bucket figures."""
    b = watch.brand
    if watch.clock is not None:
        EVENT_TIME.labels(b).set(watch.clock)
    r = watch.last_report
    if r is None:
        return
    v = r.volume
    OBSERVED.labels(b).set(v.observed)
    EXPECTED.labels(b).set(v.expected)
    LOWER.labels(b).set(v.lower)
    UPPER.labels(b).set(v.upper)
    ANOMALY.labels(b).set(v.score)
    CRISIS_SCORE.labels(b).set(r.crisis_score)
    NEG_SHARE.labels(b).set(r.negative_share)
    NEG_BASE.labels(b).set(r.negative_baseline)
    INCIDENT.labels(b).set(LEVELS.get(r.level, 0))
