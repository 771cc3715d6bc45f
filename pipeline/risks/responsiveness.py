"""Slow answers to criticism: negative mentions left waiting for the brand's reply.

:class:`ResponsivenessDetector` awaits every negative mention of the brand (not a repost, not
the brand's own, not from an account the raid detector would watch — young, or tiny and under a
year old: a troll wave left unanswered is no slow answer) posted while the brand account is
**active** (it posted within ``slow_active_s`` before: nights and week-ends when nobody is on
duty are not slow answers). A reply of the brand (an own post whose ``in_reply_to`` is the mention's id) answers it; the wait
(event time) goes to the time-to-first-answer histogram. Awaited mentions are dropped after
``slow_max_age_s``, and at most ``slow_max_waiting`` are kept: beyond it the oldest go first
(those still unanswered past the backlog window, then the oldest of the window), counted in
:attr:`ResponsivenessDetector.waiting_dropped` (the replay summary's
``slow_waiting_dropped``, the metric ``veille_response_waiting_dropped_total``, the alert
evidence). A dropped mention's answer, if it comes, is not measured (its wait is missing from
the p90 and the histogram), and one dropped from the window is missing from the backlog.
Measured on the README's walk-through stream (``veille simulate --hours 36 --scenario
crisis:acme@30h``, its brands' settings): globex, the busiest brand (about 1,000 awaited
negative mentions an hour at its peak, most left unanswered at night), needs up to 6,058 with
no limit; at 5,000, 2,714 of its mentions were dropped, all unanswered past the window, and
only 1 of them was answered later (a 336 min wait, of 5,283 answers): same p90 gauge maximum,
same incidents. An awaited mention costs about 0.7 kB of memory (``tracemalloc``) and 43 bytes
of the brand's snapshot, which the worker writes to the ``brand-state`` changelog: 5,000 are
215 kB of a snapshot that must stay under Faust's 1 MB producer request limit, and globex's
whole snapshot peaked at 576 kB (247 kB of it this detector's). Hence the default of 5,000:
a higher one buys little (a few late answers) and brings a busy brand's snapshot nearer that
limit.

At each closed bucket (event time ``now``):

* **backlog**: awaited mentions posted in ``[now - slow_grace_s - slow_window_s,
  now - slow_grace_s]`` still unanswered, and their **unanswered share** — counting only the
  mentions after which the brand stayed active (posted) for a full ``slow_grace_s``, so the
  last mentions before the team goes home are not a backlog (and the backlog only counts
  while the brand is on duty: it posted within ``slow_grace_s``);
* **p90 wait**: over the answers given in the last ``slow_window_s`` (at least 20 of them),
  leaving out waits across a silence of the brand longer than ``slow_active_s`` (a night off).

A ``slow_response`` incident opens (one per episode) when the backlog reaches
``slow_max_backlog`` *and* the brand gave at most ``slow_answered_ratio`` of the answers it
usually gives to such a window, or when the p90 wait reaches ``slow_max_p90_s`` *and* the brand
usually answers at least ``MIN_P90_ANSWERS`` of the awaited mentions posted in the p90 window
(the sum of their usual answered shares, below). Severity high when both hold.

The p90 is judged only where the brand is usually answering: after closing time a team often
drains its leftover queue for an hour or two, and the answers of the last hour are then only
the slowest ones (their p90 climbs over 3 h while nothing about the answering got worse, and
those answers keep the brand "active"); the mentions posted meanwhile are the ones it usually
leaves for the morning. A team overwhelmed in its support hours (answers keep coming, late) is
still judged; one that stops answering is the backlog's case. Like the backlog, no p90 judgement
without a day of history, and none while no mention is awaited (a queue answered late while
nothing new comes in looks like closing time). The usual shares count answers within
``slow_grace_s``: a brand that usually answers later than that is judged only in windows with
that many more mentions (as for the backlog). Figures: the README walk-through with the
simulator from before it stopped answering at closing (``veille simulate --out sim.jsonl.gz
--hours 36 --scenario crisis:acme@30h``, ``veille replay sim.jsonl.gz --out DIR --settings
docs/simulated-brands.toml``) had a false globex incident at 04:33 UTC (p90 192 min over 29
answers): now only the acme crisis, identical. ``bench/risks.py --json`` (3 seeds x 14 streams):
every detector figure and incident unchanged (slow_response precision 1.0, recall 1.0, delay
2760 s, 0 false positive); ``bench/crisis.py --json`` unchanged.

The **usual answers** are learned per mention, by the quarter of an hour of the day (UTC) it was
posted in: the share of awaited mentions of that quarter answered within ``slow_grace_s``
(exponential decay, a week's half-life). The expected answers of a window are the sum of its
mentions' usual shares, so closing time (a sharp drop in answers within the hour) is expected
mention by mention, not averaged over the hour. A quarter is used only once it holds history
from an earlier day (``SLOT_HISTORY_S``): no judgement on the first day. A window is judged when
the brand usually answers at least ``MIN_EXPECTED_ANSWERS`` of it; the newest half of the
window is judged too (same rules), which halves the time a full stop takes to show. Learning is
frozen while an incident is open (at most ``freeze_max_s``).

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
from operator import itemgetter
from typing import Any

import numpy as np

from pipeline.risks._base import StreamDetector, Ticker, own_handles, tracker, transition_alert
from pipeline.risks.raid import suspicious_age
from pipeline.schemas import Alert, Mention
from pipeline.settings import BrandConfig, DetectionSettings

#: Width of a time-of-day slot of the usual answered share (a quarter of an hour).
SLOT_S = 900
SLOTS = 86_400 // SLOT_S
#: Half-life of a slot's learned mentions (a week of event time).
SLOT_HALFLIFE_S = 7 * 86_400.0
#: A slot is used only when its first learned mention is at least this old (an earlier day).
SLOT_HISTORY_S = 20 * 3600.0
#: Least (decayed) learned mentions of a slot for it to be used.
MIN_SLOT_MENTIONS = 3.0
#: Share of a window's awaited mentions that must fall in usable slots for it to be judged.
MIN_JUDGED_SHARE = 0.8
#: Least answers in the p90 window to judge the wait (the p90 of a dozen evening answers,
#: a queue drained at closing time, is its heavy tail).
MIN_P90_ANSWERS = 20
#: Answers the brand usually gives to a window for a drop to be judged (closing time, when
#: it answers a few, is not judged).
MIN_EXPECTED_ANSWERS = 20
#: Awaited mentions from which :meth:`ResponsivenessDetector.measure` scans with numpy (same
#: figures; below it, the per-mention loop costs less than the array operations: measured
#: break-even about 200-400 on the bench replay).
NUMPY_SCAN_FROM = 300
_SECOND, _THIRD = itemgetter(1), itemgetter(2)
#: Waits kept for metrics until they are read.
MAX_PENDING_WAITS = 1000


class Judged:
    """Figures of a judged window: awaited mentions, those in usable slots, their answers
    (within the grace period) and the answers usually given to them."""

    __slots__ = ("awaited", "judged", "answered", "expected")

    def __init__(self) -> None:
        self.awaited = self.judged = self.answered = 0
        self.expected = 0.0

    def dropped(self, ratio: float) -> bool:
        """True when the brand gave at most ``ratio`` of its usual answers (judged windows)."""
        return (self.judged >= MIN_JUDGED_SHARE * self.awaited and self.judged > 0
                and self.expected >= MIN_EXPECTED_ANSWERS and self.answered <= ratio * self.expected)


def _quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(math.ceil(q * len(s))) - 1)] if s else 0.0


class ResponsivenessDetector(StreamDetector):
    """Per-brand slow-answer detector (see the module docstring)."""

    name = "slow_response"

    def __init__(self, brand: str, config: BrandConfig | None, detection: DetectionSettings) -> None:
        r = detection.risks
        self.brand = brand
        self.d = detection
        self.r = r
        self.handles = self.brand_handles = own_handles(config)
        # hot-path settings as plain attributes (see RaidDetector)
        self._active_s = r.slow_active_s
        self._young_days = r.raid_young_days
        self._low_followers = r.raid_low_followers
        self.last_own: float | None = None
        self.resumed: float = 0.0  # first own post after a silence longer than slow_active_s
        # awaited mentions [id, ts, answered_at]: recent ones (backlog window and younger) in
        # `pending`, unanswered older ones in `late` (still answerable until slow_max_age_s)
        self.pending: deque[list[Any]] = deque()
        self.late: deque[list[Any]] = deque()
        self.index: dict[str, list[Any]] = {}
        #: No awaited mention in `pending` is older than this (the least event time appended
        #: since it was last empty): when the brand's duty ended before it, :meth:`measure`
        #: has nothing to count and skips the scan.
        self._pending_low = math.inf
        #: `pending`'s event times and answer times (nan: none yet) as arrays, kept in step
        #: with it (appends, answers, expiry) for :meth:`measure`'s numpy scan: pending[i] is
        #: at index _m_head + i. Rebuilt from `pending` when it was replaced (`_m_of`).
        self._m_of: deque[list[Any]] | None = None
        self._m_ts = self._m_ans = np.empty(0)
        self._m_head = self._m_tail = self._m_base = 0
        self._m_pos: dict[int, int] = {}  # id() of a pending record -> its sequence number
        self.answers: deque[tuple[float, float]] = deque()  # (answered at, wait)
        # per time-of-day slot: decayed awaited mentions, decayed answered ones, last and first
        # learning time (event time)
        self.slot_n = [0.0] * SLOTS
        self.slot_a = [0.0] * SLOTS
        self.slot_t = [0.0] * SLOTS
        self.slot_first: list[float | None] = [None] * SLOTS
        self.expired: list[list[Any]] = []  # awaited mentions out of the window, to learn from
        self.frozen = 0
        self.ticker = Ticker(detection.bucket_s)
        self.tracker = tracker(brand, "slow_response", detection, 1.0)
        self.backlog = 0
        self.share = 0.0
        self.p90 = 0.0
        self.waits_s: list[float] = []  # for the metrics histogram, drained by the worker
        #: Awaited mentions dropped because ``slow_max_waiting`` were kept (in the snapshot)
        self.waiting_dropped = 0
        self._dropped_unread = 0  # the same, since the metrics last read them

    def usual_answered(self, ts: float) -> float | None:
        """Usual share of mentions posted at ``ts``'s time of day answered in time (None: unknown).

        Only history from before ``ts - SLOT_HISTORY_S`` makes a slot usable (an earlier day).
        """
        k = int(ts // SLOT_S) % SLOTS
        first = self.slot_first[k]
        if first is None or ts - first < SLOT_HISTORY_S or self.slot_n[k] < MIN_SLOT_MENTIONS:
            return None
        return self.slot_a[k] / self.slot_n[k]

    def usual_answers(self, since: float) -> float:
        """Answers the brand usually gives (within ``slow_grace_s``) to the awaited mentions
        posted since ``since``: the sum of their usual answered shares, a mention in a slot
        without usable history counting 0 (event time: the shares are learned from earlier
        days only)."""
        total = 0.0
        for rec in self.pending:  # every awaited mention at least since - slow_grace_s old
            if rec[1] >= since:
                p = self.usual_answered(rec[1])
                if p is not None:
                    total += p
        return total

    def usual_share(self, ts: float) -> float | None:
        """Usual unanswered share of mentions posted at ``ts``'s time of day (None: unknown)."""
        p = self.usual_answered(ts)
        return None if p is None else 1.0 - p

    def learn(self, ts: float, answered: bool) -> None:
        """Add one awaited mention's outcome (answered within ``slow_grace_s``) to its slot."""
        k = int(ts // SLOT_S) % SLOTS
        decay = 0.5 ** (max(ts - self.slot_t[k], 0.0) / SLOT_HALFLIFE_S)
        self.slot_n[k] = self.slot_n[k] * decay + 1.0
        self.slot_a[k] = self.slot_a[k] * decay + float(answered)
        self.slot_t[k] = max(ts, self.slot_t[k])
        if self.slot_first[k] is None:
            self.slot_first[k] = ts

    def see(self, m: Mention, ts: float, own: bool, handle: str | None, sentiment: Any,
            alerts: list[Alert]) -> None:
        """Await a negative mention, or take an own post's answer (see
        :class:`~pipeline.risks._base.StreamDetector`)."""
        if own:
            if self.last_own is None or ts - self.last_own > self._active_s:
                self.resumed = ts
            if self.last_own is None or ts > self.last_own:
                self.last_own = ts
            target = m.in_reply_to
            if target is not None:
                rec = self.index.get(target)
                if rec is not None and rec[2] is None and ts >= rec[1]:
                    rec[2] = ts
                    if self._m_of is self.pending:
                        seq = self._m_pos.get(id(rec))
                        if seq is not None:
                            self._m_ans[seq - self._m_base] = ts
                    wait = ts - rec[1]
                    if rec[1] >= self.resumed:  # waits across a night off are not slowness
                        self.answers.append((ts, wait))
                    if len(self.waits_s) < MAX_PENDING_WAITS:
                        self.waits_s.append(wait)
            return
        if (getattr(sentiment, "label", None) != "negative" or m.kind == "repost"
                or self.last_own is None or ts - self.last_own > self._active_s
                or suspicious_age(m.author, ts, self._young_days, self._low_followers) is not None):
            return
        if m.id not in self.index:
            rec = [m.id, ts, None]
            self.index[m.id] = rec
            self.pending.append(rec)
            if self._m_of is self.pending:
                self._mirror_push(rec)
            if ts < self._pending_low:
                self._pending_low = ts
            if len(self.index) > self.r.slow_max_waiting:
                if self.late:
                    old = self.late.popleft()
                else:
                    old = self.pending.popleft()
                    if self._m_of is self.pending:
                        self._mirror_pop(old)
                self.index.pop(old[0], None)
                self.waiting_dropped += 1
                self._dropped_unread += 1

    def measure(self, now: float) -> tuple[int, int, float, int, list[Judged]]:
        """Expire old entries; (backlog, awaited in the backlog window, p90 wait, answers,
        judged figures of the whole window and of its newest half)."""
        r = self.r
        grace = r.slow_grace_s
        oldest = now - r.slow_max_age_s
        lo = now - grace - r.slow_window_s
        hi = now - grace
        mid = hi - r.slow_window_s / 2
        on_duty_until = (self.last_own or 0.0) - grace
        pending, late, index = self.pending, self.late, self.index
        if self._m_of is not pending:
            self._mirror_sync()
        while pending and pending[0][1] < lo:
            rec = pending.popleft()
            self._mirror_pop(rec)
            if rec[1] <= on_duty_until:  # the brand was active long enough after it
                self.expired.append(rec)
            if rec[2] is None:
                late.append(rec)
            else:
                index.pop(rec[0], None)
        while late and (late[0][1] < oldest or late[0][2] is not None):
            index.pop(late.popleft()[0], None)
        full, half = Judged(), Judged()
        if not pending:
            self._pending_low = math.inf
        if on_duty_until < self._pending_low:
            pending = deque()  # nothing awaited was posted before the brand's duty ended
        if len(pending) >= NUMPY_SCAN_FROM:
            figures = self._scan_np(self._m_ts[self._m_head:self._m_tail],
                                    self._m_ans[self._m_head:self._m_tail], hi, mid,
                                    on_duty_until, grace)
        else:
            figures = self._scan(pending, hi, mid, on_duty_until, grace)
        backlog, total, f_aw, f_j, f_ans, f_exp, h_aw, h_j, h_ans, h_exp = figures
        full.awaited, full.judged, full.answered, full.expected = f_aw, f_j, f_ans, f_exp
        half.awaited, half.judged, half.answered, half.expected = h_aw, h_j, h_ans, h_exp
        q = self.answers
        while q and q[0][0] < now - r.slow_window_s:
            q.popleft()
        p90 = _quantile(list(map(_SECOND, q)), 0.9) if len(q) >= MIN_P90_ANSWERS else 0.0
        return backlog, total, p90, len(q), [full, half]

    # ------------------------------------------------------------------ pending's arrays
    def _mirror_sync(self) -> None:
        """Build the arrays of `pending` anew (at the first measure, after load_state, or when
        `pending` was replaced)."""
        pending = self.pending
        n = len(pending)
        self._m_ts = np.empty(max(64, 2 * n))
        self._m_ans = np.empty(len(self._m_ts))
        self._m_ts[:n] = np.fromiter(map(_SECOND, pending), np.float64, n)
        self._m_ans[:n] = np.array(list(map(_THIRD, pending)), dtype=np.float64)  # None: nan
        self._m_head, self._m_tail, self._m_base = 0, n, 0
        self._m_pos = {id(rec): i for i, rec in enumerate(pending)}
        self._m_of = pending

    def _mirror_push(self, rec: list[Any]) -> None:
        """`rec` was appended to `pending`."""
        i = self._m_tail
        if i == len(self._m_ts):  # full: move the live part to the front, twice as large
            head, n = self._m_head, i - self._m_head
            size = max(64, 2 * n)
            for name in ("_m_ts", "_m_ans"):
                old = getattr(self, name)
                new = old if size <= len(old) else np.empty(size)
                new[:n] = old[head:i]
                setattr(self, name, new)
            self._m_base += head
            self._m_head, i = 0, n
        self._m_ts[i] = rec[1]
        self._m_ans[i] = math.nan if rec[2] is None else rec[2]
        self._m_pos[id(rec)] = self._m_base + i
        self._m_tail = i + 1

    def _mirror_pop(self, rec: list[Any]) -> None:
        """`rec` was popped from the front of `pending`."""
        del self._m_pos[id(rec)]
        self._m_head += 1

    def _scan(self, pending: Any, hi: float, mid: float, on_duty_until: float,
              grace: float) -> tuple[int, int, int, int, int, float, int, int, int, float]:
        """The backlog window's figures, mention by mention: (backlog, awaited, then awaited,
        judged, answered and expected answers of the whole window, then of its newest half)."""
        # the figures of both windows as local sums (same additions, same order), and
        # usual_answered inlined: a slot's usable-from time and share are looked up once per
        # run of mentions in it (pending is in event-time order, up to lateness)
        backlog = total = f_aw = f_j = f_ans = h_aw = h_j = h_ans = 0
        f_exp = h_exp = 0.0
        slot_n, slot_a, slot_first = self.slot_n, self.slot_a, self.slot_first
        slot_lo = slot_hi = 0.0  # the current slot's bounds (none yet)
        first: float | None = None
        p = 0.0
        for _, ts, answered in pending:
            if ts > hi:
                break  # ordered by arrival (event time, up to lateness)
            if ts > on_duty_until:
                continue  # the brand has not been active for a full grace period since
            total += 1
            late_answer = answered is None or answered > ts + grace
            if late_answer:
                backlog += 1
            if not (slot_lo <= ts < slot_hi):  # another slot (exact: its bounds are integers)
                idx = int(ts // SLOT_S)
                slot_lo, slot_hi = idx * SLOT_S, (idx + 1) * SLOT_S
                k = idx % SLOTS
                n = slot_n[k]
                first = None if n < MIN_SLOT_MENTIONS else slot_first[k]
                if first is not None:
                    p = slot_a[k] / n
            if first is None or ts - first < SLOT_HISTORY_S:  # unusable: awaited, not judged
                f_aw += 1
                if ts >= mid:
                    h_aw += 1
                continue
            f_aw += 1
            f_j += 1
            f_exp += p
            if not late_answer:
                f_ans += 1
            if ts >= mid:
                h_aw += 1
                h_j += 1
                h_exp += p
                if not late_answer:
                    h_ans += 1
        return backlog, total, f_aw, f_j, f_ans, f_exp, h_aw, h_j, h_ans, h_exp

    def _scan_np(self, ts: np.ndarray, answered: np.ndarray, hi: float, mid: float,
                 on_duty_until: float, grace: float
                 ) -> tuple[int, int, int, int, int, float, int, int, int, float]:
        """:meth:`_scan` with numpy, on `pending`'s arrays (event times, answer times or nan;
        a long backlog: the per-mention loop costs more than these few array operations): the
        same comparisons element by element, the same counts, and the expected answers as
        sequential sums in deque order (``add.accumulate``), so bit for bit the same floats."""
        over = np.flatnonzero(ts > hi)
        if len(over):  # ordered by arrival: stop at the first too young
            j = int(over[0])
            ts, answered = ts[:j], answered[:j]
        counted = ts <= on_duty_until  # the brand has been active for a full grace period since
        if not counted.all():
            ts, answered = ts[counted], answered[counted]
        total = len(ts)
        answered_in_time = answered <= ts + grace  # nan (unanswered) compares False
        backlog = total - int(np.count_nonzero(answered_in_time))
        k = ((ts // SLOT_S) % SLOTS).astype(np.intp)
        slot_n = np.array(self.slot_n, dtype=np.float64)
        slot_first = np.array(self.slot_first, dtype=np.float64)  # None: nan
        usable = (slot_n >= MIN_SLOT_MENTIONS) & ~np.isnan(slot_first)
        share = np.array(self.slot_a, dtype=np.float64) / np.where(usable, slot_n, 1.0)
        judged = usable[k] & ~(ts - slot_first[k] < SLOT_HISTORY_S)
        newer = ts >= mid
        h_judged = judged & newer
        f_p, h_p = share[k[judged]], share[k[h_judged]]
        return (backlog, total, total, len(f_p),
                int(np.count_nonzero(judged & answered_in_time)),
                float(np.add.accumulate(f_p)[-1]) if len(f_p) else 0.0,
                int(np.count_nonzero(newer)), len(h_p),
                int(np.count_nonzero(h_judged & answered_in_time)),
                float(np.add.accumulate(h_p)[-1]) if len(h_p) else 0.0)

    def _tick(self, t: float) -> list[Alert]:
        r = self.r
        end = t + self.d.bucket_s
        backlog, total, p90, n_answers, windows = self.measure(end)
        share = backlog / total if total else 0.0
        self.backlog, self.share, self.p90 = backlog, share, p90
        on_duty = self.last_own is not None and end - self.last_own <= r.slow_grace_s
        dropped = [w for w in windows if w.dropped(r.slow_answered_ratio)]
        slow_backlog = on_duty and backlog >= r.slow_max_backlog and bool(dropped)
        # the p90 is judged only where the brand usually answers the mentions of its window
        # (closing time: the answers of the last hour are the stragglers of the queue)
        usual_p90 = self.usual_answers(end - r.slow_window_s) if p90 >= r.slow_max_p90_s else 0.0
        slow_wait = p90 >= r.slow_max_p90_s and usual_p90 >= MIN_P90_ANSWERS
        signal = float(slow_backlog) + float(slow_wait)
        tr = self.tracker.step(t, watch=signal, crisis=0.0)
        # learn the usual answers outside incidents (bounded freeze, as the crisis baselines)
        self.frozen = 0 if self.tracker.level == "normal" else self.frozen + 1
        if self.frozen == 0 or self.frozen * self.d.bucket_s > self.d.freeze_max_s:
            for rec in self.expired:
                self.learn(rec[1], rec[2] is not None and rec[2] <= rec[1] + r.slow_grace_s)
        self.expired.clear()
        if not tr.update:
            return []
        w = (dropped or windows)[0]
        usual = 1.0 - w.expected / w.judged if w.judged else 0.0
        oldest = [rec[0] for rec in list(self.late)[:10] + list(self.pending)[:10]
                  if rec[2] is None][:10]
        evidence = {
            "backlog": backlog, "awaited": total, "unanswered_share": round(share, 4),
            "usual_unanswered_share": round(usual, 4), "p90_wait_s": round(p90, 1),
            "answered": w.answered, "expected_answers": round(w.expected, 1),
            "judged": w.judged, "judged_window_s": r.slow_window_s // (1 + (w is windows[1])),
            "answers_in_window": n_answers, "usual_answers_p90_window": round(usual_p90, 1),
            "waiting_total": len(self.index), "waiting_limit": r.slow_max_waiting,
            "waiting_dropped": self.waiting_dropped,
            "limits": {"backlog": r.slow_max_backlog, "answered_ratio": r.slow_answered_ratio,
                       "p90_wait_s": r.slow_max_p90_s},
            "reasons": [x for x, on in (("backlog", slow_backlog), ("p90_wait", slow_wait)) if on],
        }
        severity = "high" if signal >= 2 else "medium" if tr.update != "resolved" else "low"
        summary = (f"{self.brand}: slow answers {tr.update} — {backlog} negative mentions "
                   f"unanswered after {r.slow_grace_s // 60} min ({w.answered} answered vs "
                   f"{w.expected:.0f} usually), p90 wait {p90 / 60:.0f} min")
        return [transition_alert(
            tr, brand=self.brand, kind="slow_response", severity=severity, t=t,
            bucket_s=self.d.bucket_s, observed=backlog, expected=usual * total,
            score=signal, summary=summary, evidence=evidence, samples=oldest,
        )]

    # ------------------------------------------------------------------ metrics & state
    def gauges(self) -> dict[str, float]:
        """Current figures for metrics."""
        return {"response_backlog": float(self.backlog), "response_p90_seconds": self.p90,
                "unanswered_share": self.share, "response_waiting": float(len(self.index))}

    def drain_waits(self) -> list[float]:
        """Times to first answer since the last call (for the metrics histogram)."""
        out, self.waits_s = self.waits_s, []
        return out

    def drain_dropped(self) -> int:
        """Awaited mentions dropped (``slow_max_waiting`` reached) since the last call."""
        n, self._dropped_unread = self._dropped_unread, 0
        return n

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able)."""
        return {
            "last_own": self.last_own, "late": [list(x) for x in self.late],
            "pending": [list(x) for x in self.pending],
            "answers": [list(a) for a in self.answers],
            "slot_n": self.slot_n, "slot_a": self.slot_a, "slot_t": self.slot_t,
            "slot_first": self.slot_first, "expired": [list(x) for x in self.expired],
            "frozen": self.frozen, "resumed": self.resumed,
            "ticker": self.ticker.to_state(), "tracker": self.tracker.to_state(),
            "backlog": self.backlog, "share": self.share, "p90": self.p90,
            "waiting_dropped": self.waiting_dropped,
        }

    def load_state(self, s: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self.last_own = s["last_own"]
        self.late = deque(list(x) for x in s["late"])
        self.pending = deque(list(x) for x in s["pending"])
        self.index = {x[0]: x for x in (*self.late, *self.pending)}
        self._pending_low = min((x[1] for x in self.pending), default=math.inf)
        self.answers = deque((a, w) for a, w in s["answers"])
        # snapshots from before the per-slot learning start without history
        self.slot_n = list(s.get("slot_n", [0.0] * SLOTS))
        self.slot_a = list(s.get("slot_a", [0.0] * SLOTS))
        self.slot_t = list(s.get("slot_t", [0.0] * SLOTS))
        self.slot_first = list(s.get("slot_first", [None] * SLOTS))
        self.expired = [list(x) for x in s.get("expired", [])]
        self.frozen = s["frozen"]
        self.resumed = s["resumed"]
        self.ticker.load_state(s["ticker"])
        self.tracker.load_state(s["tracker"])
        self.backlog, self.share, self.p90 = s["backlog"], s["share"], s["p90"]
        self.waiting_dropped = s.get("waiting_dropped", 0)  # older snapshots: none counted
