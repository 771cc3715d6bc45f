"""Scripted scenarios with ground truth, and their registry.

A scenario is a class registered under a name; the engine builds it from a
:class:`ScenarioSpec` (brand, start offset, duration, magnitude, params) and calls its hooks:

``volume_factor(ts)``
    multiplies the brand's baseline rate (numpy array of step mid-times -> array or None);
``emit(t0, t1)``
    extra posts in ``[t0, t1)`` (:class:`~pipeline.simulate.records.Rec`);
``react(rec)``
    follow-up posts after an emitted post of the brand inside the window (``rec.id`` is set);
``reply_policy(ts, sent)``
    ``(probability factor, delay factor)`` of the brand's answer to a customer post, or None.

Ground truth, one dict per scenario: ``{"scenario": label, "brand", "kind", "start", "end",
"expect", "details"}`` with ``start``/``end`` ISO-8601 UTC strings. ``kind`` is the alert kind
concerned (``pipeline.schemas.AlertKind``); ``expect`` is either that kind (an alert of this
kind is expected in ``[start, end]``) or ``"no_" + kind`` (none must be raised, e.g. a launch
surge must stay below crisis).

===============  ===============  ==========================================================
name             kind / expect    what is injected
===============  ===============  ==========================================================
crisis           crisis/crisis    5-15x ramped surge, ~78 % negative, high-reach seeds
                                  (>10k followers, many verified) + reposts, shared topic
                                  terms and hashtags (#acmefail, data leak / fuite de données)
launch           crisis/no_crisis happy surge after a product launch (own post + reviewers)
noise_plateau    crisis/no_crisis busy but normal hour (x2, same sentiment mix)
hijack           hijack/hijack    own posts at 3 a.m. local from a new source, scam links
impostor         impostor/...     look-alike accounts (acme_support_official, acrne, Cyrillic
                                  а) answering angry customers with phishing links
raid             raid/raid        near-duplicate angry texts from many young, tiny accounts
slow_response    slow_response/.. the brand stops answering negative mentions for a while
===============  ===============  ==========================================================

Adding one: subclass :class:`Scenario`, set ``name``/``kind``/``expect`` and defaults, override
the hooks you need, decorate with :func:`register`.

Examples
--------
>>> ScenarioSpec.parse("crisis:acme@30m*8")
ScenarioSpec(name='crisis', brand='acme', at_s=1800.0, duration_s=None, magnitude=8.0, params={})
>>> sorted(k for k, v in SCENARIOS.items() if v.__module__ == __name__)
['crisis', 'hijack', 'impostor', 'launch', 'noise_plateau', 'raid', 'slow_response']

Harder variants (legitimate look-alikes of attacks, subtler attacks) are in
:mod:`pipeline.simulate.hard_scenarios`.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pipeline.simulate.authors import make_handle
from pipeline.simulate.brands import local_hour
from pipeline.simulate.clock import iso_utc
from pipeline.simulate.records import NEG, NEU, POS, Rec

if TYPE_CHECKING:
    from pipeline.simulate.engine import BrandState, World

DAY = 86_400.0


@dataclass
class ScenarioSpec:
    """Which scenario, where and how strong. None fields take the scenario's defaults.

    Parameters
    ----------
    name
        Registry name.
    brand
        Target brand (default: the first non-competitor brand).
    at_s
        Start offset from the stream start (event seconds).
    duration_s
        Length of the scenario window (ground truth ``end - start``).
    magnitude
        Scenario strength (peak volume multiple for surges).
    params
        Scenario-specific options (see each class).
    """

    name: str
    brand: str | None = None
    at_s: float | None = None
    duration_s: float | None = None
    magnitude: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> ScenarioSpec:
        """Parse ``name[:brand][@offset][*magnitude][+duration]``; times take s/m/h suffixes.

        >>> ScenarioSpec.parse("launch:nordair@1h+45m")
        ScenarioSpec(name='launch', brand='nordair', at_s=3600.0, duration_s=2700.0, magnitude=None, params={})
        """
        m = re.fullmatch(
            r"\s*([a-z_]+)(?::([\w.-]+))?(?:@([\d.]+[smh]?))?(?:\*([\d.]+))?(?:\+([\d.]+[smh]?))?\s*",
            text,
        )
        if not m:
            raise ValueError(f"bad scenario spec {text!r} (name[:brand][@30m][*8][+40m])")
        name, brand, at, mag, dur = m.groups()
        return cls(
            name=name, brand=brand, at_s=_secs(at), magnitude=float(mag) if mag else None,
            duration_s=_secs(dur),
        )


def _secs(v: str | None) -> float | None:
    if not v:
        return None
    mult = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(v[-1])
    return float(v[:-1]) * mult if mult else float(v)


SCENARIOS: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: make a scenario available by its ``name``."""
    SCENARIOS[cls.name] = cls
    return cls


