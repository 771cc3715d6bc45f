"""Hijacked brand account: the account's own posts stop looking like the account.

:class:`HijackDetector` learns how the brand account posts, from its own posts only (kind
``own_post``, or any post whose author is one of the brand's handles, replies included):

* **client app** (``source``): counts, seeded with the brand's ``known_sources``;
* **link domains**: the brand's ``allowed_link_domains`` (and sub-domains), plus domains it
  has linked to at least twice; Twitter's own hosts are always fine;
* **hour of day** (UTC hour histogram; the offset of the brand's local time does not matter for a
  histogram), smoothed over neighbouring hours;
* **language** and **kind** (scheduled post / reply / other post).

Each own post gets one surprise per signal, in bits (``-log2`` of the smoothed probability,
capped), and a signal *fires* when the post is rarer than 1 in 50 on it (an unknown link domain
always fires). Hours, languages and kinds need ``hijack_warmup_posts`` posts of history first;
sources and domains count from the start when the brand's settings seed them. A post is
**anomalous** only when at least two signals fire (a new partner link or a community manager
posting from a phone alone is not a hijack) and it is not **vouched** for by its links (a post
whose links all go to the brand's ``allowed_link_domains``: the team's crisis statements at
night from a phone, or posts from a new publishing tool, link to the brand's site; a hijacker's
scam links do not; a link-less post is never vouched for); the **hijack score** is the sum of the surprises
of the anomalous posts of the last ``hijack_window_s``. At ``hijack_score`` (16 bits by default:
a post from a new app with an unknown link and an unusual kind, or two posts with two signals)
a ``hijack`` incident opens (state crisis), one per episode (incident tracker, cool-down).

Cost: nothing for mentions that are not own posts (their detector set does not call it); own
posts' links are read by :func:`~pipeline.risks._base.link_domains`. Memory: bounded dictionaries (counts halve past
``MAX_HISTORY`` posts, so the profile follows the account's drift).

Examples
--------
>>> from pipeline.settings import BrandConfig, DetectionSettings
>>> from pipeline.risks._testing import post
>>> cfg = BrandConfig(name="acme", handles=["acme"], known_sources=["Sprinklr"],
...                   allowed_link_domains=["acme.com"])
>>> det = HijackDetector("acme", cfg, DetectionSettings())
>>> det.score_post(post("Our new store https://acme.com/s", source="Sprinklr", hour=10))[1]
{}
>>> sorted(det.score_post(post("Free ETH https://acme-rewards.xyz", source="IFTTT", hour=3))[1])
['domain', 'source']
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from pipeline.risks._base import (
    StreamDetector, Ticker, allowed_domains, domain_allowed, link_domains, own_handles, tracker,
    transition_alert,
)
from pipeline.schemas import Alert, Mention
from pipeline.settings import BrandConfig, DetectionSettings
from pipeline.text import _domain

#: Pseudo-count given to each configured known source.
SEED_COUNT = 25.0
#: Own posts of history kept at full weight; past it every count halves.
MAX_HISTORY = 4000.0
#: A signal fires below this smoothed probability.
RARE_P = 0.02
#: Caps of each signal's surprise (bits): how much one signal can weigh.
CAPS = {"source": 8.0, "domain": 6.0, "hour": 8.0, "lang": 5.0, "kind": 4.0}
#: Distinct keys kept per categorical signal.
MAX_KEYS = 64


def _rare(counts: dict[str, float], key: str, total: float) -> float:
    """Smoothed probability of ``key`` among ``counts`` (add-1/2)."""
    return (counts.get(key, 0.0) + 0.5) / (total + 0.5 * (len(counts) + 1))


def _bits(p: float, cap: float) -> float:
    return min(cap, -math.log2(max(p, 1e-12)))


def _kind(m: Mention) -> str:
    if m.kind == "own_post":
        return "post"
    return "reply" if m.in_reply_to or m.kind == "reply" else m.kind


class HijackDetector(StreamDetector):
    """Per-brand hijacked-account detector (see the module docstring)."""

    name = "hijack"
    sees_others = False  # only own posts are learned and scored

    def __init__(self, brand: str, config: BrandConfig | None, detection: DetectionSettings) -> None:
        r = detection.risks
        self.brand = brand
        self.d = detection
        self.r = r
        self.handles = self.brand_handles = own_handles(config)
        self.allowed = allowed_domains(config)
        self.seeded_sources = bool(config and config.known_sources)
        self.sources: dict[str, float] = {s: SEED_COUNT for s in (config.known_sources if config else [])}
        self.n_sources = float(sum(self.sources.values()))
        self.domains: dict[str, float] = {}
        self.langs: dict[str, float] = {}
        self.kinds: dict[str, float] = {}
        self.hours = [0.0] * 24
        self.n = 0.0  # own posts learned (decayed)
        self.anomalous: deque[tuple[float, float]] = deque()  # (ts, score) in the window
        self.evidence_posts: deque[tuple[float, dict[str, Any]]] = deque(maxlen=10)
        self.ticker = Ticker(detection.bucket_s)
        self.tracker = tracker(brand, "hijack", detection, r.hijack_score, r.hijack_score)
        self.score = 0.0
        self.pending_signals = 0  # anomalous own posts since metrics last looked

    # ------------------------------------------------------------------ scoring
    def is_own(self, m: Mention) -> bool:
        """An own post of the brand (its kind, or one of its handles wrote it)."""
        return m.kind == "own_post" or m.author.handle.lower() in self.handles

    def score_post(self, m: Mention, lang: str | None = None) -> tuple[float, dict[str, float], list[str]]:
        """Surprise of one own post: total bits of the firing signals, the signals, its domains."""
        warm = self.n >= self.r.hijack_warmup_posts
        fired: dict[str, float] = {}
        src = m.source
        if src and (warm or self.seeded_sources):
            p = _rare(self.sources, src, self.n_sources)
            if p < RARE_P:
                fired["source"] = _bits(p, CAPS["source"])
        doms = list(link_domains(m.text)) if ("http" in m.text or "www." in m.text) else []
        if m.url:
            host = _domain(m.url)
            if host and host not in doms:
                doms.append(host)
        if doms and (warm or self.allowed):
            unknown = [d for d in doms if not domain_allowed(d, self.allowed)
                       and self.domains.get(d, 0.0) < 2.0]
            if unknown:
                fired["domain"] = CAPS["domain"]
        if warm:
            h = int(m.ts // 3600) % 24
            hs = self.hours
            p_h = (hs[h] + 0.5 * (hs[h - 1] + hs[(h + 1) % 24]) + 0.5) / (2.0 * self.n + 12.0)
            if p_h < RARE_P:
                fired["hour"] = _bits(p_h, CAPS["hour"])
            lg = lang or m.lang
            if lg:
                p = _rare(self.langs, lg, self.n)
                if p < RARE_P:
                    fired["lang"] = _bits(p, CAPS["lang"])
            p = _rare(self.kinds, _kind(m), self.n)
            if p < RARE_P:
                fired["kind"] = _bits(p, CAPS["kind"])
        return sum(fired.values()), fired, doms

    def learn_post(self, m: Mention, domains: list[str], lang: str | None = None) -> None:
        """Add one own post to the account's profile."""
        if self.n >= MAX_HISTORY:
            self._halve()
        self.n += 1.0
        self.hours[int(m.ts // 3600) % 24] += 1.0
        if m.source:
            _bump(self.sources, m.source)
            self.n_sources += 1.0
        lg = lang or m.lang
        if lg:
            _bump(self.langs, lg)
        _bump(self.kinds, _kind(m))
        for d in domains:
            _bump(self.domains, d)

    def _halve(self) -> None:
        self.n /= 2.0
        self.n_sources /= 2.0
        self.hours = [h / 2.0 for h in self.hours]
        for table in (self.sources, self.domains, self.langs, self.kinds):
            for k in list(table):
                table[k] /= 2.0

    # ------------------------------------------------------------------ stream
    def see(self, m: Mention, ts: float, own: bool, handle: str | None, sentiment: Any,
            alerts: list[Alert]) -> None:
        """Score and learn one own post (see :class:`~pipeline.risks._base.StreamDetector`)."""
        lang = getattr(sentiment, "lang", None)
        lang = None if lang in (None, "und") else lang
        score, fired, doms = self.score_post(m, lang)
        # a post whose links all go to the brand's own domains vouches for itself
        vouched = bool(doms) and all(domain_allowed(d, self.allowed) for d in doms)
        if len(fired) >= 2 and not vouched:
            self.anomalous.append((ts, score))
            self.pending_signals += 1
            self.evidence_posts.append((ts, {
                "id": m.id, "at": m.created_at.isoformat(), "handle": m.author.handle,
                "source": m.source, "domains": doms[:5], "hour_utc": int(ts // 3600) % 24,
                "lang": m.lang or lang, "kind": _kind(m), "text": m.text[:200],
                "signals": {k: round(v, 2) for k, v in sorted(fired.items())},
            }))
        if self.tracker.level == "normal":
            self.learn_post(m, doms, lang)

    def window_score(self, now: float) -> float:
        """Sum of the surprises of the anomalous own posts in the window ending at ``now``."""
        q = self.anomalous
        cutoff = now - self.r.hijack_window_s
        while q and q[0][0] < cutoff:
            q.popleft()
        return sum(s for _, s in q)

    def _tick(self, t: float) -> list[Alert]:
        end = t + self.d.bucket_s
        score = self.window_score(end)
        self.score = score
        tr = self.tracker.step(t, watch=score, crisis=score)
        if not tr.update:
            return []
        cutoff = end - self.r.hijack_window_s
        recent = [p for ts, p in self.evidence_posts if ts >= cutoff]
        n_posts = len(self.anomalous)
        signals = sorted({k for p in recent for k in p["signals"]})
        severity = "critical" if (len(signals) >= 3 or n_posts >= 2) else "high"
        evidence = {
            "hijack_score": round(score, 2),
            "threshold": self.r.hijack_score,
            "anomalous_posts": n_posts,
            "signals": signals,
            "posts": recent,
            "usual_sources": _top(self.sources, 5),
            "usual_domains": sorted(self.allowed)[:10] + _top(self.domains, 5),
            "usual_hours_utc": sorted(range(24), key=lambda h: -self.hours[h])[:6],
            "usual_langs": _top(self.langs, 3),
            "own_posts_learned": round(self.n),
        }
        handles = sorted({p["handle"] for p in recent})
        summary = (f"{self.brand}: possible hijack of @{', @'.join(handles) or '?'} {tr.update} — "
                   f"{n_posts} anomalous own post(s) in {self.r.hijack_window_s // 60} min "
                   f"({', '.join(signals) or 'no signal now'})")
        return [transition_alert(
            tr, brand=self.brand, kind="hijack", severity=severity, t=t, bucket_s=self.d.bucket_s,
            observed=n_posts, expected=0.0, score=score, summary=summary, evidence=evidence,
            samples=[p["id"] for p in recent],
        )]

    # ------------------------------------------------------------------ metrics & state
    def gauges(self) -> dict[str, float]:
        """Current figures for metrics."""
        return {"hijack_score": self.score}

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able)."""
        return {
            "sources": self.sources, "n_sources": self.n_sources, "domains": self.domains,
            "langs": self.langs, "kinds": self.kinds, "hours": self.hours, "n": self.n,
            "anomalous": [list(x) for x in self.anomalous],
            "evidence_posts": [[ts, p] for ts, p in self.evidence_posts], "ticker": self.ticker.to_state(),
            "tracker": self.tracker.to_state(), "score": self.score,
        }

    def load_state(self, s: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self.sources = dict(s["sources"])
        self.n_sources = s["n_sources"]
        self.domains = dict(s["domains"])
        self.langs = dict(s["langs"])
        self.kinds = dict(s["kinds"])
        self.hours = list(s["hours"])
        self.n = s["n"]
        self.anomalous = deque((a, b) for a, b in s["anomalous"])
        self.evidence_posts = deque(((ts, p) for ts, p in s["evidence_posts"]), maxlen=10)
        self.ticker.load_state(s["ticker"])
        self.tracker.load_state(s["tracker"])
        self.score = s["score"]


def _bump(table: dict[str, float], key: str) -> None:
    if key in table or len(table) < MAX_KEYS:
        table[key] = table.get(key, 0.0) + 1.0
    else:  # full: replace the rarest key (bounded memory)
        rare = min(table, key=table.__getitem__)
        del table[rare]
        table[key] = 1.0


def _top(table: dict[str, float], k: int) -> list[str]:
    return [key for key, _ in sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
