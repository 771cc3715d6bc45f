"""Slow answers to criticism: negative mentions left waiting for the brand's reply.

:class:`ResponsivenessDetector` awaits every negative mention of the brand (not a repost, not
the brand's own) posted while the brand account is **active** (it posted within
``slow_active_s`` before: nights and week-ends when nobody is on duty are not slow answers). A
reply of the brand (an own post whose ``in_reply_to`` is the mention's id) answers it; the wait
(event time) goes to the time-to-first-answer histogram. Awaited mentions are dropped after
``slow_max_age_s``, and at most ``slow_max_waiting`` are kept (the oldest go first).

At each closed bucket (event time ``now``):

* **backlog**: awaited mentions posted in ``[now - slow_grace_s - slow_window_s,
  now - slow_grace_s]`` still unanswered, and their **unanswered share** — counting only the
  mentions after which the brand stayed active (posted) for a full ``slow_grace_s``, so the
  last mentions before the team goes home are not a backlog (and the backlog only counts
  while the brand is on duty: it posted within ``slow_grace_s``);
* **p90 wait**: over the answers given in the last ``slow_window_s`` (at least 10 of them),
  leaving out waits across a silence of the brand longer than ``slow_active_s`` (a night off).

A ``slow_response`` incident opens (one per episode) when the backlog reaches
``slow_max_backlog`` *and* the brand answers at most ``slow_answered_ratio`` of the share it
usually answers at this hour of the day (brands never answer everyone, and answer less at
closing time: the usual unanswered share is learned per UTC hour of day, frozen while an
incident is open; an hour needs ``MIN_SHARE_TICKS`` buckets of history — a day's warm-up —
before the backlog can alert at that hour; and the brand must usually answer at least
``MIN_EXPECTED_ANSWERS`` of the window's mentions), or when the p90 wait reaches
``slow_max_p90_s``. Severity high when both hold.

Examples
--------
>>> from pipeline.settings import BrandConfig, DetectionSettings
>>> from pipeline.risks._testing import NEG, NEU, mention, post
>>> det = ResponsivenessDetector("acme", BrandConfig(name="acme", handles=["acme"]),
...                              DetectionSettings())
>>> _ = det.observe(post("Good morning!", hour=9.0), NEU)
>>> _ = det.observe(mention("@acme awful, my order is lost", hour=9.1, id="c1"), NEG)
>>> _ = det.observe(post("@bob so sorry, DM us", hour=9.3, kind="reply", in_reply_to="c1"), NEU)
>>> det.waits_s
[720.0]
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from pipeline.risks._base import Ticker, own_handles, tracker, transition_alert
from pipeline.schemas import Alert, Mention
from pipeline.settings import BrandConfig, DetectionSettings

#: Closed buckets (with enough awaited mentions) an hour of the day needs before it is judged.
MIN_SHARE_TICKS = 30
#: Half-life of the usual unanswered share of an hour of the day, in its buckets (a week).
SHARE_HALFLIFE = 420
#: Least awaited mentions in the backlog window, and answers in the p90 window, to judge.
MIN_AWAITED = 10
#: Answers the brand usually gives in the backlog window for a drop to be judged (closing
#: time, when it answers a few percent, is not judged).
MIN_EXPECTED_ANSWERS = 20
#: Waits kept for metrics until they are read.
MAX_PENDING_WAITS = 1000


def _quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(math.ceil(q * len(s))) - 1)] if s else 0.0


class ResponsivenessDetector:
    """Per-brand slow-answer detector (see the module docstring)."""

    name = "slow_response"

    def __init__(self, brand: str, config: BrandConfig | None, detection: DetectionSettings) -> None:
        r = detection.risks
        self.brand = brand
        self.d = detection
        self.r = r
        self.handles = own_handles(config)
        self.last_own: float | None = None
        self.resumed: float = 0.0  # first own post after a silence longer than slow_active_s
        # awaited mentions [id, ts, answered_at]: recent ones (backlog window and younger) in
        # `pending`, unanswered older ones in `late` (still answerable until slow_max_age_s)
        self.pending: deque[list[Any]] = deque()
        self.late: deque[list[Any]] = deque()
        self.index: dict[str, list[Any]] = {}
        self.answers: deque[tuple[float, float]] = deque()  # (answered at, wait)
        self.share_h = [0.0] * 24  # usual unanswered share per UTC hour of day
        self.ticks_h = [0] * 24
        self.frozen = 0
        self.ticker = Ticker(detection.bucket_s)
        self.tracker = tracker(brand, "slow_response", detection, 1.0)
        self.backlog = 0
        self.share = 0.0
        self.p90 = 0.0
        self.waits_s: list[float] = []  # for the metrics histogram, drained by the worker

    def usual_share(self, t: float) -> float | None:
        """The brand's usual unanswered share at the hour of day of ``t`` (None: not learned)."""
        h = int(t // 3600) % 24
        return self.share_h[h] if self.ticks_h[h] >= MIN_SHARE_TICKS else None

    def observe(self, m: Mention, sentiment: Any) -> list[Alert]:
        """Await or answer; alert updates made due."""
        ts = m.ts
        alerts: list[Alert] = []
        for t in self.ticker.advance(ts):
            alerts.extend(self._tick(t))
        if m.kind == "own_post" or m.author.handle.lower() in self.handles:
            if self.last_own is None or ts - self.last_own > self.r.slow_active_s:
                self.resumed = ts
            if self.last_own is None or ts > self.last_own:
                self.last_own = ts
            target = m.in_reply_to
            if target is not None:
                rec = self.index.get(target)
                if rec is not None and rec[2] is None and ts >= rec[1]:
                    rec[2] = ts
                    wait = ts - rec[1]
                    if rec[1] >= self.resumed:  # waits across a night off are not slowness
                        self.answers.append((ts, wait))
                    if len(self.waits_s) < MAX_PENDING_WAITS:
                        self.waits_s.append(wait)
            return alerts
        if (getattr(sentiment, "label", None) != "negative" or m.kind == "repost"
                or self.last_own is None or ts - self.last_own > self.r.slow_active_s):
            return alerts
        if m.id not in self.index:
            rec = [m.id, ts, None]
            self.index[m.id] = rec
            self.pending.append(rec)
            if len(self.index) > self.r.slow_max_waiting:
                old = (self.late or self.pending).popleft()
                self.index.pop(old[0], None)
        return alerts

    def measure(self, now: float) -> tuple[int, int, float, int]:
        """Expire old entries; (backlog, awaited in the backlog window, p90 wait, answers)."""
        r = self.r
        oldest = now - r.slow_max_age_s
        lo = now - r.slow_grace_s - r.slow_window_s
        hi = now - r.slow_grace_s
        pending, late, index = self.pending, self.late, self.index
        while pending and pending[0][1] < lo:
            rec = pending.popleft()
            if rec[2] is None:
                late.append(rec)
            else:
                index.pop(rec[0], None)
        while late and (late[0][1] < oldest or late[0][2] is not None):
            index.pop(late.popleft()[0], None)
        backlog = total = 0
        on_duty_until = (self.last_own or 0.0) - r.slow_grace_s
        for _, ts, answered in pending:
            if ts > hi:
                break  # ordered by arrival (event time, up to lateness)
            if ts > on_duty_until:
                continue  # the brand has not been active for a full grace period since
            total += 1
            if answered is None or answered > ts + r.slow_grace_s:
                backlog += 1
        q = self.answers
        while q and q[0][0] < now - r.slow_window_s:
            q.popleft()
        p90 = _quantile([w for _, w in q], 0.9) if len(q) >= MIN_AWAITED else 0.0
        return backlog, total, p90, len(q)

    def _tick(self, t: float) -> list[Alert]:
        r = self.r
        end = t + self.d.bucket_s
        backlog, total, p90, n_answers = self.measure(end)
        share = backlog / total if total else 0.0
        self.backlog, self.share, self.p90 = backlog, share, p90
        usual = self.usual_share(t)
        on_duty = self.last_own is not None and end - self.last_own <= r.slow_grace_s
        slow_backlog = (on_duty and usual is not None and backlog >= r.slow_max_backlog
                        and total * (1.0 - usual) >= MIN_EXPECTED_ANSWERS
                        and 1.0 - share <= r.slow_answered_ratio * (1.0 - usual))
        slow_wait = p90 >= r.slow_max_p90_s
        signal = float(slow_backlog) + float(slow_wait)
        tr = self.tracker.step(t, watch=signal, crisis=0.0)
        # learn the usual share outside incidents (bounded freeze, as the crisis baselines)
        self.frozen = 0 if self.tracker.level == "normal" else self.frozen + 1
        if total >= MIN_AWAITED and (self.frozen == 0 or
                                     self.frozen * self.d.bucket_s > self.d.freeze_max_s):
            h = int(t // 3600) % 24
            a = max(1.0 - 0.5 ** (1.0 / SHARE_HALFLIFE), 1.0 / (self.ticks_h[h] + 1))
            self.share_h[h] = (1 - a) * self.share_h[h] + a * share
            self.ticks_h[h] += 1
        if not tr.update:
            return []
        usual = usual if usual is not None else 0.0
        oldest = [rec[0] for rec in list(self.late)[:10] + list(self.pending)[:10]
                  if rec[2] is None][:10]
        evidence = {
            "backlog": backlog, "awaited": total, "unanswered_share": round(share, 4),
            "usual_unanswered_share": round(usual, 4), "p90_wait_s": round(p90, 1),
            "answers_in_window": n_answers, "waiting_total": len(self.index),
            "limits": {"backlog": r.slow_max_backlog, "answered_ratio": r.slow_answered_ratio,
                       "p90_wait_s": r.slow_max_p90_s},
            "reasons": [x for x, on in (("backlog", slow_backlog), ("p90_wait", slow_wait)) if on],
        }
        severity = "high" if signal >= 2 else "medium" if tr.update != "resolved" else "low"
        summary = (f"{self.brand}: slow answers {tr.update} — {backlog} negative mentions "
                   f"unanswered after {r.slow_grace_s // 60} min ({share:.0%} vs {usual:.0%} "
                   f"usual), p90 wait {p90 / 60:.0f} min")
        return [transition_alert(
            tr, brand=self.brand, kind="slow_response", severity=severity, t=t,
            bucket_s=self.d.bucket_s, observed=backlog, expected=usual * total,
            score=signal, summary=summary, evidence=evidence, samples=oldest,
        )]

    # ------------------------------------------------------------------ metrics & state
    def gauges(self) -> dict[str, float]:
        """Current figures for metrics."""
        return {"response_backlog": float(self.backlog), "response_p90_seconds": self.p90,
                "unanswered_share": self.share}

    def drain_waits(self) -> list[float]:
        """Times to first answer since the last call (for the metrics histogram)."""
        out, self.waits_s = self.waits_s, []
        return out

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able)."""
        return {
            "last_own": self.last_own, "late": [list(x) for x in self.late],
            "pending": [list(x) for x in self.pending],
            "answers": [list(a) for a in self.answers],
            "share_h": self.share_h, "ticks_h": self.ticks_h, "frozen": self.frozen, "resumed": self.resumed,
            "ticker": self.ticker.to_state(), "tracker": self.tracker.to_state(),
            "backlog": self.backlog, "share": self.share, "p90": self.p90,
        }

    def load_state(self, s: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self.last_own = s["last_own"]
        self.late = deque(list(x) for x in s["late"])
        self.pending = deque(list(x) for x in s["pending"])
        self.index = {x[0]: x for x in (*self.late, *self.pending)}
        self.answers = deque((a, w) for a, w in s["answers"])
        self.share_h = list(s["share_h"])
        self.ticks_h = list(s["ticks_h"])
        self.frozen = s["frozen"]
        self.resumed = s["resumed"]
        self.ticker.load_state(s["ticker"])
        self.tracker.load_state(s["tracker"])
        self.backlog, self.share, self.p90 = s["backlog"], s["share"], s["p90"]
