"""Demo brands and their simulation profiles (volume, languages, hours, seasonality).

A :class:`~pipeline.settings.BrandConfig` says who a brand is; a :class:`BrandProfile` says how
the simulated world talks about it. Brands without a profile get :func:`default_profile`.

Examples
--------
>>> [b.name for b in DEMO_BRANDS]
['acme', 'nordair', 'globex']
>>> p = profile_for(DEMO_BRANDS[0])
>>> p.rate_per_min, p.domain
(12.0, 'retail')
>>> import numpy as np
>>> hours = np.arange(0, 24 * 3600, 60.0)          # one day, every minute, local = UTC+1
>>> f = diurnal(p, hours - 3600)
>>> round(float(f.mean()), 2), bool(f[4 * 60] < 0.3 < 1.2 < f[20 * 60])
(1.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.settings import BrandConfig

DEMO_BRANDS: list[BrandConfig] = [
    BrandConfig(
        name="acme",
        handles=["acme", "acme_fr", "acmehelp"],
        display_names=["Acme", "Acme France", "Acme Help"],
        keywords=["acme"],
        languages=["en", "fr"],
        confidential_terms=["project falcon"],
        forbidden_terms=["guaranteed cure", "risk-free"],
        allowed_link_domains=["acme.com", "acme.fr", "help.acme.com"],
        voice="casual",
        known_sources=["Sprinklr", "Twitter Web App"],
    ),
    BrandConfig(
        name="nordair",
        handles=["nordair", "nordair_help"],
        display_names=["NordAir", "NordAir Help"],
        keywords=["nordair", "nord air"],
        languages=["fr", "en"],
        confidential_terms=["opération aurore"],
        forbidden_terms=["zero delay guaranteed"],
        allowed_link_domains=["nordair.com", "nordair.fr"],
        voice="formal",
        known_sources=["Khoros", "Twitter Web App"],
    ),
    BrandConfig(
        name="globex",
        handles=["globex", "globexcares"],
        display_names=["Globex", "Globex Cares"],
        keywords=["globex"],
        languages=["en"],
        competitor=True,
        allowed_link_domains=["globex.com"],
        voice="neutral",
        known_sources=["Hootsuite Inc.", "Twitter Web App"],
    ),
]


@dataclass
class BrandProfile:
    """How the simulated public talks about one brand.

    Parameters
    ----------
    rate_per_min
        Mean customer mentions per event minute (averaged over the day and the week).
    domain
        Vocabulary family of the texts: ``"retail"`` or ``"airline"``.
    lang_mix
        Share of each language among customer mentions (``{"en": .55, "fr": .45}``).
    sentiment
        Baseline (negative, neutral, positive) shares of customer mentions.
    utc_offset_h
        Local time of the audience (drives seasonality, brand office hours, own posts).
    bumps
        Diurnal shape: ``(local hour, width h, weight)`` Gaussian bumps on top of a floor.
    weekly
        Monday..Sunday multipliers (normalised to mean 1).
    authors
        Size of the persistent author pool.
    own_post_hours
        Local hours (float) of the brand's regular posting slots.
    support_hours
        ``(open, close)`` local hours during which the brand answers (``open < close``): a
        mention posted after closing is answered after the next opening, and an answer delay
        runs in support hours only (see :func:`support_delay`): nobody answers at night.
    reply_prob
        Probability the brand answers a (negative, neutral, positive) customer mention.
    reply_median_s
        Median answer delay in office hours (log-normal).
    brand_followers
        Followers of the brand's own accounts.
    dispersion
        Gamma shape of the per-step rate noise (negative-binomial counts; larger = calmer).
    """

    rate_per_min: float = 5.0
    domain: str = "retail"
    lang_mix: dict[str, float] = field(default_factory=lambda: {"en": 1.0})
    sentiment: tuple[float, float, float] = (0.2, 0.5, 0.3)
    utc_offset_h: float = 0.0
    bumps: tuple[tuple[float, float, float], ...] = (
        (9.0, 2.0, 0.6),
        (12.8, 1.3, 0.5),
        (20.5, 2.2, 1.0),
    )
    weekly: tuple[float, ...] = (1.05, 1.0, 1.0, 1.0, 1.05, 0.95, 0.9)
    authors: int = 10_000
    own_post_hours: tuple[float, ...] = (9.5, 12.25, 15.0, 17.5, 19.0)
    support_hours: tuple[float, float] = (8.0, 22.0)
    reply_prob: tuple[float, float, float] = (0.45, 0.15, 0.05)
    reply_median_s: float = 720.0
    brand_followers: int = 120_000
    dispersion: float = 25.0


DEMO_PROFILES: dict[str, BrandProfile] = {
    "acme": BrandProfile(
        rate_per_min=12.0,
        domain="retail",
        lang_mix={"en": 0.55, "fr": 0.45},
        sentiment=(0.18, 0.50, 0.32),
        utc_offset_h=1.0,
        authors=30_000,
        brand_followers=250_000,
    ),
    "nordair": BrandProfile(
        rate_per_min=5.0,
        domain="airline",
        lang_mix={"fr": 0.7, "en": 0.3},
        sentiment=(0.24, 0.50, 0.26),
        utc_offset_h=1.0,
        bumps=((7.0, 1.5, 0.8), (12.5, 1.5, 0.4), (18.5, 2.5, 1.0)),
        weekly=(1.1, 1.0, 0.95, 1.0, 1.15, 0.9, 1.05),
        authors=15_000,
        own_post_hours=(8.0, 11.0, 14.5, 18.0),
        support_hours=(6.0, 23.0),
        reply_prob=(0.55, 0.2, 0.05),
        reply_median_s=900.0,
        brand_followers=180_000,
    ),
    "globex": BrandProfile(
        rate_per_min=90.0,
        domain="retail",
        lang_mix={"en": 1.0},
        sentiment=(0.17, 0.52, 0.31),
        utc_offset_h=-5.0,
        weekly=(1.0, 1.0, 1.0, 1.05, 1.1, 1.0, 0.85),
        authors=80_000,
        own_post_hours=(8.0, 10.5, 13.0, 16.0, 18.5, 21.0),
        reply_prob=(0.35, 0.1, 0.03),
        reply_median_s=1200.0,
        brand_followers=1_400_000,
        dispersion=40.0,
    ),
}


def default_profile(brand: BrandConfig) -> BrandProfile:
    """A profile for a brand without one: 5 mentions/min, its languages split evenly."""
    langs = [lang for lang in brand.languages if lang in ("en", "fr")] or ["en"]
    return BrandProfile(lang_mix={lang: 1.0 / len(langs) for lang in langs})


def profile_for(brand: BrandConfig, profiles: dict[str, BrandProfile] | None = None) -> BrandProfile:
    """The profile of ``brand``: from ``profiles``, else the demo ones, else the default."""
    if profiles and brand.name in profiles:
        return profiles[brand.name]
    return DEMO_PROFILES.get(brand.name) or default_profile(brand)


_FLOOR = 0.12
_DAY = 86_400.0


def _raw_diurnal(p: BrandProfile, hour: np.ndarray) -> np.ndarray:
    out = np.full_like(hour, _FLOOR, dtype=float)
    for center, width, weight in p.bumps:
        d = np.abs(hour - center)
        d = np.minimum(d, 24.0 - d)  # circular distance
        out += weight * np.exp(-0.5 * (d / width) ** 2)
    return out


def diurnal(p: BrandProfile, ts: np.ndarray) -> np.ndarray:
    """Diurnal multiplier (mean 1 over a day) at epoch seconds ``ts``, in the brand's local time."""
    hour = ((np.asarray(ts, dtype=float) + p.utc_offset_h * 3600.0) % _DAY) / 3600.0
    grid = _raw_diurnal(p, np.arange(0.0, 24.0, 0.05))
    return _raw_diurnal(p, hour) / grid.mean()