class Scenario:
    """Base class: window, target brand, seeded randomness, ground truth, no-op hooks."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    expect: ClassVar[str] = ""
    default_at_s: ClassVar[float] = 1800.0
    default_duration_s: ClassVar[float] = 3600.0
    default_magnitude: ClassVar[float] = 1.0
    default_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, spec: ScenarioSpec, world: World, label: str, ss: np.random.SeedSequence):
        self.spec = spec
        self.world = world
        self.label = label
        self.brand = spec.brand or world.default_brand()
        self.b: BrandState = world.brand(self.brand)
        self.rng = np.random.default_rng(ss)
        self.r = random.Random(int(ss.generate_state(2)[1]))
        self.params = {**self.default_params, **spec.params}
        self.magnitude = float(spec.magnitude if spec.magnitude is not None else self.default_magnitude)
        self.duration_s = float(spec.duration_s if spec.duration_s is not None else self.default_duration_s)
        at = spec.at_s if spec.at_s is not None else self.default_at_s
        self.start = world.start + float(at)
        self.setup()
        self.end = self.start + self.duration_s

    def setup(self) -> None:
        """Prepare accounts/texts; may move ``self.start`` or change ``self.duration_s``."""

    def details(self) -> dict[str, Any]:
        """Scenario-specific ground-truth details (JSON-able)."""
        return {}

    def truth(self) -> list[dict[str, Any]]:
        """The ground-truth records of this scenario."""
        return [{
            "scenario": self.label,
            "brand": self.brand,
            "kind": self.kind,
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
            "expect": self.expect,
            "details": {
                "start_offset_s": self.start - self.world.start,
                "end_offset_s": self.end - self.world.start,
                "magnitude": self.magnitude,
                **self.details(),
            },
        }]

    def volume_factor(self, ts: np.ndarray) -> np.ndarray | None:
        """Multiplier of the baseline rate at ``ts`` (None: unchanged)."""
        return None

    def emit(self, t0: float, t1: float) -> list[Rec]:
        """Extra posts with ``t0 <= ts < t1``."""
        return []

    def react(self, rec: Rec) -> list[Rec]:
        """Follow-ups of an emitted post of the brand inside the window (later ``ts``)."""
        return []

    def reply_policy(self, ts: float, sent: int) -> tuple[float, float] | None:
        """``(answer probability factor, delay factor)`` for a customer post at ``ts``."""
        return None

    # helpers ----------------------------------------------------------------
    def poisson_times(self, rate_fn, t0: float, t1: float, step: float = 10.0) -> list[float]:
        """Event times in ``[t0, t1) & window`` of a Poisson process with rate ``rate_fn(ts)``/s."""
        a, b = max(t0, self.start), min(t1, self.end)
        if a >= b:
            return []
        steps = np.arange(a, b, step)
        width = np.minimum(step, b - steps)
        counts = self.rng.poisson(np.maximum(rate_fn(steps + width / 2), 0.0) * width)
        n = int(counts.sum())
        return (np.repeat(steps, counts) + self.rng.random(n) * np.repeat(width, counts)).tolist()

    def lang(self) -> str:
        """A language drawn from the brand's mix."""
        mix = self.b.profile.lang_mix
        u, acc = self.r.random(), 0.0
        for k, v in mix.items():
            acc += v
            if u < acc:
                return k
        return self.b.main_lang

    def sentiment(self, probs: tuple[float, float, float]) -> int:
        """A sentiment index drawn from (neg, neu, pos) probabilities."""
        u = self.r.random()
        return NEG if u < probs[0] else (NEU if u < probs[0] + probs[1] else POS)

    def source(self) -> str:
        """A customer client app."""
        u = self.r.random()
        return ("Twitter for iPhone" if u < 0.45 else "Twitter for Android" if u < 0.8
                else "Twitter Web App")

    def influencers(self, n: int, kinds: tuple[str, ...]) -> list[dict]:
        """``n`` high-reach accounts (10k-2M followers, ~half verified) named after ``kinds``."""
        out = []
        for _ in range(n):
            lang = self.lang()
            h, name = make_handle(self.r, lang)
            tag = kinds[int(self.rng.integers(len(kinds)))]
            followers = int(min(10_500 * math.exp(self.rng.exponential(1.6)), 2_500_000))
            out.append(self.world.new_account(
                f"{h[:10]}{tag}"[:15], f"{name} · {tag}", followers,
                bool(self.rng.random() < (0.75 if followers > 100_000 else 0.4)),
                self.world.start - float(self.rng.uniform(3, 14)) * 365.25 * DAY,
            ))
        return out


def surge_shape(ts: np.ndarray, start: float, ramp: float, hold: float, tau: float, end: float) -> np.ndarray:
    """0 before ``start``, linear ramp to 1, plateau, exponential decay (time constant ``tau``).

    >>> surge_shape(np.array([0., 50., 150., 400., 1000.]), 0, 100, 200, 100, 900).round(2).tolist()
    [0.0, 0.5, 1.0, 0.37, 0.0]
    """
    x = np.asarray(ts, dtype=float) - start
    up = np.clip(x / ramp, 0.0, 1.0)
    down = np.exp(-np.maximum(x - ramp - hold, 0.0) / tau)
    return np.where((x >= 0) & (x < end - start), up * down, 0.0)


