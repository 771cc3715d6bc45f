"""Persistent, realistic author pools: heavy-tailed followers, verified high-reach accounts.

Examples
--------
>>> import numpy as np
>>> pool = AuthorPool("acme", 2_000, {"en": 0.5, "fr": 0.5}, now=1767607200.0,
...                   rng=np.random.default_rng(0), id_base=10**9)
>>> a = pool.author(0)
>>> sorted(a)
['created_at', 'followers', 'handle', 'id', 'name', 'verified']
>>> bool(np.median(pool.followers) < 1_000 < pool.followers.max())
True
>>> float(pool.verified[pool.followers >= 10_000].mean()) > 5 * float(pool.verified.mean())
True
"""

from __future__ import annotations

import random

import numpy as np

from pipeline.simulate.clock import iso_utc
from pipeline.simulate.texts import FIRST, HANDLE_BITS, LAST

YEAR = 365.25 * 86_400.0
TWITTER_BIRTH = 1_142_974_214.0  # 2006-03-21


def make_author(
    id: str, handle: str, name: str, followers: int, verified: bool, created_ts: float
) -> dict:
    """An ``Author`` wire dict."""
    return {
        "id": id,
        "handle": handle,
        "name": name,
        "followers": int(followers),
        "verified": bool(verified),
        "created_at": iso_utc(created_ts, cache=False),
    }


def make_handle(r: random.Random, lang: str, taken: set[str] | None = None) -> tuple[str, str]:
    """A plausible ``(handle, display name)`` pair (ASCII, at most 15 characters)."""
    lang = "fr" if lang == "fr" else "en"
    firsts, lasts = FIRST[lang], LAST[lang]
    rnd = r.random
    first = firsts[int(rnd() * len(firsts))]
    last = lasts[int(rnd() * len(lasts))]
    style = int(rnd() * 6)
    bit = HANDLE_BITS[int(rnd() * len(HANDLE_BITS))]
    if style == 0:
        h = f"{first}{last}"
    elif style == 1:
        h = f"{first}_{last}{int(rnd() * 98) + 1}"
    elif style == 2:
        h = f"{first}{int(rnd() * 9998) + 1}"
    elif style == 3:
        h = f"{bit}{first}{last[0]}"
    elif style == 4:
        h = f"{last}{first[0]}{(int(rnd() * 35) + 70) % 100:02d}"
    else:
        h = f"{first[:3]}{bit}{last[:4]}"
    h = h[:15]
    if taken is not None:
        base = h[:11]
        while h in taken:
            h = f"{base}{int(rnd() * 9000) + 1000}"
        taken.add(h)
    name_style = int(rnd() * 4)
    if name_style == 0:
        name = f"{first.capitalize()} {last.capitalize()}"
    elif name_style == 1:
        name = first.capitalize()
    elif name_style == 2:
        name = f"{first.capitalize()} {last[0].upper()}."
    else:
        name = f"{first} ✨" if rnd() < 0.5 else f"{first.capitalize()} | {bit or 'vibes'}"
    return h, name


class AuthorPool:
    """A brand's persistent audience; author dicts are built on first use and then reused.

    Parameters
    ----------
    brand
        Brand key (for nothing but repr).
    size
        Number of accounts.
    lang_mix
        Share of each language among the accounts (each account writes in one language).
    now
        Epoch seconds at the stream start: accounts were created before it.
    rng
        Numpy generator (deterministic for a seed).
    id_base
        First account id (ids are numeric strings, unique across pools with distinct bases).
    """

    def __init__(
        self,
        brand: str,
        size: int,
        lang_mix: dict[str, float],
        now: float,
        rng: np.random.Generator,
        id_base: int,
    ):
        self.brand = brand
        self.size = n = int(size)
        self.r = random.Random(int(rng.integers(2**63)))
        self.id_base = id_base
        followers = np.exp(rng.normal(np.log(180.0), 1.9, n))
        followers = np.minimum(followers, 8_000_000).astype(np.int64)
        self.followers = followers
        p_ver = np.where(followers >= 100_000, 0.6, np.where(followers >= 10_000, 0.18, 0.002))
        self.verified = rng.random(n) < p_ver
        # Older accounts gather more followers: age grows with log-followers.
        age_y = np.clip(rng.gamma(2.0, 2.0, n) + 0.6 * np.log10(followers + 1), 0.05, None)
        self.created = np.maximum(now - age_y * YEAR, TWITTER_BIRTH + rng.random(n) * YEAR)
        langs = list(lang_mix)
        probs = np.array([lang_mix[k] for k in langs], dtype=float)
        idx = np.searchsorted(np.cumsum(probs / probs.sum()), rng.random(n), side="right")
        self.langs = [langs[min(i, len(langs) - 1)] for i in idx.tolist()]
        activity = rng.pareto(1.6, n) + 1.0
        activity = np.where(followers >= 10_000, activity * 0.5, activity)
        cum = np.cumsum(activity)
        self.cum = cum / cum[-1]
        created_s = self.created.astype("datetime64[s]")
        self.created_iso = [c + ".000Z" for c in np.datetime_as_string(created_s, unit="s").tolist()]
        self._cache: list[dict | None] = [None] * n
        self._taken: set[str] = set()
        self.high_reach = np.flatnonzero(followers >= 10_000)

    def draw(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of ``k`` authors drawn by activity (chatty accounts post more)."""
        return np.minimum(np.searchsorted(self.cum, rng.random(k), side="right"), self.size - 1)

    def author(self, i: int) -> dict:
        """The wire dict of author ``i`` (shared; copy before mutating)."""
        a = self._cache[i]
        if a is None:
            h, name = make_handle(self.r, self.langs[i], self._taken)
            a = {
                "id": str(self.id_base + i),
                "handle": h,
                "name": name,
                "followers": int(self.followers[i]),
                "verified": bool(self.verified[i]),
                "created_at": self.created_iso[i],
            }
            self._cache[i] = a
        return a
