"""Prometheus metrics of the worker: one catalog, bounded label sets (brand, kind, severity, lang).

Never label by author or mention. The catalog is documented in ``docs/metrics.md``; a test checks
that every metric named there is exported and vice versa.
"""

from __future__ import annotations

from typing import Any

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
#: Why ingest discards fetched records (:meth:`agents.ingest.Ingest.take`): a revocation
#: cleared the buffer, a fetch came from before the assignment's seek, records were taken
#: already, a gap was sought back, or flow was stopped / the partition not active.
INGEST_DISCARD_REASONS = ("rebalance", "before_seek", "taken_already", "gap", "flow_stopped")
INGEST_DISCARDED = Counter(
    "veille_ingest_discarded",
    "Fetched mention records discarded to keep each partition in offset order: fetched again "
    "or taken already (agents.ingest), by reason.", ["reason"],
)
LATE = Counter("veille_mentions_late", "Mentions that arrived after their bucket closed.", ["brand"])
DEADLETTERED = Counter(
    "veille_deadletter", "Records sent to the dead-letter topic, by reason.", ["reason"]
)
ALERTS = Counter(
    "veille_alerts", "Alert updates published.", ["brand", "kind", "severity", "update"]
)
LABELS = Counter("veille_labels_learned", "Analyst labels learned by the sentiment model.")
LABELS_BACKLOG = Gauge("veille_labels_backlog", "Labels present at start not yet read by the learner.")
LABELS_WAIT = Counter("veille_labels_wait", "Start-up waits for the labels catch-up.", ["outcome"])
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
ENGINE_SECONDS = Counter(
    "veille_engine_seconds",
    "CPU time spent in the engine (Engine.process); the rest of the worker's CPU is I/O.",
)
ALERT_LATENCY = Histogram(
    "veille_alert_latency_seconds",
    "Wall time from the mention's record timestamp (produced) to the alert published.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

RISK_SIGNALS = Counter(
    "veille_risk_signals",
    "Risk findings: anomalous own posts (hijack), new impostor accounts, raid episodes.",
    ["brand", "kind"],
)
HIJACK_SCORE = Gauge("veille_hijack_score", "Hijack score of the brand account (bits).", ["brand"])
IMPOSTORS = Gauge("veille_impostors_active", "Impostor accounts with an open incident.", ["brand"])
RAID_ACCOUNTS = Gauge(
    "veille_raid_accounts", "Accounts in the largest near-duplicate cluster of the window.", ["brand"]
)
COORDINATED = Gauge(
    "veille_coordinated_share", "Share of recent mentions that belong to coordinated clusters.",
    ["brand"],
)
BACKLOG = Gauge(
    "veille_response_backlog", "Negative mentions awaiting the brand's first answer.", ["brand"]
)
UNANSWERED = Gauge(
    "veille_response_unanswered_share", "Unanswered share of awaited negative mentions.", ["brand"]
)
P90_WAIT = Gauge(
    "veille_response_p90_seconds", "p90 time to the brand's first answer (recent answers).",
    ["brand"],
)
WAITING = Gauge(
    "veille_response_waiting", "Negative mentions awaited for the brand's answer (kept, up to "
    "slow_max_waiting).", ["brand"],
)
WAITING_DROPPED = Counter(
    "veille_response_waiting_dropped",
    "Awaited negative mentions dropped from the answer measure: slow_max_waiting were kept.",
    ["brand"],
)
WAIT = Histogram(
    "veille_response_wait_seconds", "Event time from a negative mention to the brand's answer.",
    ["brand"], buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 21600),
)
TRENDS = Counter("veille_trends_published", "Trend records published on veille.trends.", ["brand"])
POSTS_REVIEWED = Counter(
    "veille_posts_reviewed",
    "Own posts reviewed, by severity of the verdict (approve=info, warn=medium, block=high).",
    ["brand", "severity"],
)
BRAND_INFO = Gauge(
    "veille_brand_info", "1 per watched brand; `competitor` says whether it is a competitor.",
    ["brand", "competitor"],
)
STATE_BYTES = Gauge(
    "veille_brand_state_bytes",
    "Size of the brand's last snapshot in the brand-state changelog (compressed value and key).",
    ["brand"],
)
STATE_RAW_BYTES = Gauge(
    "veille_brand_state_raw_bytes", "Size of the brand's last snapshot JSON, uncompressed.",
    ["brand"],
)
STATE_MAX_BYTES = Gauge(
    "veille_brand_state_max_bytes",
    "Largest snapshot the worker writes (snapshot_max_bytes); larger ones hold their partition.",
)
STATE_UNSAVED = Gauge(
    "veille_brand_state_unsaved",
    "1 while the brand's latest snapshot is too large to be written (its input partition is "
    "not committed meanwhile), else 0.", ["brand"],
)
STATE_OVERSIZE = Counter(
    "veille_brand_state_oversize",
    "Snapshots not written because they exceeded snapshot_max_bytes; the brand's input "
    "partition is then not committed until one fits.", ["brand"],
)
VERDICT_SEVERITY = {"approve": "info", "warn": "medium", "block": "high"}
_RISK_GAUGES = {
    "hijack_score": HIJACK_SCORE, "impostors_active": IMPOSTORS, "raid_accounts": RAID_ACCOUNTS,
    "coordinated_share": COORDINATED, "response_backlog": BACKLOG,
    "unanswered_share": UNANSWERED, "response_p90_seconds": P90_WAIT,
    "response_waiting": WAITING,
}