# ---------------------------------------------------------------------------- topics
TOPICS: dict[str, dict[str, Any]] = {
    "data_leak": {
        "terms": ["data leak", "fuite de données", "passwords", "card details", "hacked"],
        "tags": ["#{b}fail", "#{b}leak"],
        "seed": {
            "en": ["BREAKING: {name} confirms a data leak, customer passwords and card details "
                   "exposed {ctag} {url}",
                   "Thread: what we know about the {name} data leak (and what to do now) {ctag} {url}",
                   "Huge {name} data leak: millions of customer records for sale online {ctag} {url}"],
            "fr": ["URGENT : {name} confirme une fuite de données, mots de passe et cartes "
                   "bancaires exposés {ctag} {url}",
                   "Fuite de données chez {name} : ce que l'on sait {ctag} {url}",
                   "Énorme fuite de données {name}, des millions de comptes clients en vente {ctag} {url}"],
        },
        "en": (
            ["@{h} my card details were in the data leak?! I want answers now {eneg} {ctag}",
             "@{h} data leak and not a single email to customers. disgraceful {eneg} {ctag}",
             "changing all my passwords because of the {name} data leak {eneg} {ctag}",
             "@{h} someone used my card after your data leak. who pays for that? {ctag}",
             "{name} got hacked and they hide it. deleting my account {eneg} {ctag}",
             "@{h} how many customers are hit by the data leak?? {ctag} {eneg}"],
            ["@{h} is it true there was a data leak? should I change my password? {ctag}",
             "reading about the {name} data leak {url} {ctag}",
             "@{h} any statement about the data leak? {eneu}"],
            ["@{h} got your email about the data leak quickly, thanks for being transparent",
             "at least {name} reset everyone's passwords after the data leak {ctag}"],
        ),
        "fr": (
            ["@{h} mes données bancaires dans la fuite de données ?! inadmissible {eneg} {ctag}",
             "@{h} fuite de données et aucun mail aux clients. honteux {eneg} {ctag}",
             "je change tous mes mots de passe à cause de la fuite de données {name} {eneg} {ctag}",
             "@{h} ma carte a été utilisée après votre fuite de données, qui rembourse ? {ctag}",
             "{name} s'est fait pirater et cache tout, je supprime mon compte {eneg} {ctag}"],
            ["@{h} c'est vrai cette fuite de données ? il faut changer son mot de passe ? {ctag}",
             "je lis l'article sur la fuite de données {name} {url} {ctag}",
             "@{h} un communiqué sur la fuite de données ? {eneu}"],
            ["@{h} reçu votre mail sur la fuite de données très vite, merci pour la transparence",
             "au moins {name} a réinitialisé les mots de passe après la fuite {ctag}"],
        ),
    },
    "outage": {
        "terms": ["flights cancelled", "vols annulés", "IT outage", "panne informatique", "stranded"],
        "tags": ["#{b}chaos", "#{b}fail"],
        "seed": {
            "en": ["BREAKING: {name} grounds all flights after a major IT outage, thousands "
                   "stranded {ctag} {url}",
                   "Live: {name} IT outage, all flights cancelled at {city} {ctag} {url}"],
            "fr": ["URGENT : panne informatique géante chez {name}, tous les vols annulés, des "
                   "milliers de passagers bloqués {ctag} {url}",
                   "Direct : vols annulés chez {name} après une panne informatique {ctag} {url}"],
        },
        "en": (
            ["@{h} all flights cancelled and ZERO info. stranded in {city} {eneg} {ctag}",
             "@{h} IT outage is not an excuse, we've been waiting {mins} min {eneg} {ctag}",
             "stranded at {city} airport with my kids because of the {name} IT outage {ctag}",
             "@{h} flights cancelled, hotline dead, app dead. what now?? {eneg} {ctag}",
             "{name} IT outage ruined my holiday {eneg} {ctag}"],
            ["@{h} are flights cancelled today because of the IT outage? {ctag}",
             "any update on the {name} IT outage? {url} {ctag}"],
            ["@{h} crew at {city} handling the IT outage mess really well, thanks",
             "props to the {name} ground staff during the outage {ctag}"],
        ),
        "fr": (
            ["@{h} tous les vols annulés et AUCUNE info. bloqués à {city} {eneg} {ctag}",
             "@{h} panne informatique ou pas, {mins} min d'attente c'est inadmissible {eneg} {ctag}",
             "bloqué à l'aéroport de {city} avec les enfants à cause de la panne {name} {ctag}",
             "@{h} vols annulés, hotline morte, appli morte. on fait quoi ?? {eneg} {ctag}",
             "la panne informatique {name} a gâché nos vacances {eneg} {ctag}"],
            ["@{h} les vols sont annulés aujourd'hui à cause de la panne informatique ? {ctag}",
             "des nouvelles de la panne informatique {name} ? {url} {ctag}"],
            ["@{h} le personnel de {city} gère super bien la panne, merci",
             "bravo au personnel au sol {name} pendant la panne {ctag}"],
        ),
    },
}

