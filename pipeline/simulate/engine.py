"""The simulation engine: baseline streams per brand, own posts, brand replies, scenarios.

Generation is lazy and chunked (15 event-minutes at a time, vectorised with numpy inside a
chunk), deterministic for a seed, and strictly ordered by event time across brands.

Examples
--------
>>> from datetime import datetime, timezone
>>> cfg = SimConfig(start=datetime(2026, 1, 6, 9, tzinfo=timezone.utc), duration_s=600,
...                 scenarios=[], seed=1)
>>> mentions, truth = generate(cfg)
>>> rows = list(mentions)
>>> truth, sorted({r["brand"] for r in rows})
([], ['acme', 'globex', 'nordair'])
>>> all(a["created_at"] <= b["created_at"] for a, b in zip(rows, rows[1:]))
True
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from pipeline.settings import BrandConfig
from pipeline.simulate.authors import AuthorPool, make_author
from pipeline.simulate.brands import (
    DEMO_BRANDS,
    BrandProfile,
    local_hour,
    profile_for,
    seasonal_rate,
    support_delay,
)
from pipeline.simulate.clock import iso_utc, parse_ts
from pipeline.simulate.records import NEG, NEU, POS, Rec
from pipeline.simulate.scenarios import SCENARIOS, Scenario, ScenarioSpec
from pipeline.simulate.texts import BRAND_REPLY, OWN_POST, SENTIMENTS, Renderer

CUSTOMER_SOURCES = ("Twitter for iPhone", "Twitter for Android", "Twitter Web App", "Twitter for iPad")
SOURCE_P = (0.45, 0.35, 0.17, 0.03)
KINDS = ("mention", "reply", "quote", "repost")
KIND_P = (0.72, 0.10, 0.06, 0.12)
TWEPOCH_MS = 1_288_834_974_657
CHUNK_S = 900.0


@dataclass
class SimConfig:
    """What to simulate.

    Parameters
    ----------
    start
        Event-time start of the stream (aware datetime, or naive = UTC).
    duration_s
        Event-time length of the stream (seconds).
    scenarios
        Scenario names from :data:`~pipeline.simulate.scenarios.SCENARIOS`, spec strings
        (``"crisis:acme@30m*8"``, see :meth:`ScenarioSpec.parse`) or :class:`ScenarioSpec`.
        Offsets are relative to ``start``.
    brands
        Brands to simulate; None = :data:`~pipeline.simulate.brands.DEMO_BRANDS`.
    profiles
        Per-brand :class:`~pipeline.simulate.brands.BrandProfile` overrides.
    seed
        Everything is deterministic for a seed.
    rate_scale
        Multiplies every brand's base rate (and so the scenario volumes built on it).
    history_s
        The first ``history_s`` event seconds are warm-up history: a
        :class:`~pipeline.simulate.pacing.Pacer` releases them as fast as possible.
    step_s
        Resolution of the rate curve (event seconds).
    annotate
        Add a ``"sim": {"sentiment", "scenario"}`` field to each record (ignored by the
        ``Mention`` schema; useful to score sentiment models and detectors).
    """

    start: datetime = field(default_factory=lambda: datetime(2026, 1, 6, 6, tzinfo=timezone.utc))
    duration_s: float = 6 * 3600.0
    scenarios: list[str | ScenarioSpec] = field(default_factory=list)
    brands: list[BrandConfig] | None = None
    profiles: dict[str, BrandProfile] | None = None
    seed: int = 0
    rate_scale: float = 1.0
    history_s: float = 0.0
    step_s: float = 10.0
    annotate: bool = False

    @property
    def start_ts(self) -> float:
        """``start`` in epoch seconds."""
        return parse_ts(self.start)

    @property
    def live_from_ts(self) -> float:
        """Epoch seconds where live pacing starts (``start + history_s``)."""
        return self.start_ts + self.history_s


class BrandState:
    """Everything the engine keeps for one brand (scenarios read it)."""

    def __init__(self, idx: int, cfg: BrandConfig, profile: BrandProfile, world: World):
        self.idx = idx
        self.cfg = cfg
        self.name = cfg.name
        self.profile = profile
        ss = np.random.SeedSequence([world.seed, 1000 + idx])
        pool_ss, vol_ss, txt_ss, emit_ss = ss.spawn(4)
        self.vol_rng = np.random.default_rng(vol_ss)
        self.r = random.Random(int(txt_ss.generate_state(1)[0]))
        self.er = random.Random(int(emit_ss.generate_state(1)[0]))
        self.pool = AuthorPool(
            cfg.name, profile.authors, profile.lang_mix, world.start, np.random.default_rng(pool_ss),
            id_base=(idx + 1) * 10**10,
        )
        self.text = Renderer(cfg, profile, self.r)
        self.rate_scale = world.rate_scale
        neg, neu, pos = profile.sentiment
        self.sent_cum = np.cumsum(np.array([neg, neu, pos]) / (neg + neu + pos))
        self.kind_cum = np.cumsum(KIND_P)
        self.src_cum = np.cumsum(SOURCE_P)
        langs = list(profile.lang_mix)
        self.main_lang = max(langs, key=lambda k: profile.lang_mix[k])
        self.ar = 0.0
        handles = cfg.handles or [cfg.name]
        names = cfg.display_names or [cfg.name.capitalize()]
        self.accounts: dict[str, dict] = {}
        for i, h in enumerate(handles):
            followers = profile.brand_followers // (1 if i == 0 else 6)
            self.accounts[h] = make_author(
                f"{idx + 1}{i:03d}", h, names[min(i, len(names) - 1)], followers, True,
                world.start - (12 - i) * 365.25 * 86_400,
            )
        self.main = self.accounts[handles[0]]
        support = [h for h in handles if any(k in h for k in ("help", "care", "support"))]
        self.support = self.accounts[support[0]] if support else self.main
        fr = [h for h in handles if h.endswith("_fr")]
        self.fr_account = self.accounts[fr[0]] if fr else self.main
        self.own_ids = {a["id"] for a in self.accounts.values()}
        self.sources = list(cfg.known_sources) or ["Twitter Web App"]
        self.domains = list(cfg.allowed_link_domains) or [f"{cfg.name}.com"]
        self.recent: deque[tuple[str, str, str, int, str | None]] = deque(maxlen=300)
        self.active: list[Scenario] = []
        self.recent_brand: deque[tuple[str, str, str, int, str | None]] = deque(maxlen=40)

    def rate(self, ts: np.ndarray | float) -> np.ndarray:
        """Expected baseline customer mentions per second at ``ts`` (seasonality, no noise)."""
        return seasonal_rate(self.profile, np.asarray(ts, dtype=float)) * self.rate_scale

    def own_account(self, lang: str | None) -> dict:
        """The brand account that posts in ``lang``."""
        return self.fr_account if lang == "fr" else self.main

    def link(self, r: random.Random) -> str:
        """A link to one of the brand's own domains."""
        dom = self.domains[int(r.random() * len(self.domains))]
        slug = r.choice(("news", "offers", "help", "stores", "blog", "app", "new"))
        return f"https://{dom}/{slug}/{r.randrange(100, 9999)}"


