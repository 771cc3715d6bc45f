"""One brand under watch: event-time buckets, volume and negativity models, incidents, evidence.

A :class:`BrandWatch` is fed mentions of one brand in stream order (Kafka keeps a brand's
mentions in order, since the brand is the key) with their sentiment label. It keeps the brand's
event clock (the largest event time seen), aggregates mentions into buckets of
``bucket_s`` seconds, and closes a bucket once the clock passes its end by
``allowed_lateness_s``. Each closed bucket (empty ones too) is scored, then learned, by:

* a :class:`~pipeline.volume.VolumeModel` of all mentions (surge and silence surprise),
* a second one of negative mentions only,
* a decaying baseline of the negative share and of the terms the brand usually hears (not its
  own names: :func:`~pipeline.evidence.brand_terms`).

The signals feed two :class:`~pipeline.incidents.IncidentTracker`: ``crisis`` (watch on a
volume surge, crisis on an *angry* surge, weighted by reach) and ``silence``. Their updates
become :class:`~pipeline.schemas.Alert` records with evidence.

The crisis score fuses the three signals the brief names::

    angry   = negative share - baseline share >= negative_shift_min  and  binomial z >= 2
    reach   = 1 + 0.25 * min(distinct high-reach negative authors, 4)        (1 .. 2)
    crisis  = negative-volume surprise * reach    if angry else 0

so a happy launch surge (volume up, negative share down) stays a ``surge`` watch, while a
smaller surge of angry mentions from high-reach accounts can be a crisis.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any

from pipeline.detectors import DetectorSet, Sentimented
from pipeline.evidence import DecayingCounter, brand_terms, burst_term_counts, top_lifted
from pipeline.incidents import IncidentTracker, Transition, crisis_severity
from pipeline.schemas import Alert, Mention, MentionRecord
from pipeline.settings import BrandConfig, DetectionSettings
from pipeline.volume import VolumeModel, VolumeScore

#: Texts tokenized per bucket for term evidence (the first ones of the bucket, deterministic).
TERM_SAMPLE_PER_BUCKET = 200
#: Closed buckets kept as the "burst" for evidence.
EVIDENCE_BUCKETS = 5
#: Half-life of the negative-share and term baselines, in buckets.
BASELINE_HALFLIFE_BUCKETS = 360
#: Prior negative share before a brand has history.
PRIOR_NEGATIVE_SHARE = 0.2
#: Mentions a brand needs in its baseline before its own negative share replaces the prior.
MIN_BASELINE_MENTIONS = 50
#: Mention ids a brand remembers to recognise re-delivered duplicates (and keeps in its
#: snapshot, so a restored brand still recognises them). Duplicates come from producer retries
#: and re-sent batches, minutes apart at most: 5,000 ids are about 80 minutes of a brand at one
#: mention a second, a minute at 80 a second, and cost about 110 KB of JSON in the snapshot
#: (19-digit ids), so the snapshot stays small whatever the brand's volume.
SEEN_IDS = 5_000


@dataclass(slots=True)
class BucketAgg:
    """What one bucket of one brand saw."""

    start: float
    count: int = 0
    negative: int = 0
    positive: int = 0
    own: int = 0
    followers: int = 0
    high_reach_negative: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)
    top_authors: list[tuple[int, str, str, bool]] = field(default_factory=list)  # heap
    negative_ids: list[tuple[int, str]] = field(default_factory=list)  # heap (followers, id)
    terms: dict[str, int] = field(default_factory=dict)

    def to_state(self) -> dict[str, Any]:
        return {
            "start": self.start, "count": self.count, "negative": self.negative,
            "positive": self.positive, "own": self.own, "followers": self.followers,
            "high_reach_negative": sorted(self.high_reach_negative), "texts": self.texts,
            "top_authors": self.top_authors, "negative_ids": self.negative_ids,
            "terms": self.terms,
        }

    @classmethod
    def from_state(cls, s: dict[str, Any]) -> BucketAgg:
        return cls(
            start=s["start"], count=s["count"], negative=s["negative"], positive=s["positive"],
            own=s["own"], followers=s["followers"],
            high_reach_negative=set(s["high_reach_negative"]), texts=list(s["texts"]),
            top_authors=[tuple(x) for x in s["top_authors"]],  # type: ignore[misc]
            negative_ids=[tuple(x) for x in s["negative_ids"]],  # type: ignore[misc]
            terms=dict(s["terms"]),
        )


@dataclass(frozen=True, slots=True)
class BucketReport:
    """The figures of one closed bucket (for metrics and reports)."""

    brand: str
    volume: VolumeScore
    negative_share: float
    negative_baseline: float
    crisis_score: float
    level: str


def _iso(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


class BrandWatch:
    """Event-time watch over one brand. See the module docstring.

    Parameters
    ----------
    brand
        Brand key.
    detection
        Thresholds and time constants.
    brand_config
        The brand's settings (own handles are not counted as mentions), if configured.
    """

    def __init__(
        self, brand: str, detection: DetectionSettings, brand_config: BrandConfig | None = None
    ) -> None:
        d = detection
        self.brand = brand
        self.d = d
        # read per mention: plain attributes (the settings object's are slower to reach)
        self._bucket_s = d.bucket_s
        self._lateness_s = d.allowed_lateness_s
        self._high_reach = d.high_reach_followers
        self.clock: float | None = None
        self.next_close: int | None = None  # index of the oldest bucket not yet closed
        self.open: dict[int, BucketAgg] = {}
        self.recent: deque[BucketAgg] = deque(maxlen=EVIDENCE_BUCKETS)
        self.volume = VolumeModel(bucket_s=d.bucket_s, warmup_s=d.warmup_s)
        self.negative_volume = VolumeModel(bucket_s=d.bucket_s, warmup_s=d.warmup_s)
        alpha = 1.0 - 0.5 ** (1.0 / BASELINE_HALFLIFE_BUCKETS)
        self._alpha = alpha
        self.neg_ew = 0.0
        self.n_ew = 0.0
        self.baseline_mentions = 0
        self.frozen_buckets = 0
        self.terms = DecayingCounter(BASELINE_HALFLIFE_BUCKETS, max_keys=4000)
        self.crisis = IncidentTracker(
            brand, "crisis", watch_at=d.watch_score, crisis_at=d.crisis_score,
            resolve_after=d.resolve_after_buckets, cooldown=d.cooldown_buckets,
            bucket_s=d.bucket_s, exit_ratio=d.exit_ratio,
        )
        self.silence = IncidentTracker(
            brand, "silence", watch_at=d.silence_score, crisis_at=math.inf,
            resolve_after=d.resolve_after_buckets, cooldown=d.cooldown_buckets,
            bucket_s=d.bucket_s, exit_ratio=d.exit_ratio,
        )
        self.detectors = DetectorSet.build(brand, brand_config, d)
        c = brand_config
        #: Terms that are the brand itself (key, handles, names, keywords): never evidence.
        self.own_terms = brand_terms([brand, *c.handles, *c.display_names, *c.keywords]
                                     if c is not None else [brand])
        #: The brand's own handles, lower-cased: their posts are not mentions.
        self.own_handles = self.detectors.own_handles
        #: The detectors' ``drain`` methods (those that publish records, such as trends).
        self.drains: list[Callable[[], list[dict[str, Any]]]] = [
            drain for drain in (getattr(det, "drain", None) for det in self.detectors)
            if drain is not None]
        self.late = 0
        #: The last :data:`SEEN_IDS` mention ids, oldest first, and the same as a set.
        self.seen_ids: deque[str] = deque()
        self._seen_set: set[str] = set()
        self.last_report: BucketReport | None = None
        self._episode_kind = "surge"
        #: Observer called with each closed bucket's report (replay series); None = off.
        self.on_bucket: Callable[[BucketReport], None] | None = None

    # ------------------------------------------------------------------ intake
    def seen(self, mention_id: str) -> bool:
        """True if ``mention_id`` is one of the brand's last :data:`SEEN_IDS` ids (a
        duplicate); otherwise remember it and return False."""
        known = self._seen_set
        if mention_id in known:
            return True
        known.add(mention_id)
        ids = self.seen_ids
        ids.append(mention_id)
        if len(ids) > SEEN_IDS:
            known.discard(ids.popleft())
        return False

    def observe(
        self, m: Mention | MentionRecord, sentiment: Sentimented
    ) -> tuple[bool, list[Alert]]:
        """Count one mention (with its sentiment) and close the buckets it makes due.

        Returns
        -------
        late, alerts
            ``late`` is True when the mention's bucket had already closed (it is then not
            counted in volume); ``alerts`` are the incident updates this made due.
        """
        alerts: list[Alert] = []
        return self.observe_into(m, sentiment, alerts), alerts

    def observe_into(
        self, m: Mention | MentionRecord, sentiment: Sentimented, alerts: list[Alert]
    ) -> bool:
        """:meth:`observe` appending the alerts to ``alerts`` (the engine's hot path: no list
        or tuple per mention). Returns ``late``."""
        own_post = self.detectors.observe_into(m, sentiment, alerts)
        ts = m.ts
        bucket_s = self._bucket_s
        idx = int(ts // bucket_s)
        next_close = self.next_close
        if next_close is None:
            self.next_close = next_close = idx
        if idx < next_close:
            self.late += 1
            return True
        agg = self.open.get(idx)
        if agg is None:
            agg = self.open[idx] = BucketAgg(start=idx * float(bucket_s))
        # count it in its bucket (the brand's own posts are not mentions)
        if own_post:
            agg.own += 1
        else:
            author = m.author
            label = sentiment.label
            agg.count += 1
            followers = author.followers
            agg.followers += followers
            texts = agg.texts
            if len(texts) < TERM_SAMPLE_PER_BUCKET:
                texts.append(m.text)
            tops = agg.top_authors
            if len(tops) < 5:
                heapq.heappush(tops, (followers, author.handle, label or "", author.verified))
            elif followers > tops[0][0]:
                heapq.heapreplace(tops, (followers, author.handle, label or "", author.verified))
            if label == "negative":
                agg.negative += 1
                if followers >= self._high_reach:
                    agg.high_reach_negative.add(author.handle)
                negative_ids = agg.negative_ids
                if len(negative_ids) < 5:
                    heapq.heappush(negative_ids, (followers, m.id))
                elif followers > negative_ids[0][0]:
                    heapq.heapreplace(negative_ids, (followers, m.id))
            elif label == "positive":
                agg.positive += 1
        clock = self.clock
        if clock is None or ts > clock:
            self.clock = clock = ts
        # the test _close_due starts with, inline: most mentions make no bucket due
        if int((clock - self._lateness_s) // bucket_s) - 1 >= next_close:
            alerts.extend(self._close_due())
        return False

    # ------------------------------------------------------------------ buckets
    def _close_due(self) -> list[Alert]:
        assert self.clock is not None and self.next_close is not None
        bucket_s = self.d.bucket_s
        last_due = int((self.clock - self.d.allowed_lateness_s) // bucket_s) - 1
        if last_due < self.next_close:
            return []
        alerts: list[Alert] = []
        first = self.next_close
        if last_due - first >= self.d.max_gap_buckets:
            # the clock jumped: close the buckets that hold mentions, fill only the last empties
            first = last_due - self.d.max_gap_buckets + 1
            for idx in sorted(i for i in self.open if i < first):
                alerts.extend(self._close(idx, self.open.pop(idx)))
        for idx in range(first, last_due + 1):
            agg = self.open.pop(idx, None) or BucketAgg(start=idx * float(bucket_s))
            alerts.extend(self._close(idx, agg))
        self.next_close = last_due + 1
        return alerts

    def _close(self, idx: int, agg: BucketAgg) -> list[Alert]:
        t = agg.start
        vol = self.volume.score_one(t, agg.count)
        neg = self.negative_volume.score_one(t, agg.negative)
        base = (
            self.neg_ew / self.n_ew
            if self.baseline_mentions >= MIN_BASELINE_MENTIONS and self.n_ew > 0
            else PRIOR_NEGATIVE_SHARE
        )
        n = agg.count
        share = agg.negative / n if n else 0.0
        excess = share - base
        z = excess / math.sqrt(max(base * (1 - base), 1e-4) / max(n, 1))
        angry = n > 0 and excess >= self.d.negative_shift_min and z >= 2.0
        reach = 1.0 + 0.25 * min(len(agg.high_reach_negative), 4)
        crisis_score = neg.score * reach if (angry and neg.warm) else 0.0
        watch_score = vol.score if vol.warm else 0.0

        if agg.texts:
            agg.terms = burst_term_counts(agg.texts, self.own_terms)
            agg.texts = []
        self.recent.append(agg)

        alerts: list[Alert] = []
        tr = self.crisis.step(t, watch=watch_score, crisis=crisis_score)
        if tr.update:
            alerts.append(self._crisis_alert(tr, t, vol, agg, base, share, crisis_score))
        silence_score = vol.silence if vol.warm else 0.0
        tr_s = self.silence.step(t, watch=silence_score, crisis=0.0)
        if tr_s.update:
            alerts.append(self._silence_alert(tr_s, t, vol, silence_score))

        # learn after scoring (no look-ahead), but keep the baselines clean of an open incident
        if self.crisis.level == "normal":
            self.frozen_buckets = 0
        else:
            self.frozen_buckets += 1
        frozen = 0 < self.frozen_buckets * self.d.bucket_s <= self.d.freeze_max_s
        if not frozen:
            self.volume.learn_one(t, agg.count)
            self.negative_volume.learn_one(t, agg.negative)
            a = self._alpha
            self.neg_ew = (1 - a) * self.neg_ew + a * agg.negative
            self.n_ew = (1 - a) * self.n_ew + a * n
            self.baseline_mentions += n
            if agg.terms:
                self.terms.add_counts(agg.terms, at=idx)
        self.last_report = BucketReport(
            self.brand, vol, share, base, crisis_score, self.crisis.level
        )
        if self.on_bucket is not None:
            self.on_bucket(self.last_report)
        return alerts

    # ------------------------------------------------------------------ alerts
    def _evidence(self, base: float, idx: int) -> tuple[dict[str, Any], list[str]]:
        burst = list(self.recent)
        n = sum(b.count for b in burst)
        neg = sum(b.negative for b in burst)
        terms: Counter[str] = Counter()
        for b in burst:
            terms.update(b.terms)
        hashtags = {k: v for k, v in terms.items() if k.startswith("#")}
        words = {k: v for k, v in terms.items() if not k.startswith("#")}
        authors = heapq.nlargest(5, {a[1]: a for b in burst for a in b.top_authors}.values())
        negative_ids = heapq.nlargest(5, (x for b in burst for x in b.negative_ids))
        high_reach = sorted({h for b in burst for h in b.high_reach_negative})
        evidence = {
            "window_buckets": len(burst),
            "mentions": n,
            "negative_share": round(neg / n, 4) if n else 0.0,
            "negative_baseline": round(base, 4),
            "high_reach_negative_authors": high_reach[:10],
            "followers_total": sum(b.followers for b in burst),
            "top_terms": [{"term": k, "count": c} for k, c in top_lifted(words, self.terms, idx)],
            "top_hashtags": [
                {"term": k, "count": c} for k, c in top_lifted(hashtags, self.terms, idx, k=5)
            ],
            "top_authors": [
                {"handle": h, "followers": f, "sentiment": s or None, "verified": v}
                for f, h, s, v in authors
            ],
        }
        now = (idx + 1) * float(self.d.bucket_s)
        for det in self.detectors:  # e.g. the raid detector's coordinated share, trends
            extra = getattr(det, "crisis_evidence", None)
            if extra is not None:
                evidence.update(extra(now))
        return evidence, [i for _, i in negative_ids]

    def _crisis_alert(
        self, tr: Transition, t: float, vol: VolumeScore, agg: BucketAgg, base: float,
        share: float, crisis_score: float,
    ) -> Alert:
        idx = int(t // self.d.bucket_s)
        evidence, samples = self._evidence(base, idx)
        if tr.update == "opened" or tr.update == "reopened":
            self._episode_kind = "crisis" if tr.state == "crisis" else "surge"
        if tr.state == "crisis":
            self._episode_kind = "crisis"
        kind = self._episode_kind
        if kind == "crisis":
            severity = crisis_severity(
                max(crisis_score, 6.0), evidence["negative_share"] - base,
                len(evidence["high_reach_negative_authors"]),
            )
        else:
            severity = "info" if share <= base else "low"
        score = crisis_score if kind == "crisis" else vol.score
        top = ", ".join(x["term"] for x in evidence["top_terms"][:3]) or "no dominant term"
        summary = (
            f"{self.brand}: {kind} {tr.update} — {vol.observed:.0f} mentions/bucket vs "
            f"{vol.expected:.1f} expected, negative {share:.0%} vs {base:.0%} usual; {top}"
        )
        assert tr.incident_id is not None and tr.opened_at is not None
        return Alert(
            id=tr.incident_id, version=tr.version, brand=self.brand, kind=kind,
            severity=severity, state=tr.state, update=tr.update, opened_at=_iso(tr.opened_at),
            updated_at=_iso(t + self.d.bucket_s), observed=vol.observed, expected=vol.expected,
            lower=vol.lower, upper=vol.upper, score=round(score, 4), summary=summary,
            evidence=evidence, sample_mention_ids=samples,
        )

    def _silence_alert(self, tr: Transition, t: float, vol: VolumeScore, score: float) -> Alert:
        assert tr.incident_id is not None and tr.opened_at is not None
        return Alert(
            id=tr.incident_id, version=tr.version, brand=self.brand, kind="silence",
            severity="low", state="watch" if tr.state != "resolved" else "resolved",
            update=tr.update, opened_at=_iso(tr.opened_at), updated_at=_iso(t + self.d.bucket_s),
            observed=vol.observed, expected=vol.expected, lower=vol.lower, upper=vol.upper,
            score=round(score, 4),
            summary=f"{self.brand}: silence {tr.update} — {vol.observed:.0f} mentions/bucket "
            f"vs {vol.expected:.1f} expected",
            evidence={"observed": vol.observed, "expected": vol.expected},
        )

    # ------------------------------------------------------------------ snapshot
    def to_state(self) -> dict[str, Any]:
        """Snapshot of everything this watch knows (JSON-able)."""
        return {
            "brand": self.brand,
            "clock": self.clock,
            "next_close": self.next_close,
            "open": {str(k): v.to_state() for k, v in self.open.items()},
            "recent": [b.to_state() for b in self.recent],
            "volume": self.volume.to_state(),
            "negative_volume": self.negative_volume.to_state(),
            "neg_ew": self.neg_ew,
            "n_ew": self.n_ew,
            "baseline_mentions": self.baseline_mentions,
            "frozen_buckets": self.frozen_buckets,
            "terms": self.terms.to_state(),
            "crisis": self.crisis.to_state(),
            "silence": self.silence.to_state(),
            "late": self.late,
            "seen_ids": list(self.seen_ids),
            "episode_kind": self._episode_kind,
            "detectors": {det.name: det.to_state() for det in self.detectors},
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], detection: DetectionSettings,
        brand_config: BrandConfig | None = None,
    ) -> BrandWatch:
        """Restore a watch from :meth:`to_state`; it then scores exactly as the original."""
        w = cls(state["brand"], detection, brand_config)
        w.clock = state["clock"]
        w.next_close = state["next_close"]
        w.open = {int(k): BucketAgg.from_state(v) for k, v in state["open"].items()}
        w.recent = deque((BucketAgg.from_state(b) for b in state["recent"]), maxlen=EVIDENCE_BUCKETS)
        w.volume = VolumeModel.from_state(state["volume"])
        w.negative_volume = VolumeModel.from_state(state["negative_volume"])
        w.neg_ew = state["neg_ew"]
        w.n_ew = state["n_ew"]
        w.baseline_mentions = state["baseline_mentions"]
        w.frozen_buckets = state["frozen_buckets"]
        w.terms = DecayingCounter.from_state(state["terms"])
        w.crisis.load_state(state["crisis"])
        w.silence.load_state(state["silence"])
        w.late = state["late"]
        w.seen_ids = deque(state.get("seen_ids", ()))  # absent in older snapshots
        w._seen_set = set(w.seen_ids)
        w._episode_kind = state["episode_kind"]
        saved = state.get("detectors", {})
        for det in w.detectors:
            if det.name in saved:
                det.load_state(saved[det.name])
        return w