LAUNCH = {
    "seed": {
        "en": ["Hands-on with the new {prod}: fast, beautiful, and cheaper than expected {ptag} {url}",
               "Review: {prod} is the best thing {name} has shipped in years {ptag} {url}"],
        "fr": ["Prise en main du nouveau {prod} : rapide, beau, et moins cher que prévu {ptag} {url}",
               "Test : le {prod} est ce que {name} a fait de mieux depuis des années {ptag} {url}"],
    },
    "en": (
        ["@{h} the {prod} launch page keeps crashing {eneg}",
         "@{h} {prod} sold out in 5 minutes, again {eneg}"],
        ["@{h} when does the {prod} ship to {city}? {ptag}",
         "watching the {prod} launch {url} {ptag}",
         "@{h} is the {prod} worth it? {eneu}"],
        ["just ordered the {prod}!! {epos} {ptag}",
         "@{h} the {prod} looks amazing {epos} {ptag}",
         "{prod} unboxing later today, so hyped {epos} {ptag}",
         "@{h} congrats on the {prod} launch, well done {epos}",
         "the {prod} is everything I wanted {epos} {ptag}"],
    ),
    "fr": (
        ["@{h} le site du {prod} plante sans arrêt {eneg}",
         "@{h} {prod} en rupture en 5 minutes, encore {eneg}"],
        ["@{h} le {prod} arrive quand à {city} ? {ptag}",
         "je regarde le lancement du {prod} {url} {ptag}",
         "@{h} le {prod} vaut le coup ? {eneu}"],
        ["je viens de commander le {prod} !! {epos} {ptag}",
         "@{h} le {prod} est magnifique {epos} {ptag}",
         "unboxing du {prod} ce soir, trop hâte {epos} {ptag}",
         "@{h} bravo pour le lancement du {prod} {epos}",
         "le {prod} c'est exactement ce que j'attendais {epos} {ptag}"],
    ),
    "own": {
        "en": "It's here ✨ Meet the {prod}, available today {ptag} {link}",
        "fr": "Le voici ✨ Découvrez le {prod}, disponible dès aujourd'hui {ptag} {link}",
    },
}


# ---------------------------------------------------------------------------- surges
class _Surge(Scenario):
    """Extra posts on top of the baseline, following :func:`surge_shape`."""

    ramp_s: ClassVar[float] = 240.0
    hold_s: ClassVar[float] = 360.0
    sentiment_p: ClassVar[tuple[float, float, float]] = (0.2, 0.5, 0.3)
    seed_share: ClassVar[float] = 0.1
    repost_share: ClassVar[float] = 0.25
    pool_high_reach_share: ClassVar[float] = 0.1

    def setup(self) -> None:
        decay = max(self.duration_s - self.ramp_s - self.hold_s, 60.0)
        self.tau = decay / 3.0
        self.ref_rate = float(self.b.rate(self.start))
        self.seeds: list[tuple[str, str, str]] = []  # (handle, text, lang) of high-reach posts
        self.hr_accounts = self.influencers(int(self.params.get("influencers", 25)),
                                            self.influencer_kinds)
        self.extra: dict[str, str] = {}

    influencer_kinds: ClassVar[tuple[str, ...]] = ("news", "media", "info")

    def shape(self, ts: np.ndarray) -> np.ndarray:
        return surge_shape(ts, self.start, self.ramp_s, self.hold_s, self.tau, self.end)

    def extra_rate(self, ts: np.ndarray) -> np.ndarray:
        return self.ref_rate * (self.magnitude - 1.0) * self.shape(ts)

    def texts(self, lang: str) -> tuple[list[str], list[str], list[str]]:
        raise NotImplementedError

    def seed_texts(self, lang: str) -> list[str]:
        raise NotImplementedError

    def emit(self, t0: float, t1: float) -> list[Rec]:
        out = []
        b, r = self.b, self.r
        pool = b.pool
        hr = pool.high_reach
        for ts in self.poisson_times(self.extra_rate, t0, t1):
            u = r.random()
            lang = self.lang()
            if u < self.seed_share or not self.seeds:
                a = self.hr_accounts[int(r.random() * len(self.hr_accounts))]
                text = b.text.pick(self.seed_texts(lang), lang, **self.extra)
                self.seeds.append((a["handle"], text, lang))
                sent = self.seed_sentiment
                out.append(Rec(ts, b.name, "mention", text, lang, a, "Twitter Web App", sent=sent,
                               scn=self.label))
                continue
            if u < self.seed_share + self.repost_share:
                h, text, slang = self.seeds[int(r.random() * len(self.seeds))]
                a = pool.author(int(pool.draw(1, self.rng)[0]))
                out.append(Rec(ts, b.name, "repost", f"RT @{h}: {text}", slang, a, self.source(),
                               sent=self.seed_sentiment, scn=self.label))
                continue
            if len(hr) and r.random() < self.pool_high_reach_share:
                a = pool.author(int(hr[int(r.random() * len(hr))]))
            else:
                a = pool.author(int(pool.draw(1, self.rng)[0]))
            lang = pool.langs[int(a["id"]) - pool.id_base] if a["id"].isdigit() else lang
            sent = self.sentiment(self.sentiment_p)
            text = b.text.pick(self.texts(lang)[sent], lang, **self.extra)
            kind = "quote" if r.random() < 0.15 and self.seeds else "mention"
            url = None
            if kind == "quote":
                h = self.seeds[int(r.random() * len(self.seeds))][0]
                url = f"https://x.com/{h}/status/{r.randrange(10**17, 10**18)}"
            out.append(Rec(ts, b.name, kind, text, lang, a, self.source(), url=url, sent=sent,
                           scn=self.label))
        return out

    seed_sentiment: ClassVar[int] = NEG