class World:
    """The simulated world: brands, accounts, the clock range, and the scenarios in it."""

    def __init__(self, cfg: SimConfig):
        self.cfg = cfg
        self.seed = int(cfg.seed)
        self.start = cfg.start_ts
        self.end = self.start + float(cfg.duration_s)
        self.rate_scale = float(cfg.rate_scale)
        brands = cfg.brands if cfg.brands is not None else DEMO_BRANDS
        if not brands:
            raise ValueError("no brands to simulate")
        self.brands: dict[str, BrandState] = {}
        for i, b in enumerate(brands):
            self.brands[b.name] = BrandState(i, b, profile_for(b, cfg.profiles), self)
        self._next_account = 9 * 10**11
        self.scenarios: list[Scenario] = []
        labels: dict[str, int] = {}
        for j, raw in enumerate(cfg.scenarios):
            spec = raw if isinstance(raw, ScenarioSpec) else ScenarioSpec.parse(raw)
            if spec.name not in SCENARIOS:
                raise ValueError(f"unknown scenario {spec.name!r}; known: {sorted(SCENARIOS)}")
            n = labels.get(spec.name, 0)
            labels[spec.name] = n + 1
            label = spec.name if n == 0 else f"{spec.name}#{n + 1}"
            ss = np.random.SeedSequence([self.seed, 5000 + j])
            self.scenarios.append(SCENARIOS[spec.name](spec, self, label, ss))

    def default_brand(self) -> str:
        """The first watched (non-competitor) brand, the default target of scenarios."""
        for name, b in self.brands.items():
            if not b.cfg.competitor:
                return name
        return next(iter(self.brands))

    def brand(self, name: str) -> BrandState:
        """The state of brand ``name`` (KeyError with the known names otherwise)."""
        try:
            return self.brands[name]
        except KeyError:
            raise KeyError(f"unknown brand {name!r}; known: {sorted(self.brands)}") from None

    def new_account(
        self, handle: str, name: str, followers: int, verified: bool, created_ts: float
    ) -> dict:
        """A fresh account (for scenarios) with a unique id."""
        self._next_account += 1
        return make_author(str(self._next_account), handle, name, followers, verified, created_ts)

    def truth(self) -> list[dict]:
        """Ground truth of every scenario, sorted by start."""
        out = [t for s in self.scenarios for t in s.truth()]
        return sorted(out, key=lambda t: (t["start"], t["brand"], t["scenario"]))

    # ------------------------------------------------------------------ generation
    def _baseline(self, b: BrandState, c0: float, c1: float) -> list[Rec]:
        step = self.cfg.step_s
        steps = np.arange(c0, c1, step)
        m = len(steps)
        rng = b.vol_rng
        rate = b.rate(steps + step / 2)
        for s in self.scenarios:
            if s.brand == b.name and s.start < c1 and s.end > c0:
                f = s.volume_factor(steps + step / 2)
                if f is not None:
                    rate = rate * f
        # slow multiplicative AR(1) wander (30 min memory, ~12% sd) x per-step gamma noise
        rho = math.exp(-step / 1800.0)
        sd = 0.12 * math.sqrt(1 - rho * rho)
        eps = rng.normal(0.0, sd, m).tolist()
        ar = np.empty(m)
        x = b.ar
        for i in range(m):
            x = rho * x + eps[i]
            ar[i] = x
        b.ar = x
        k = b.profile.dispersion
        lam = rate * step * np.exp(ar) * rng.gamma(k, 1.0 / k, m)
        counts = rng.poisson(lam)
        n = int(counts.sum())
        if n == 0:
            return []
        ts = (np.repeat(steps, counts) + rng.random(n) * step).tolist()
        ai = b.pool.draw(n, rng).tolist()
        u = rng.random((4, n))
        sent = np.searchsorted(b.sent_cum, u[0], side="right").clip(0, 2).tolist()
        kind = np.searchsorted(b.kind_cum, u[1], side="right").clip(0, 3).tolist()
        src = np.searchsorted(b.src_cum, u[2], side="right").clip(0, 3).tolist()
        nolang = (u[3] < 0.02).tolist()
        pool, langs, text, name = b.pool, b.pool.langs, b.text, b.name
        out = []
        for j in range(n):
            i = ai[j]
            lang = langs[i]
            kd = KINDS[kind[j]]
            out.append(
                Rec(
                    ts[j], name, kd, "" if kd == "repost" else text.customer(lang, sent[j]),
                    None if nolang[j] else lang, pool.author(i), CUSTOMER_SOURCES[src[j]],
                    sent=sent[j], ref=None if kd == "mention" else kd,
                )
            )
        return out

    def _own_posts(self, b: BrandState, c0: float, c1: float) -> list[Rec]:
        p = b.profile
        off = p.utc_offset_h * 3600.0
        out = []
        for day in range(int((c0 + off) // 86_400), int((c1 + off) // 86_400) + 1):
            rng = np.random.default_rng([self.seed, b.idx, day, 7])
            hours = np.asarray(p.own_post_hours, dtype=float)
            keep = rng.random(len(hours)) < 0.85
            jitter = rng.normal(0.0, 8 * 60.0, len(hours))
            langs = rng.random(len(hours))
            for h, k, jt, ul in zip(hours, keep, jitter, langs):
                ts = day * 86_400.0 - off + h * 3600.0 + jt
                if not (k and c0 <= ts < c1 and self.start <= ts < self.end):
                    continue
                lang = "fr" if ("fr" in p.lang_mix and ul < p.lang_mix["fr"]) else "en"
                if "en" not in p.lang_mix and "fr" in p.lang_mix:
                    lang = "fr"
                link = b.link(b.r)
                text = b.text.pick(OWN_POST[lang], lang, link=link)
                src = b.sources[0] if b.r.random() < 0.8 else b.sources[-1]
                out.append(
                    Rec(float(ts), b.name, "own_post", text, lang, b.own_account(lang), src,
                        url=link, sent=POS if b.r.random() < 0.5 else NEU, answerable=False)
                )
        return out

    def _brand_reply(self, b: BrandState, rec: Rec) -> Rec | None:
        p = b.profile
        r = b.er
        prob, slow = p.reply_prob[rec.sent], 1.0
        for s in b.active:
            if s.start <= rec.ts < s.end:
                pol = s.reply_policy(rec.ts, rec.sent)
                if pol is not None:
                    prob, slow = prob * pol[0], slow * pol[1]
        if r.random() >= prob:
            return None
        delay = p.reply_median_s * math.exp(0.8 * r.gauss(0.0, 1.0)) * slow
        open_h, close_h = p.support_hours
        h = local_hour(p, rec.ts)
        if not (open_h <= h < close_h):
            wait_h = (open_h - h) % 24.0
            delay = wait_h * 3600.0 + 1200.0 * math.exp(0.7 * r.gauss(0.0, 1.0)) * slow
        else:  # the delay runs in support hours: what is left at closing waits for the morning
            delay = support_delay(p, rec.ts, max(delay, 45.0))
        delay = max(delay, 45.0)
        lang = rec.lang or b.main_lang
        tpl = BRAND_REPLY["fr" if lang == "fr" else "en"]
        if rec.sent == POS:
            t = tpl[3]
        elif rec.sent == NEU:
            t = tpl[1] if r.random() < 0.5 else tpl[4]
        else:
            t = tpl[0] if r.random() < 0.6 else tpl[2]
        user = rec.author["handle"]
        first = (rec.author.get("name") or user).split(" ")[0].strip("✨|") or user
        text = b.text.fill(t, lang, user=user, first=first, link=b.link(r),
                           sig=r.choice(("JS", "MK", "AL", "SB", "CL", "TR")))
        return Rec(rec.ts + delay, b.name, "reply", text, lang, b.support, b.sources[0],
                   in_reply_to=rec.id, sent=NEU, answerable=False)

    def run(self) -> Iterator[dict]:
        """All records in event-time order (lazy)."""
        annotate = self.cfg.annotate
        heap: list[tuple[float, int, Rec]] = []
        seq = 0
        counter = 0
        t = self.start
        end = self.end
        brands = list(self.brands.values())
        finalize, follow_ups = self._finalize, self._follow_ups
        push, pop = heapq.heappush, heapq.heappop
        while t < end:
            c1 = min(t + CHUNK_S, end)
            recs: list[Rec] = []
            for b in brands:
                # scenarios that may act on this brand in the chunk (follow-ups come later)
                b.active = [s for s in self.scenarios if s.brand == b.name and s.end > t]
                recs.extend(self._baseline(b, t, c1))
                recs.extend(self._own_posts(b, t, c1))
                for s in b.active:
                    if s.start < c1:
                        recs.extend(s.emit(t, c1))
            recs = [x for x in recs if t <= x.ts < c1]
            recs.sort(key=_ts)
            recs.append(Rec(c1, "", "", "", None, {}, None))  # sentinel: flush the heap to c1
            last = len(recs) - 1
            for k, x in enumerate(recs):
                while heap and (heap[0][0] <= x.ts if k < last else heap[0][0] < c1):
                    rec = pop(heap)[2]
                    counter += 1
                    out = finalize(rec, counter, annotate)
                    if out is not None:
                        for fol in follow_ups(rec):
                            if fol.ts < end:
                                seq += 1
                                push(heap, (fol.ts, seq, fol))
                        yield out
                if k == last:
                    break
                counter += 1
                out = finalize(x, counter, annotate)
                if out is not None:
                    for fol in follow_ups(x):
                        if fol.ts < end:
                            seq += 1
                            push(heap, (fol.ts, seq, fol))
                    yield out
            t = c1

    def _follow_ups(self, rec: Rec) -> list[Rec]:
        b = self.brands[rec.brand]
        out = []
        if rec.answerable and rec.kind != "repost" and rec.author["id"] not in b.own_ids:
            rep = self._brand_reply(b, rec)
            if rep is not None:
                out.append(rep)
        for s in b.active:
            if s.start <= rec.ts < s.end:
                out.extend(s.react(rec))
        return out

    def _finalize(self, rec: Rec, counter: int, annotate: bool) -> dict | None:
        b = self.brands[rec.brand]
        ref = rec.ref
        if ref is not None:
            r = b.er
            if ref == "reply" and b.recent_brand and r.random() < 0.5:
                tgt = b.recent_brand[int(r.random() * len(b.recent_brand))]
            elif b.recent:
                tgt = b.recent[int(r.random() * len(b.recent))]
            else:
                tgt = None
            if tgt is None:
                if ref == "repost":
                    return None
                rec.kind = "mention"
            elif ref == "reply":
                rec.in_reply_to = tgt[0]
            elif ref == "quote":
                rec.url = f"https://x.com/{tgt[1]}/status/{tgt[0]}"
            else:  # repost
                rec.text = f"RT @{tgt[1]}: {tgt[2]}"
                rec.sent = tgt[3]
                rec.lang = tgt[4]
        ms = int(rec.ts * 1000.0)
        rec.id = str(((ms - TWEPOCH_MS) << 22) | (counter & 0x3FFFFF))
        if rec.kind != "repost":
            item = (rec.id, rec.author["handle"], rec.text, rec.sent, rec.lang)
            b.recent.append(item)
            if rec.author["id"] in b.own_ids:
                b.recent_brand.append(item)
        out = {
            "id": rec.id,
            "created_at": iso_utc(rec.ts),
            "brand": rec.brand,
            "kind": rec.kind,
            "text": rec.text,
            "lang": rec.lang,
            "author": rec.author,
            "in_reply_to": rec.in_reply_to,
            "source": rec.source,
            "url": rec.url,
        }
        if annotate:
            out["sim"] = {"sentiment": SENTIMENTS[rec.sent], "scenario": rec.scn}
        return out


def _ts(r: Rec) -> float:
    return r.ts


def generate(cfg: SimConfig) -> tuple[Iterator[dict], list[dict]]:
    """Simulate mentions.

    Parameters
    ----------
    cfg
        What to simulate (:class:`SimConfig`).

    Returns
    -------
    mentions
        Lazy iterator of ``Mention`` wire dicts (orjson-ready; ``created_at`` ISO-8601 UTC with
        ``Z``), in non-decreasing event time, ids unique and increasing.
    truth
        Ground truth of the injected scenarios: dicts ``{"scenario", "brand", "kind", "start",
        "end", "expect", "details"}`` (see :mod:`pipeline.simulate.scenarios`).
    """
    world = World(cfg)
    return world.run(), world.truth()


def demo_config(
    seed: int = 0,
    *,
    speedup: float = 60.0,
    history_s: float = 2 * 3600.0,
    live_s: float = 4 * 3600.0,
    start: datetime | None = None,
    all_scenarios: bool = True,
    annotate: bool = False,
) -> SimConfig:
    """The demo: a fast warm-up history, then live pacing with a scripted crisis early on.

    Timeline (offsets from the live start; at the default 60x speedup one event minute is one
    wall second): ``noise_plateau`` on globex at +10 min, ``crisis`` on acme at +20 min (peak
    +24..+30 min, detected well within the first wall minute), ``launch`` on nordair at +35 min;
    with ``all_scenarios``: ``raid`` on nordair +105 min, ``impostor`` on acme +100 min,
    ``slow_response`` on nordair +130 min, ``hijack`` on acme +170 min (a 3 a.m.-style burst
    from a new source, placed in the live window).

    Parameters
    ----------
    speedup
        Only documents the assumption (event seconds per wall second); pass it to the Pacer.
    history_s
        Warm-up event time generated before the live part (released without pacing).
    live_s
        Event length of the live part.
    start
        Start of the history (default 2026-01-06 07:00 UTC, a Tuesday: live at 09:00 UTC).

    Examples
    --------
    >>> cfg = demo_config()
    >>> cfg.history_s, [s.name for s in cfg.scenarios][:3]
    (7200.0, ['noise_plateau', 'crisis', 'launch'])
    """
    del speedup
    start = start or datetime(2026, 1, 6, 7, tzinfo=timezone.utc)
    h = float(history_s)
    specs = [
        ScenarioSpec("noise_plateau", brand="globex", at_s=h + 10 * 60),
        ScenarioSpec("crisis", brand="acme", at_s=h + 20 * 60),
        ScenarioSpec("launch", brand="nordair", at_s=h + 35 * 60),
    ]
    if all_scenarios:
        specs += [
            ScenarioSpec("raid", brand="nordair", at_s=h + 105 * 60),
            ScenarioSpec("impostor", brand="acme", at_s=h + 100 * 60),
            ScenarioSpec("slow_response", brand="nordair", at_s=h + 130 * 60),
            ScenarioSpec("hijack", brand="acme", at_s=h + 170 * 60, params={"local_hour": None}),
        ]
    return SimConfig(
        start=start, duration_s=h + float(live_s), scenarios=specs, seed=seed, history_s=h,
        annotate=annotate,
    )