def weekly(p: BrandProfile, ts: np.ndarray) -> np.ndarray:
    """Day-of-week multiplier (mean 1 over a week) at epoch seconds ``ts`` (local time)."""
    w = np.asarray(p.weekly, dtype=float)
    w = w / w.mean()
    local = np.asarray(ts, dtype=float) + p.utc_offset_h * 3600.0
    dow = ((local // _DAY).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (index 3)
    return w[dow]


def seasonal_rate(p: BrandProfile, ts: np.ndarray) -> np.ndarray:
    """Expected customer mentions per second at ``ts`` (no noise, no scenario)."""
    return p.rate_per_min / 60.0 * diurnal(p, ts) * weekly(p, ts)


def local_hour(p: BrandProfile, ts: float) -> float:
    """Local hour of day (0-24, float) of epoch seconds ``ts`` for the brand's audience."""
    return ((ts + p.utc_offset_h * 3600.0) % _DAY) / 3600.0


def support_delay(p: BrandProfile, ts: float, work_s: float) -> float:
    """Event seconds from ``ts`` (in support hours) until ``work_s`` seconds of support time
    have passed: the part of an answer delay that would run past closing time resumes at the
    next opening (the support team is not there at night).

    >>> p = BrandProfile(support_hours=(8.0, 22.0))          # utc_offset_h = 0
    >>> support_delay(p, 10 * 3600.0, 1200.0)                # 10:00: answered at 10:20
    1200.0
    >>> support_delay(p, 21.5 * 3600.0, 3600.0) / 3600       # 21:30 + 1 h: 08:30 next day
    11.0
    >>> support_delay(p, 21.5 * 3600.0, 15.5 * 3600.0) / 3600  # a full day more: 09:00 in 2 days
    35.5
    """
    open_h, close_h = p.support_hours
    left = (close_h - local_hour(p, ts)) * 3600.0  # support time before today's closing
    if work_s < left:
        return work_s
    day = (close_h - open_h) * 3600.0
    days, rest = divmod(work_s - left, day)
    return left + (_DAY - day) + days * _DAY + rest