@register
class Crisis(_Surge):
    """A reputation crisis: ramped 5-15x surge, negative, high-reach, one coherent topic.

    Params: ``topic`` (``data_leak`` for retail, ``outage`` for airlines by default),
    ``influencers`` (number of high-reach accounts seeding the story).
    """

    name = "crisis"
    kind = "crisis"
    expect = "crisis"
    default_duration_s = 40 * 60.0
    default_magnitude = 10.0
    sentiment_p = (0.78, 0.17, 0.05)
    seed_share = 0.1
    repost_share = 0.3
    pool_high_reach_share = 0.12

    def setup(self) -> None:
        super().setup()
        topic = self.params.get("topic") or ("outage" if self.b.profile.domain == "airline"
                                             else "data_leak")
        self.topic = TOPICS[topic]
        self.topic_name = topic
        self.tags = [t.format(b=self.brand) for t in self.topic["tags"]]
        self.extra = {"ctag": self.tags[0]}

    def texts(self, lang: str) -> tuple[list[str], list[str], list[str]]:
        self.extra["ctag"] = self.tags[0] if self.r.random() < 0.7 else self.tags[1]
        return self.topic["fr" if lang == "fr" else "en"]

    def seed_texts(self, lang: str) -> list[str]:
        return self.topic["seed"]["fr" if lang == "fr" else "en"]

    def details(self) -> dict[str, Any]:
        return {
            "topic": self.topic_name,
            "terms": self.topic["terms"],
            "hashtags": self.tags,
            "ramp_s": self.ramp_s,
            "peak_start": iso_utc(self.start + self.ramp_s),
            "peak_end": iso_utc(self.start + self.ramp_s + self.hold_s),
            "decay_tau_s": self.tau,
            "negative_share_injected": self.sentiment_p[0],
            "high_reach_accounts": [a["handle"] for a in self.hr_accounts],
        }


@register
class Launch(_Surge):
    """A product launch: the brand's announcement, then a happy surge (must not be a crisis).

    Params: ``product`` (name), ``hashtag``.
    """

    name = "launch"
    kind = "crisis"
    expect = "no_crisis"
    default_duration_s = 60 * 60.0
    default_magnitude = 4.0
    ramp_s = 600.0
    hold_s = 1200.0
    sentiment_p = (0.03, 0.27, 0.70)
    seed_share = 0.06
    repost_share = 0.2
    pool_high_reach_share = 0.05
    seed_sentiment = POS
    influencer_kinds = ("tech", "review", "deals")

    def setup(self) -> None:
        super().setup()
        name = self.b.text.fixed["name"]
        prod = self.params.get("product") or f"{name} Nova"
        tag = self.params.get("hashtag") or "#" + prod.replace(" ", "")
        self.extra = {"prod": prod, "ptag": tag}
        self.product, self.hashtag = prod, tag
        self.announced = False

    def texts(self, lang: str) -> tuple[list[str], list[str], list[str]]:
        return LAUNCH["fr" if lang == "fr" else "en"]

    def seed_texts(self, lang: str) -> list[str]:
        return LAUNCH["seed"]["fr" if lang == "fr" else "en"]

    def emit(self, t0: float, t1: float) -> list[Rec]:
        out = []
        if t0 <= self.start < t1 and not self.announced:
            self.announced = True
            b = self.b
            link = b.link(self.r)
            for lang in sorted(b.profile.lang_mix):
                text = b.text.fill(LAUNCH["own"][lang if lang == "fr" else "en"], lang,
                                   link=link, **self.extra)
                out.append(Rec(self.start, b.name, "own_post", text, lang, b.own_account(lang),
                               b.sources[0], url=link, sent=POS, scn=self.label,
                               answerable=False))
        return out + super().emit(t0, t1)

    def details(self) -> dict[str, Any]:
        return {"product": self.product, "hashtag": self.hashtag,
                "negative_share_injected": self.sentiment_p[0]}


