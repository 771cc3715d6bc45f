"""Emerging terms and hashtags per brand (topic ``veille.trends``), competitors included.

:class:`TrendsDetector` counts the evidence terms (:func:`pipeline.evidence.burst_terms`: words
without stopwords, and hashtags) of a cheap deterministic sample of the brand's mentions — the
first ``trends_sample_per_bucket`` of each bucket, reposts and own posts excluded — in a
:class:`MisraGries` heavy-hitter summary per window of ``trends_window_s`` (bounded memory
whatever the vocabulary). When a window closes, its terms are ranked against the brand's
baseline (:class:`~pipeline.evidence.DecayingCounter`, half-life of a day, fed with the past
windows) as :func:`~pipeline.evidence.top_lifted` does: a term **emerges** when it appears at
least ``trends_min_count`` times and ``MIN_LIFT`` times more often than usual. A window with
emerging terms becomes a trend record (schema ``Trend``), collected by the engine with
:meth:`TrendsDetector.drain`. Brands flagged ``competitor`` are watched the same way (the record
says so).

:meth:`TrendsDetector.crisis_evidence` gives the emerging terms of the current window to the
brand's crisis alerts.

Examples
--------
>>> mg = MisraGries(2)
>>> for w in "a b a c a d a".split():
...     mg.add(w)
>>> mg.counts["a"] >= 2, len(mg.counts) <= 2
(True, True)
"""

from __future__ import annotations

import math
from collections import _count_elements  # Counter.update's C loop, on a plain dict
from collections.abc import Iterable
from typing import Any

from pipeline.evidence import DecayingCounter, _text_terms  # burst_terms' memo (tuples)
from pipeline.risks._base import StreamDetector, iso, own_handles
from pipeline.schemas import SCHEMA_VERSION, Alert, Mention
from pipeline.settings import BrandConfig, DetectionSettings

#: Heavy hitters kept per window.
CAPACITY = 400
#: An emerging term is at least this many times more frequent than in the baseline.
MIN_LIFT = 3.0
#: Baseline half-life, in windows (a day of 15-minute windows).
HALFLIFE_WINDOWS = 96
#: Terms the baseline needs before anything can emerge.
MIN_BASELINE_TERMS = 1000
#: Trend records held until the engine collects them.
MAX_PENDING = 100


class MisraGries:
    """Misra-Gries heavy hitters: at most ``k`` counters; every term more frequent than
    ``n / (k + 1)`` is kept, counts are under-estimated by at most that much."""

    __slots__ = ("k", "counts", "n")

    def __init__(self, k: int) -> None:
        self.k = k
        self.counts: dict[str, int] = {}
        self.n = 0

    def add(self, key: str, weight: int = 1) -> None:
        """Count ``key``."""
        self.n += weight
        c = self.counts
        if key in c or len(c) < self.k:
            c[key] = c.get(key, 0) + weight
            return
        dec = min(weight, min(c.values()))
        for k_ in list(c):
            v = c[k_] - dec
            if v > 0:
                c[k_] = v
            else:
                del c[k_]
        if weight > dec:
            c[key] = weight - dec

    def add_many(self, keys: Iterable[str]) -> None:
        """Count each of ``keys`` once, in order (same result as :meth:`add` on each)."""
        c = self.counts
        k = self.k
        if type(keys) is tuple and len(c) + len(keys) <= k:
            # no counter can be evicted: exact counting, new keys in first-seen order
            _count_elements(c, keys)
            self.n += len(keys)
            return
        for key in keys:
            v = c.get(key)
            if v is not None:
                c[key] = v + 1
                self.n += 1
            elif len(c) < k:
                c[key] = 1
                self.n += 1
            else:
                self.add(key)

    def to_state(self) -> dict[str, Any]:
        return {"k": self.k, "counts": self.counts, "n": self.n}

    @classmethod
    def from_state(cls, s: dict[str, Any]) -> MisraGries:
        obj = cls(s["k"])
        obj.counts = dict(s["counts"])
        obj.n = s["n"]
        return obj