LEVELS = {"normal": 0, "watch": 1, "crisis": 2, "recovering": 3}

for _reason in REASONS:  # export every reason at 0 so rate() works from the start
    DEADLETTERED.labels(_reason)
for _reason in INGEST_DISCARD_REASONS:
    INGEST_DISCARDED.labels(_reason)

#: (metric, label values) -> the metric's child. ``labels()`` takes a lock and builds the
#: label tuple on every call (about 60 % of exporting the brands' figures after each batch);
#: the label sets are bounded (brands up to ``max_brands``, kinds, severities, languages).
_CHILDREN: dict[tuple[Any, tuple[str, ...]], Any] = {}
_INFO_DONE: set[str] = set()


def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once per label set."""
    key = (metric, labels)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*labels)
    return found


def record_batch(out: EngineOutput, received: int) -> None:
    """Count what one engine batch did."""
    RECEIVED.inc(received)
    for labels, n in out.counts.items():
        child(PROCESSED, *labels).inc(n)
    for brand, n in out.late.items():
        child(LATE, brand).inc(n)
    if out.duplicates:
        DUPLICATES.inc(out.duplicates)
    for _, rejection in out.rejected:
        DEADLETTERED.labels(rejection.reason).inc()
    for alert in out.alerts:
        child(ALERTS, alert.brand, alert.kind, alert.severity, alert.update).inc()
    for trend in getattr(out, "trends", ()):
        child(TRENDS, trend["brand"]).inc()
    for review in out.reviews:
        record_review(review)


def record_review(review: dict) -> None:
    """Count one own-post review (a PostReview dict)."""
    POSTS_REVIEWED.labels(review["brand"], VERDICT_SEVERITY.get(review["verdict"], "info")).inc()


def record_brand_info(brand: str, competitor: bool) -> None:
    """Declare a watched brand (and whether it is a competitor) for side-by-side dashboards."""
    BRAND_INFO.labels(brand, "true" if competitor else "false").set(1)


def record_risks(watch: BrandWatch) -> None:
    """Export the brand's risk detectors' figures (pipeline/risks): gauges, waits, findings."""
    b = watch.brand
    if b not in _INFO_DONE:  # a brand's detectors (hence competitor or not) are fixed
        _INFO_DONE.add(b)
        record_brand_info(b, any(getattr(det, "competitor", False) for det in watch.detectors))
    for det in watch.detectors:
        gauges = getattr(det, "gauges", None)
        if gauges is not None:
            for name, value in gauges().items():
                gauge = _RISK_GAUGES.get(name)
                if gauge is not None:
                    child(gauge, b).set(value)
        n = getattr(det, "pending_signals", 0)
        if n:
            RISK_SIGNALS.labels(b, det.name).inc(n)
            det.pending_signals = 0
        dropped = getattr(det, "drain_dropped", None)
        if dropped is not None:
            n = dropped()
            if n:
                child(WAITING_DROPPED, b).inc(n)
        drain = getattr(det, "drain_waits", None)
        if drain is not None:
            waits = drain()
            if waits:
                observe = child(WAIT, b).observe
                for wait in waits:
                    observe(wait)


def record_brand(watch: BrandWatch) -> None:
    """Export one brand's latest bucket figures."""
    b = watch.brand
    record_risks(watch)
    if watch.clock is not None:
        child(EVENT_TIME, b).set(watch.clock)
    r = watch.last_report
    if r is None:
        return
    v = r.volume
    child(OBSERVED, b).set(v.observed)
    child(EXPECTED, b).set(v.expected)
    child(LOWER, b).set(v.lower)
    child(UPPER, b).set(v.upper)
    child(ANOMALY, b).set(v.score)
    child(CRISIS_SCORE, b).set(r.crisis_score)
    child(NEG_SHARE, b).set(r.negative_share)
    child(NEG_BASE, b).set(r.negative_baseline)
    child(INCIDENT, b).set(LEVELS.get(r.level, 0))


def record_snapshot(brand: str, size: int, raw_size: int) -> None:
    """Export the size of a brand's latest snapshot (compressed value and key; JSON)."""
    child(STATE_BYTES, brand).set(size)
    child(STATE_RAW_BYTES, brand).set(raw_size)


def record_snapshot_saved(brand: str, saved: bool) -> None:
    """Export whether the brand's latest snapshot was written (count it when it was not)."""
    child(STATE_UNSAVED, brand).set(0 if saved else 1)
    if not saved:
        child(STATE_OVERSIZE, brand).inc()