@register
class NoisePlateau(Scenario):
    """A busy but normal period (an evening peak, a TV ad): volume x magnitude, same mix."""

    name = "noise_plateau"
    kind = "crisis"
    expect = "no_crisis"
    default_duration_s = 75 * 60.0
    default_magnitude = 2.0

    def volume_factor(self, ts: np.ndarray) -> np.ndarray:
        edge = min(600.0, self.duration_s / 4)
        x = np.asarray(ts, dtype=float)
        w = np.clip(np.minimum(x - self.start, self.end - x) / edge, 0.0, 1.0)
        w = 0.5 - 0.5 * np.cos(np.pi * w)
        return 1.0 + (self.magnitude - 1.0) * w


# ---------------------------------------------------------------------------- attacks
HIJACK = {
    "en": ["🚨 GIVEAWAY 🚨 We're giving away 500 {product}s tonight only! Claim yours 👉 {bad}",
           "Official {name} crypto drop: send 0.05 ETH, get 0.5 back. Limited! {bad}",
           "Our customers deserve the truth. Everything here: {bad}",
           "Last chance!! Free {product} for the first 1000 followers {bad}"],
    "fr": ["🚨 CONCOURS 🚨 500 {product} à gagner cette nuit seulement ! Cliquez ici 👉 {bad}",
           "Drop crypto officiel {name} : envoyez 0,05 ETH, recevez 0,5. Limité ! {bad}",
           "Nos clients méritent la vérité. Tout est ici : {bad}",
           "Dernière chance !! {product} offert aux 1000 premiers abonnés {bad}"],
}
HIJACK_REACT = {
    "en": ["@{user} were you hacked?? this looks like a scam", "@{user} is this legit?",
           "@{user} your account got hacked, don't click the link everyone"],
    "fr": ["@{user} vous vous êtes fait pirater ?? ça ressemble à une arnaque",
           "@{user} c'est une vraie offre ?",
           "@{user} compte piraté, ne cliquez pas sur le lien"],
}


@register
class Hijack(Scenario):
    """The brand account is hijacked: own posts at 3 a.m. local from a new source, scam links.

    Params: ``local_hour`` (default 3.0; None = exactly at the offset), ``posts`` (default 4).
    """

    name = "hijack"
    kind = "hijack"
    expect = "hijack"
    default_duration_s = 45 * 60.0
    default_at_s = 0.0
    default_params = {"local_hour": 3.0, "posts": 4}

    def setup(self) -> None:
        hour = self.params.get("local_hour")
        if hour is not None:
            now = local_hour(self.b.profile, self.start)
            self.start += ((float(hour) - now) % 24.0) * 3600.0
        known = set(self.b.sources)
        self.new_source = next(s for s in ("Twitter for Android", "Twitter for iPhone",
                                           "TweetDeck Web App", "IFTTT") if s not in known)
        self.bad_domain = f"{self.brand}-rewards.xyz"
        times = np.sort(self.start + self.rng.uniform(0, 15 * 60, int(self.params["posts"])))
        times[0] = self.start
        self.posts = []
        b = self.b
        for ts in times.tolist():
            lang = self.lang()
            bad = f"https://{self.bad_domain}/claim?ref={self.r.randrange(10000, 99999)}"
            text = b.text.pick(HIJACK["fr" if lang == "fr" else "en"], lang, bad=bad)
            self.posts.append(Rec(ts, b.name, "own_post", text, lang, b.own_account(lang),
                                  self.new_source, url=bad, sent=NEU, scn=self.label,
                                  answerable=False))

    def emit(self, t0: float, t1: float) -> list[Rec]:
        return [p for p in self.posts if t0 <= p.ts < t1]

    def react(self, rec: Rec) -> list[Rec]:
        if rec.scn != self.label or rec.kind != "own_post":
            return []
        out = []
        for _ in range(self.r.randrange(3, 9)):
            a = self.b.pool.author(int(self.b.pool.draw(1, self.rng)[0]))
            lang = rec.lang or self.b.main_lang
            text = self.b.text.pick(HIJACK_REACT["fr" if lang == "fr" else "en"], lang,
                                    user=rec.author["handle"])
            out.append(Rec(rec.ts + 30 + self.r.expovariate(1 / 600.0), self.brand, "reply",
                           text, lang, a, self.source(), in_reply_to=rec.id, sent=NEG,
                           scn=self.label, answerable=False))
        return out

    def details(self) -> dict[str, Any]:
        return {"source": self.new_source, "known_sources": self.b.sources,
                "link_domains": [self.bad_domain], "posts": len(self.posts),
                "local_hour": round(local_hour(self.b.profile, self.start), 2),
                "account": self.b.main["handle"]}