class TrendsDetector(StreamDetector):
    """Per-brand emerging-terms detector (see the module docstring)."""

    name = "trends"
    sees_own = False  # own posts are not the brand's audience
    #: End of the current window (:meth:`tick_to` closes it); -inf before the first mention.
    until: float = -math.inf

    def __init__(self, brand: str, config: BrandConfig | None, detection: DetectionSettings) -> None:
        r = detection.risks
        self.brand = brand
        self.d = detection
        self.r = r
        self.competitor = bool(config and config.competitor)
        self.handles = self.brand_handles = own_handles(config)
        self.window = int(r.trends_window_s)
        # hot-path settings as plain attributes (a pydantic attribute read costs several times
        # more); settings do not change after construction
        self._bucket_s = detection.bucket_s
        self._sample = r.trends_sample_per_bucket
        self.current: int | None = None  # window index
        self.bucket: int | None = None
        self.sampled_in_bucket = 0
        self.mentions = 0
        self.sampled = 0
        self.heavy = MisraGries(CAPACITY)
        self.baseline = DecayingCounter(HALFLIFE_WINDOWS, max_keys=4000)
        self.baseline_terms = 0.0
        self.pending: list[dict[str, Any]] = []
        self._start = -math.inf  # start of the current window

    def tick_to(self, ts: float, alerts: list[Alert]) -> None:
        """Move to the window of ``ts`` (``ts >= until``), closing the current one. No alerts:
        trends go to :meth:`drain`."""
        w = int(ts // self.window)
        if self.current is None:
            self.current = w
        elif w > self.current:
            self._close(self.current)
            self.current = w
        self._set_until()

    def _set_until(self) -> None:
        cur = self.current
        self.until = -math.inf if cur is None else float((cur + 1) * self.window)
        self._start = -math.inf if cur is None else float(cur * self.window)

    def see(self, m: Mention, ts: float, own: bool, handle: str | None, sentiment: Any,
            alerts: list[Alert]) -> None:
        """Count one mention that is not an own post (its terms, if sampled)."""
        if ts < self._start or m.kind == "repost":
            return  # late for a closed window (exact: the start is an integer), or a repost
        self.mentions += 1
        b = int(ts // self._bucket_s)
        if b != self.bucket:
            self.bucket, self.sampled_in_bucket = b, 0
        if self.sampled_in_bucket >= self._sample:
            return
        self.sampled_in_bucket += 1
        self.sampled += 1
        self.heavy.add_many(_text_terms(m.text))

    def emerging(self, at: int) -> list[dict[str, Any]]:
        """The current window's emerging terms, most significant first (empty while cold)."""
        if self.baseline_terms < MIN_BASELINE_TERMS:
            return []
        counts = self.heavy.counts
        total_w = self.heavy.n or 1
        total_b = self.baseline.total(at)
        vocab = max(len(self.baseline), 1)
        out = []
        for term, count in counts.items():
            if count < self.r.trends_min_count:
                continue
            usual = self.baseline.get(term, at)
            p_b = (usual + 0.5) / (total_b + 0.5 * vocab)
            lift = (count / total_w) / p_b
            if lift >= MIN_LIFT:
                out.append({"term": term, "count": count, "lift": round(lift, 2),
                            "usual_per_window": round(usual * math.log(2) / HALFLIFE_WINDOWS, 3),
                            "_rank": count * math.log(lift)})
        out.sort(key=lambda x: (-x["_rank"], x["term"]))
        for x in out:
            del x["_rank"]
        return out

    def _close(self, w: int) -> None:
        items = self.emerging(w)
        k = self.r.trends_top_k
        terms = [x for x in items if not x["term"].startswith("#")][:k]
        tags = [x for x in items if x["term"].startswith("#")][:k]
        if terms or tags:
            self.pending.append({
                "schema_version": SCHEMA_VERSION, "brand": self.brand,
                "competitor": self.competitor,
                "window_start": iso(w * self.window).isoformat(),
                "window_end": iso((w + 1) * self.window).isoformat(),
                "mentions": self.mentions, "sampled": self.sampled,
                "terms": terms, "hashtags": tags,
            })
            if len(self.pending) > MAX_PENDING:
                del self.pending[0]
        for term, count in self.heavy.counts.items():
            self.baseline.add_many((term,), at=w, weight=count)
        self.baseline_terms += self.heavy.n
        self.heavy = MisraGries(CAPACITY)
        self.mentions = self.sampled = 0

    def drain(self) -> list[dict[str, Any]]:
        """Trend records (``Trend`` dicts) since the last call."""
        out, self.pending = self.pending, []
        return out

    def crisis_evidence(self, now: float) -> dict[str, Any]:
        """What this detector adds to a crisis alert's evidence."""
        at = int(now // self.window)
        return {"emerging_terms": [
            {"term": x["term"], "count": x["count"], "lift": x["lift"]}
            for x in self.emerging(at)[: self.r.trends_top_k]]}

    def gauges(self) -> dict[str, float]:
        """Current figures for metrics."""
        return {}

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able)."""
        return {
            "current": self.current, "bucket": self.bucket,
            "sampled_in_bucket": self.sampled_in_bucket, "mentions": self.mentions,
            "sampled": self.sampled, "heavy": self.heavy.to_state(),
            "baseline": self.baseline.to_state(), "baseline_terms": self.baseline_terms,
            "pending": self.pending,
        }

    def load_state(self, s: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self.current, self.bucket = s["current"], s["bucket"]
        self.sampled_in_bucket, self.mentions = s["sampled_in_bucket"], s["mentions"]
        self.sampled = s["sampled"]
        self.heavy = MisraGries.from_state(s["heavy"])
        self.baseline = DecayingCounter.from_state(s["baseline"])
        self.baseline_terms = s["baseline_terms"]
        self.pending = list(s["pending"])
        self._set_until()