IMPOSTOR = {
    "en": ["@{user} Hi! Sorry for the trouble. Our support team will refund you here: {bad}",
           "@{user} We can help! Please verify your account and card at {bad} to get your refund",
           "@{user} DM us your order number and phone, or fill this form: {bad}"],
    "fr": ["@{user} Bonjour ! Désolés. Notre service client vous rembourse ici : {bad}",
           "@{user} Nous pouvons vous aider ! Vérifiez votre compte et votre carte sur {bad}",
           "@{user} Envoyez-nous votre numéro de commande et téléphone, ou ce formulaire : {bad}"],
}
IMPOSTOR_POST = {
    "en": "Having issues with @{h}? Official support answers 24/7 here {bad}",
    "fr": "Un souci avec @{h} ? Le support officiel répond 24h/24 ici {bad}",
}
_CONFUSABLE = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"}  # Latin -> Cyrillic


def impostor_handles(handle: str) -> list[str]:
    """Look-alike handles: official-sounding suffix, ``m``->``rn`` (or l->1/o->0), confusables.

    >>> impostor_handles("acme")
    ['acme_support_official', 'acrne', 'аcme', 'acmehelpdesk']
    """
    if "m" in handle:
        typo = handle.replace("m", "rn", 1)
    elif "l" in handle:
        typo = handle.replace("l", "1", 1)
    elif "o" in handle:
        typo = handle.replace("o", "0", 1)
    else:
        typo = handle + handle[-1]
    conf = handle
    for i, ch in enumerate(handle):
        if ch in _CONFUSABLE:
            conf = handle[:i] + _CONFUSABLE[ch] + handle[i + 1:]
            break
    return [f"{handle}_support_official", typo, conf, f"{handle}helpdesk"]


@register
class Impostor(Scenario):
    """Look-alike accounts answer angry customers with phishing links (and post ads).

    Params: ``answer_prob`` (share of negative customer posts answered, default 0.5).
    """

    name = "impostor"
    kind = "impostor"
    expect = "impostor"
    default_duration_s = 60 * 60.0
    default_params = {"answer_prob": 0.5}

    def setup(self) -> None:
        name = self.b.text.fixed["name"]
        self.accounts = []
        for h in impostor_handles(self.b.main["handle"]):
            self.accounts.append(self.world.new_account(
                h, f"{name} Support" if "_" in h or "help" in h else name,
                int(self.rng.integers(5, 900)), False,
                self.start - float(self.rng.uniform(1, 40)) * DAY,
            ))
        self.bad_domain = f"{self.brand}-refund-help.com"

    def _bad(self) -> str:
        return f"https://{self.bad_domain}/form?c={self.r.randrange(10**5, 10**6)}"

    def answerer(self) -> dict:
        """The look-alike account that answers the next angry customer."""
        return self.accounts[int(self.r.random() * len(self.accounts))]

    def emit(self, t0: float, t1: float) -> list[Rec]:
        out = []
        for ts in self.poisson_times(lambda t: np.full_like(t, 1 / 300.0), t0, t1):
            a = self.accounts[int(self.r.random() * len(self.accounts))]
            lang = self.lang()
            bad = self._bad()
            text = self.b.text.fill(IMPOSTOR_POST["fr" if lang == "fr" else "en"], lang, bad=bad)
            out.append(Rec(ts, self.brand, "mention", text, lang, a, "Twitter Web App",
                           url=bad, sent=NEU, scn=self.label, answerable=False))
        return out

    def react(self, rec: Rec) -> list[Rec]:
        if (rec.sent != NEG or rec.kind not in ("mention", "reply", "quote") or rec.scn
                or rec.author["id"] in self.b.own_ids
                or self.r.random() >= float(self.params["answer_prob"])):
            return []
        a = self.answerer()
        lang = rec.lang or self.b.main_lang
        bad = self._bad()
        text = self.b.text.pick(IMPOSTOR["fr" if lang == "fr" else "en"], lang,
                                user=rec.author["handle"], bad=bad)
        return [Rec(rec.ts + self.r.uniform(60, 480), self.brand, "reply", text, lang, a,
                    "Twitter Web App", url=bad, in_reply_to=rec.id, sent=NEU, scn=self.label,
                    answerable=False)]

    def details(self) -> dict[str, Any]:
        return {"handles": [a["handle"] for a in self.accounts],
                "link_domains": [self.bad_domain]}


RAID = {
    "en": ["@{h} {name} is a SCAM, they steal your money!! boycott {name} now {rtag}",
           "@{h} shame on {name}, they treat workers like dirt. boycott! {rtag}",
           "everyone unfollow @{h} right now, {name} lies to customers {rtag}"],
    "fr": ["@{h} {name} c'est une ARNAQUE, ils volent votre argent !! boycott {rtag}",
           "@{h} honte à {name}, ils exploitent leurs salariés. boycott ! {rtag}",
           "tout le monde unfollow @{h} maintenant, {name} ment à ses clients {rtag}"],
}
_RAID_TAILS = ["", "", "!!", "!!!", " 😡", " 🤬", " 👎", " #boycott", " RT!", " 💯", " .", " ‼️"]


def _vary(text: str, r: random.Random) -> str:
    """A near-duplicate of ``text``: casing, punctuation, one dropped word, a tail."""
    words = text.split()
    u = r.random()
    if u < 0.25:
        text = text.upper()
    elif u < 0.45:
        text = text.lower()
    elif u < 0.6 and len(words) > 6:
        i = r.randrange(1, len(words) - 1)
        text = " ".join(words[:i] + words[i + 1:])
    return text + r.choice(_RAID_TAILS)


@register
class Raid(Scenario):
    """A troll raid: many young, low-follower accounts post near-duplicate texts in minutes.

    Params: ``accounts`` (default 90), ``max_age_days`` (default 14), ``hashtag``.
    """

    name = "raid"
    kind = "raid"
    expect = "raid"
    default_duration_s = 8 * 60.0
    default_params = {"accounts": 90, "max_age_days": 14.0}

    def setup(self) -> None:
        b = self.b
        name = b.text.fixed["name"]
        self.hashtag = self.params.get("hashtag") or f"#Boycott{name.replace(' ', '')}"
        lang = b.main_lang
        base = b.text.pick(RAID["fr" if lang == "fr" else "en"], lang, rtag=self.hashtag)
        self.base_text = base
        self.accounts = []
        self.posts = []
        for _ in range(int(self.params["accounts"])):
            h, nm = make_handle(self.r, lang)
            h = f"{h[:7]}{int(self.rng.integers(10**7, 10**8))}"
            a = self.world.new_account(
                h, nm, int(self.rng.integers(0, 40)), False,
                self.start - float(self.rng.uniform(0.2, float(self.params["max_age_days"]))) * DAY,
            )
            self.accounts.append(a)
            for _ in range(1 + int(self.rng.random() < 0.35)):
                ts = self.start + float(self.rng.beta(1.3, 2.5)) * self.duration_s
                self.posts.append(Rec(ts, b.name, "mention", _vary(base, self.r), lang, a,
                                      self.source(), sent=NEG, scn=self.label, answerable=False))
        self.posts.sort(key=lambda p: p.ts)

    def emit(self, t0: float, t1: float) -> list[Rec]:
        return [p for p in self.posts if t0 <= p.ts < t1]

    def details(self) -> dict[str, Any]:
        return {"accounts": len(self.accounts), "posts": len(self.posts),
                "hashtag": self.hashtag, "template": self.base_text,
                "max_followers": max(a["followers"] for a in self.accounts)}


SLOW = {
    "en": ["@{h} still no answer after {hours} hours?? {eneg}",
           "@{h} I've sent 3 DMs, nobody answers {eneg}",
           "hello @{h}?? anyone there? day {days} without a reply {eneg}"],
    "fr": ["@{h} toujours pas de réponse après {hours} heures ?? {eneg}",
           "@{h} 3 DM envoyés, personne ne répond {eneg}",
           "allô @{h} ?? il y a quelqu'un ? toujours aucune réponse {eneg}"],
}


@register
class SlowResponse(Scenario):
    """The brand stops answering: negative posts go unanswered (or hours late), people chase.

    Params: ``prob_factor`` (answer probability multiplier for negatives, default 0.1),
    ``delay_factor`` (default 12), ``chasers`` (extra "still no answer" rate as a share of the
    baseline rate, default 0.3).
    """

    name = "slow_response"
    kind = "slow_response"
    expect = "slow_response"
    default_duration_s = 2 * 3600.0
    default_params = {"prob_factor": 0.1, "delay_factor": 12.0, "chasers": 0.3}

    def setup(self) -> None:
        self.ref_rate = float(self.b.rate(self.start))

    def reply_policy(self, ts: float, sent: int) -> tuple[float, float] | None:
        if sent == NEG:
            return float(self.params["prob_factor"]), float(self.params["delay_factor"])
        return 0.5, float(self.params["delay_factor"]) / 3

    def emit(self, t0: float, t1: float) -> list[Rec]:
        rate = self.ref_rate * float(self.params["chasers"])
        out = []
        b = self.b
        for ts in self.poisson_times(lambda t: np.full_like(t, rate), t0, t1):
            a = b.pool.author(int(b.pool.draw(1, self.rng)[0]))
            lang = self.lang()
            text = b.text.pick(SLOW["fr" if lang == "fr" else "en"], lang,
                               hours=str(self.r.randrange(2, 9)))
            out.append(Rec(ts, b.name, "mention", text, lang, a, self.source(), sent=NEG,
                           scn=self.label))
        return out

    def details(self) -> dict[str, Any]:
        return {k: self.params[k] for k in ("prob_factor", "delay_factor", "chasers")}
