"""Per-brand online model of mention counts per event-time bucket, and its surge score.

See the package docstring (:mod:`pipeline.volume`) for the method, the alternatives that
were measured and the figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

_DAY = 86400.0
_HOUR = 3600.0
_LN10 = math.log(10.0)
_A0 = 2.0 * math.sqrt(0.375)  # anscombe(0)
_NO_MAX = -1e300  # "no maximum yet" (finite: snapshots are JSON)


def anscombe(x: float) -> float:
    """Variance-stabilising transform of a Poisson count, ``2 * sqrt(x + 3/8)``.

    For a Poisson count its variance is ~1 whatever the mean, which is what lets one set
    of thresholds serve brands with 2 and with 2,000 mentions per bucket.

    >>> round(anscombe(0), 4), round(anscombe(100), 3)
    (1.2247, 20.037)
    """
    return 2.0 * math.sqrt(x + 0.375) if x > 0.0 else _A0


def inv_anscombe(a: float) -> float:
    """Inverse of :func:`anscombe`, floored at 0.

    >>> round(inv_anscombe(anscombe(42.0)), 9)
    42.0
    >>> inv_anscombe(0.5)
    0.0
    """
    if a <= _A0:
        return 0.0
    return a * a / 4.0 - 0.375


def _quantile(values: list[float], q: float) -> float:
    """Quantile with linear interpolation (numpy's default) of a short list.

    >>> _quantile([3.0, 1.0, 2.0, 4.0], 0.5), _quantile([1.0, 2.0], 0.9)
    (2.5, 1.9)
    """
    v = sorted(values)
    pos = q * (len(v) - 1)
    i = int(pos)
    if i + 1 >= len(v):
        return v[-1]
    return v[i] + (pos - i) * (v[i + 1] - v[i])


def _clip_mass(c: float) -> float:
    """E[min(Z^2, c^2)] for Z ~ N(0, 1): consistency factor of a clipped variance."""
    phi_c = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    tail = math.erfc(c / math.sqrt(2.0))  # P(|Z| > c)
    return (1.0 - tail) - 2.0 * c * phi_c + c * c * tail


_STD_NORMAL = NormalDist()
_TAIL_TERMS = 10_000  # summation cap of nb_tail_z (bounded geometric remainder beyond it)


def nb_tail_z(x: float, e: float, phi: float) -> float:
    """Exact upper-tail z of a count ``x`` against mean ``e``, overdispersion ``phi``.

    The count is negative binomial with ``Var = e + phi * e**2`` (Poisson for ``phi`` 0);
    the result is the probit of the mid-p upper tail ``P(X > x) + P(X = x) / 2``, i.e. the
    standard normal ``z`` with that upper-tail probability, capped at 37.5 (probability
    1e-300). For a few expected mentions the Anscombe ``z`` is a poor approximation of
    this tail (4 mentions against 0.2 expected: Anscombe z 2.7, Poisson tail z 4.0). Direct
    summation of the mass function: meant for small ``e`` (its cost grows with the spread).
    A non-finite argument gives 0 (no evidence) rather than an error.

    >>> round(nb_tail_z(4, 0.2, 0.0), 2), round(nb_tail_z(4, 0.2, 0.5), 2)
    (4.02, 3.57)
    >>> nb_tail_z(0, 3.0, 0.2) < 0 < nb_tail_z(6, 3.0, 0.2) < nb_tail_z(6, 3.0, 0.0)
    True
    """
    if not (math.isfinite(x) and math.isfinite(e) and math.isfinite(phi)):
        return 0.0
    k = math.floor(x) if x > 0.0 else 0
    if e <= 0.0:
        return 37.5 if k > 0 else 0.0
    if phi > 1e-9:
        r = 1.0 / phi  # NB size; success probability r / (r + e)
        lq = math.log(e / (r + e))
        lp = math.log(r / (r + e))

        def logpmf(j: int) -> float:
            return (math.lgamma(j + r) - math.lgamma(r) - math.lgamma(j + 1.0)
                    + r * lp + j * lq)

        def ratio(j: int) -> float:  # pmf(j + 1) / pmf(j)
            return (j + r) / (j + 1.0) * math.exp(lq)
        q_lim = math.exp(lq)  # limit of the ratio for large j
    else:
        le = math.log(e)

        def logpmf(j: int) -> float:
            return -e + j * le - math.lgamma(j + 1.0)

        def ratio(j: int) -> float:
            return e / (j + 1.0)
        q_lim = 0.0
    if k < e:  # below the mean: 1 - P(X <= x) by the lower sum (at most ~e terms)
        low = sum(math.exp(logpmf(j)) for j in range(k))
        mid = 1.0 - low - 0.5 * math.exp(logpmf(k))
    else:  # the upper sum, terms falling at least geometrically past the mean
        term = math.exp(logpmf(k))
        mid = 0.5 * term
        j = k
        for _ in range(_TAIL_TERMS):
            term *= ratio(j)
            j += 1
            mid += term
            rr = max(ratio(j), q_lim)
            if term * rr <= 1e-12 * mid * (1.0 - rr):
                break
        else:  # remainder bounded by the geometric series (conservative: smaller z)
            rr = max(ratio(j), q_lim)
            mid += term * rr / (1.0 - rr)
    if mid <= 1e-300:
        return 37.5
    if mid >= 1.0:
        return -37.5
    return -_STD_NORMAL.inv_cdf(mid)


@dataclass(frozen=True, slots=True)
class VolumeScore:
    """Result of :meth:`VolumeModel.score_one` for one bucket.

    Attributes
    ----------
    t : float
        Bucket start, epoch seconds (event time).
    observed : float
        Count observed in the bucket.
    expected : float
        Expected count (mean) for the bucket, from earlier buckets only.
    lower, upper : float
        Band of normal counts: ``band_z`` predicted standard deviations either side of the
        centre, in Anscombe space, mapped back to counts.
    score : float
        Surge surprise, ``>= 0``: ``log10`` of the *return period in days* of a surge at
        least this large for this brand (declustered peaks over threshold of ``z``).
        0 means ``z <= tail_u`` (nothing unusual); 1 means "about once in 10 days";
        2 "once in 100 days". Calibrated per brand, hence comparable across brands.
    silence : float
        Drop surprise, ``>= 0``: one-sided CUSUM of standardised deficits
        (``max(0, S - max(z, -clip_z) - silence_k)``); it grows only while a brand stays
        well below its expectation, and a quiet brand (expected ~1) can hardly raise it.
    warm : bool
        False until ``warmup_s`` of buckets have been learned; alarms ignore cold buckets.
    z : float
        Raw standardised residual (Anscombe residual over its predicted sd), signed.
    sustained : float
        Multi-hour surge evidence, ``>= 0``: for each time scale ``w`` of
        ``sustain_windows_s`` (6 h and 12 h) the log ratio ``L_w = ln((1 + observed) /
        (1 + expected))`` of exponentially weighted sums of effective length ``w``,
        compared with the ``sustain_q`` quantile (0.9: between the largest and the second
        largest) of this brand's daily maxima of ``L_w`` over the last ``sustain_days``
        days: ``exp(max_w(L_w - thr_w))``.
        1 = "as large a multi-hour excess as the brand's biggest of the week"; scale-free
        (a ratio of ratios), slow (hours), for level shifts that a per-bucket ``score``
        misses. Until ``sustain_min_days`` days are learned, the threshold is padded with
        the prior ``ln(sustain_prior)``; 0 before the first day boundary.
    dispersion : float
        The brand's overdispersion in counts, ``phi_n`` of the model when the bucket was
        scored: a bucket's count is taken as negative binomial with variance
        ``e + phi_n * e**2``. Learned in counts, so it holds at every volume (the Anscombe
        ``phi`` behind ``z`` falls to 0 under ~2 mentions per bucket, where the Anscombe
        variance is under 1); for :func:`nb_tail_z` (the alarm's exact-tail gate).
    """

    t: float
    observed: float
    expected: float
    lower: float
    upper: float
    score: float
    silence: float
    warm: bool
    z: float = 0.0
    sustained: float = 0.0
    dispersion: float = 0.0


_PARAMS = (
    "bucket_s", "seed", "level_halflife_s", "daily_halflife_d", "weekly_halflife_w",
    "scale_halflife_s", "clip_z", "warmup_s", "band_z", "silence_k", "tail_u",
    "tail_halflife_d", "tail_prior_episodes", "tail_prior_excess", "tail_prior_rate",
    "sustain_windows_s", "sustain_days", "sustain_q", "sustain_min_days", "sustain_prior",
)
_STATE = (
    "level", "daily", "weekly", "n_daily", "n_weekly", "g2", "gmu", "phi", "n", "n_scale",
    "last_t", "cusum_dn", "learned_s", "n_late", "last_day",
    "tail_days", "tail_eps", "tail_exc", "in_episode", "episode_peak",
    "sus_obs", "sus_exp", "sus_day", "sus_max", "sus_hist", "sus_thr",
    "phi_n", "gn2", "gnmu2",
)


class VolumeModel:
    """Online expected-count model and surge/silence scorer for one brand.

    The expected count of bucket ``t`` is ``exp(level + daily(t) + weekly(t))``: a local
    level, a smooth daily profile (24 hourly knots, linear interpolation) and a
    day-of-week offset, all in log space. They are learned Holt-Winters style from the
    *clipped* Anscombe residual, so that one burst cannot drag the baseline. The noise is
    negative-binomial-like: in Anscombe space the residual sd is ``sqrt(1 + phi * mu)``
    (1 = Poisson floor for quiet brands, ``phi`` = overdispersion learned online by a
    clipped method of moments). ``z`` is the residual over that sd. The overdispersion is
    also learned in counts (``phi_n``: ``E[(x - mu)^2] = mu + phi_n mu^2``, clipped, in
    ``VolumeScore.dispersion``), which stays right for brands with a few mentions per
    bucket, where the Anscombe ``phi`` falls to 0. ``score`` turns ``z``
    into a brand-calibrated return period: the peaks of episodes with ``z > tail_u`` are
    fitted by an exponential tail (peaks over threshold, exponentially forgotten).

    Parameters
    ----------
    bucket_s : int
        Bucket length in seconds (60 in the live worker, 300 for NAB). All other time
        parameters are in seconds/days, so the behaviour does not depend on it.
    seed : int
        Unused (the model is deterministic); kept for the river-style API.
    level_halflife_s : float
        Half-life of the local level.
    daily_halflife_d, weekly_halflife_w : float
        Memory of the daily profile (days) and of the day-of-week offsets (weeks).
        Both learn at rate ``1/n`` until they have that much history.
    scale_halflife_s : float
        Memory of the overdispersion estimate.
    clip_z : float
        Residuals are clipped to ``+-clip_z`` sd before they update anything.
    warmup_s : float
        Learned history needed before ``warm`` is True.
    band_z : float
        Half-width of the ``lower``/``upper`` band, in sd.
    silence_k : float
        Allowance (sd per bucket) of the silence CUSUM.
    tail_u : float
        ``z`` threshold of the peaks-over-threshold tail; an episode lasts while
        ``z >= tail_u / 2``.
    tail_halflife_d : float
        Memory of the tail (days).
    tail_prior_episodes, tail_prior_excess, tail_prior_rate : float
        Prior of the tail: that many pseudo-episodes, of mean excess ``tail_prior_excess``
        over ``tail_u``, at ``tail_prior_rate`` episodes per day.
    sustain_windows_s : sequence of float
        Time scales (effective lengths, seconds) of the exponentially weighted sums behind
        ``VolumeScore.sustained``.
    sustain_days, sustain_q, sustain_min_days : int, float, int
        Its threshold: the ``sustain_q`` quantile of the daily maxima of the last
        ``sustain_days`` days, once ``sustain_min_days`` days are known.
    sustain_prior : float
        Until then, the missing days count as daily maxima of ``L_w = ln(sustain_prior)``
        (2 = a doubling of the expected volume over the window), so that a brand's first
        days are covered by a conservative threshold; ``<= 0``: no evidence until
        ``sustain_min_days`` days are known (the behaviour before this parameter).

    Notes
    -----
    Gaps: a bucket that is never passed is *unknown*, not zero: nothing is imputed and
    the clock of the model (warm-up, tail exposure) only counts learned buckets. A worker
    that knows a bucket closed empty must pass ``count=0`` (needed for ``silence``).
    Out of order: ``learn_one`` ignores a bucket whose ``t`` is not after the last
    learned one (counted in ``n_late``); ``score_one`` scores any ``t`` with the state
    as it is.

    Examples
    --------
    Five days of a Poisson brand with a daily cycle, then a surge:

    >>> import math, random
    >>> rng = random.Random(1)
    >>> def poisson(lam):
    ...     k, p, L = 0, 1.0, math.exp(-lam)
    ...     while True:
    ...         p *= rng.random()
    ...         if p <= L:
    ...             return k
    ...         k += 1
    >>> m = VolumeModel(bucket_s=300)
    >>> for i in range(5 * 288):
    ...     t = i * 300.0
    ...     lam = 20 * (1 + 0.8 * math.sin(2 * math.pi * t / 86400))
    ...     m.learn_one(t, poisson(lam))
    >>> t = 5 * 86400 + 6 * 3600.0           # the daily peak, lam = 36
    >>> s = m.score_one(t, 36)
    >>> s.warm, 28 < s.expected < 44, s.score
    (True, True, 0.0)
    >>> m.score_one(t, 200).score > 1.0      # rarer than once in 10 days
    True
    """

    __slots__ = _PARAMS + _STATE + ("_a_level", "_a_daily", "_a_weekly", "_a_scale",
                                    "_kappa", "_dec_tail", "_sus_dec")

    def __init__(
        self,
        bucket_s: int = 60,
        *,
        seed: int = 0,
        level_halflife_s: float = 6 * _HOUR,
        daily_halflife_d: float = 7.0,
        weekly_halflife_w: float = 4.0,
        scale_halflife_s: float = 2 * _DAY,
        clip_z: float = 3.0,
        warmup_s: float = _DAY,
        band_z: float = 3.0,
        silence_k: float = 1.0,
        tail_u: float = 5.0,
        tail_halflife_d: float = 30.0,
        tail_prior_episodes: float = 2.0,
        tail_prior_excess: float = 3.0,
        tail_prior_rate: float = 1.0,
        sustain_windows_s: tuple[float, ...] | list[float] = (6 * _HOUR, 12 * _HOUR),
        sustain_days: int = 7,
        sustain_q: float = 0.9,
        sustain_min_days: int = 5,
        sustain_prior: float = 2.0,
    ) -> None:
        if bucket_s <= 0:
            raise ValueError("bucket_s must be positive")
        self.bucket_s = int(bucket_s)
        self.seed = int(seed)
        self.level_halflife_s = float(level_halflife_s)
        self.daily_halflife_d = float(daily_halflife_d)
        self.weekly_halflife_w = float(weekly_halflife_w)
        self.scale_halflife_s = float(scale_halflife_s)
        self.clip_z = float(clip_z)
        self.warmup_s = float(warmup_s)
        self.band_z = float(band_z)
        self.silence_k = float(silence_k)
        self.tail_u = float(tail_u)
        self.tail_halflife_d = float(tail_halflife_d)
        self.tail_prior_episodes = float(tail_prior_episodes)
        self.tail_prior_excess = float(tail_prior_excess)
        self.tail_prior_rate = float(tail_prior_rate)
        self.sustain_windows_s = [float(w) for w in sustain_windows_s]
        self.sustain_days = int(sustain_days)
        self.sustain_q = float(sustain_q)
        self.sustain_min_days = int(sustain_min_days)
        self.sustain_prior = float(sustain_prior)
        self._derive()
        self.level = 0.0
        self.daily = [0.0] * 24
        self.weekly = [0.0] * 7
        self.n_daily = [0.0] * 24  # knot exposure, in hours
        self.n_weekly = [0.0] * 7  # day exposure, in days
        self.g2 = 0.0
        self.gmu = 0.0
        self.phi = 0.0
        self.phi_n = 0.0  # overdispersion in counts, and its two EW moments
        self.gn2 = 0.0
        self.gnmu2 = 0.0
        self.n = 0
        self.n_scale = 0
        self.last_t: float | None = None
        self.cusum_dn = 0.0
        self.learned_s = 0.0
        self.n_late = 0
        self.last_day: int | None = None
        self.tail_days = self.tail_prior_episodes / self.tail_prior_rate
        self.tail_eps = self.tail_prior_episodes
        self.tail_exc = self.tail_prior_episodes * self.tail_prior_excess
        self.in_episode = False
        self.episode_peak = 0.0
        k = len(self.sustain_windows_s)
        self.sus_obs = [0.0] * k  # exponentially weighted observed / expected sums
        self.sus_exp = [0.0] * k
        self.sus_day: int | None = None
        self.sus_max = [_NO_MAX] * k  # today's maxima of L_w
        self.sus_hist: list[list[float]] = [[] for _ in range(k)]  # last days' maxima
        self.sus_thr: list[float] | None = None

    def _derive(self) -> None:
        b = float(self.bucket_s)
        self._a_level = 1.0 - 0.5 ** (b / self.level_halflife_s)
        # a daily knot gets ~3600/b updates per day, a weekday ~86400/b per week
        self._a_daily = 1.0 - 0.5 ** (b / (_HOUR * self.daily_halflife_d))
        self._a_weekly = 1.0 - 0.5 ** (b / (_DAY * self.weekly_halflife_w))
        self._a_scale = 1.0 - 0.5 ** (b / self.scale_halflife_s)
        self._kappa = 1.0 / _clip_mass(self.clip_z)
        self._dec_tail = 0.5 ** (b / (_DAY * self.tail_halflife_d))
        # EW sums of effective length w (sum of weights w / b buckets), decay per bucket
        self._sus_dec = [math.exp(-b / w) for w in self.sustain_windows_s]

    # ------------------------------------------------------------------ internals
    def _center(self, t: float) -> tuple[float, float, float, int, float, int]:
        """Expected centre ``mu``, its Anscombe value, sd, and the seasonal indices."""
        h = (t % _DAY) / _HOUR - 0.5  # knots at the hour centres
        i0 = math.floor(h)
        w1 = h - i0
        i0 %= 24
        d = int((t // _DAY + 3) % 7)  # 1970-01-01 was a Thursday; Monday = 0
        daily = self.daily
        s = self.level + (1.0 - w1) * daily[i0] + w1 * daily[(i0 + 1) % 24] + self.weekly[d]
        mu = math.exp(s) if s < 700.0 else math.exp(700.0)
        return mu, anscombe(mu), math.sqrt(1.0 + self.phi * mu), i0, w1, d

    def _tail_score(self, z: float) -> float:
        if z <= self.tail_u:
            return 0.0
        eps = self.tail_eps
        r = math.log10(self.tail_days / eps) + (z - self.tail_u) * eps / (self.tail_exc * _LN10)
        return r if r > 0.0 else 0.0

    def _expected(self, mu: float, sd: float) -> float:
        e = mu + 0.25 * (sd * sd - 1.0)
        return e if e > 0.0 else 0.0

    def _log_ratio(self, k: int, so: float, se: float) -> float:
        """``L_w`` of the EW sums ``so``/``se`` of scale ``k``, rescaled to window sums."""
        n = (1.0 - self._sus_dec[k]) * self.sustain_windows_s[k] / self.bucket_s
        return math.log((1.0 + n * so) / (1.0 + n * (se if se > 0.0 else 0.0)))

    def _sustained(self, x: float, e: float) -> float:
        thr = self.sus_thr
        if thr is None:
            return 0.0
        best = -math.inf
        for k, d in enumerate(self._sus_dec):
            v = self._log_ratio(k, self.sus_obs[k] * d + x, self.sus_exp[k] * d + e) - thr[k]
            if v > best:
                best = v
        return math.exp(best if best < 700.0 else 700.0)

    def _sus_threshold(self) -> list[float] | None:
        """Thresholds of ``L_w`` from the last days' maxima, padded with the prior if few."""
        hist = self.sus_hist
        missing = self.sustain_min_days - (len(hist[0]) if hist else 0)
        if missing <= 0:
            return [_quantile(h, self.sustain_q) for h in hist]
        if self.sustain_prior <= 0.0 or not hist:
            return None
        pad = [math.log(self.sustain_prior)] * missing
        return [_quantile(h + pad, self.sustain_q) for h in hist]

    def _sus_learn(self, t: float, x: float, e: float) -> None:
        """Add a learned bucket to the EW sums and to today's maxima of ``L_w``."""
        day = int(t // _DAY)
        if self.sus_day is None:
            self.sus_day = day
        elif day != self.sus_day:  # a new day: keep the maxima of the last days
            for k, h in enumerate(self.sus_hist):
                if self.sus_max[k] > _NO_MAX:
                    h.append(self.sus_max[k])
                del h[: max(0, len(h) - self.sustain_days)]
            self.sus_max = [_NO_MAX] * len(self.sus_max)
            self.sus_day = day
            self.sus_thr = self._sus_threshold()
        for k, d in enumerate(self._sus_dec):
            so = self.sus_obs[k] = self.sus_obs[k] * d + x
            se = self.sus_exp[k] = self.sus_exp[k] * d + e
            v = self._log_ratio(k, so, se)
            if v > self.sus_max[k]:
                self.sus_max[k] = v

    # ------------------------------------------------------------------ API
    def score_one(self, t: float, count: float) -> VolumeScore:
        """Score the bucket starting at ``t`` with ``count`` mentions, without learning it."""
        x = float(count)
        if self.n == 0:
            return VolumeScore(t, x, 0.0, 0.0, math.inf, 0.0, 0.0, False, 0.0)
        mu, a, sd, _, _, _ = self._center(t)
        z = (anscombe(x) - a) / sd
        bz = self.band_z * sd
        zc = z if z > -self.clip_z else -self.clip_z
        silence = self.cusum_dn - zc - self.silence_k
        e = self._expected(mu, sd)
        return VolumeScore(
            t, x, e, inv_anscombe(a - bz),
            inv_anscombe(a + bz), self._tail_score(z), silence if silence > 0.0 else 0.0,
            self.learned_s >= self.warmup_s, z, self._sustained(x, e), self.phi_n,
        )

    def learn_one(self, t: float, count: float) -> None:
        """Learn the bucket starting at ``t`` (call after :meth:`score_one`)."""
        if self.last_t is not None and t <= self.last_t:
            self.n_late += 1
            return
        x = float(count)
        b = float(self.bucket_s)
        self.last_t = t
        self.learned_s += b
        self.n += 1
        # the tail's exposure clock
        dec = self._dec_tail
        self.tail_days = self.tail_days * dec + b / _DAY
        self.tail_eps *= dec
        self.tail_exc *= dec
        if self.n == 1:
            self.level = math.log(x + 0.5)
            self.last_day = int(t // _DAY)
            return
        mu, a, sd, i0, w1, d = self._center(t)
        phi_n0 = self.phi_n
        self._sus_learn(t, x, self._expected(mu, sd))
        r = anscombe(x) - a
        z = r / sd
        # declustered peaks over threshold
        u = self.tail_u
        if self.in_episode:
            if z > self.episode_peak:
                self.episode_peak = z
            if z < 0.5 * u:
                self.in_episode = False
                self.tail_eps += 1.0
                self.tail_exc += self.episode_peak - u
        elif z > u:
            self.in_episode = True
            self.episode_peak = z
        robust = self.n_scale * b >= 6 * _HOUR  # no clipping until the scale is known
        cz = self.clip_z if robust else 1e9
        zc = cz if z > cz else (-cz if z < -cz else z)
        c = self.cusum_dn - (zc if zc > -self.clip_z else -self.clip_z) - self.silence_k
        self.cusum_dn = c if c > 0.0 else 0.0
        # log-space innovation of the cleaned observation (d log mu = 2 dA / A)
        e = 2.0 * zc * sd / a
        al = max(self._a_level, 1.0 / self.n)
        self.level += al * e
        rest = e * (1.0 - al)
        for k, wk in ((i0, 1.0 - w1), ((i0 + 1) % 24, w1)):
            if wk > 0.0:
                nk = self.n_daily[k] + wk * b / _HOUR
                self.n_daily[k] = nk
                ad = max(self._a_daily, 1.0 / (1.0 + nk * _HOUR / b))
                self.daily[k] += ad * wk * rest
        nw = self.n_weekly[d] + b / _DAY
        self.n_weekly[d] = nw
        # no fast start here: until weeks of data exist the level carries day-to-day change
        self.weekly[d] += self._a_weekly * rest
        # overdispersion: E[r^2] = 1 + phi * mu (clipped, consistency-corrected)
        r2 = r * r
        if robust:
            lim = cz * cz * sd * sd
            r2 = (lim if r2 > lim else r2) * self._kappa
        self.n_scale += 1
        ag = max(self._a_scale, 1.0 / self.n_scale)
        self.g2 += ag * (r2 - 1.0 - self.g2)
        self.gmu += ag * (mu - self.gmu)
        self.phi = self.g2 / self.gmu if self.g2 > 0.0 and self.gmu > 0.0 else 0.0
        # the same in counts: E[(x - mu)^2] = mu + phi_n mu^2 (clipped at clip_z of that sd)
        u2 = (x - mu) * (x - mu)
        if robust:
            lim = cz * cz * (mu + phi_n0 * mu * mu)
            u2 = (lim if u2 > lim else u2) * self._kappa
        self.gn2 += ag * (u2 - mu - self.gn2)
        self.gnmu2 += ag * (mu * mu - self.gnmu2)
        self.phi_n = self.gn2 / self.gnmu2 if self.gn2 > 0.0 and self.gnmu2 > 0.0 else 0.0
        day = int(t // _DAY)
        if day != self.last_day:  # keep the seasonal offsets centred (identifiability)
            self.last_day = day
            m = sum(self.daily) / 24.0
            self.daily = [v - m for v in self.daily]
            m2 = sum(self.weekly) / 7.0
            self.weekly = [v - m2 for v in self.weekly]
            self.level += m + m2

    # ------------------------------------------------------------------ snapshot
    def to_state(self) -> dict[str, Any]:
        """JSON-able snapshot (str/int/float/bool/None/list/dict only).

        >>> import orjson
        >>> m = VolumeModel(300)
        >>> for i in range(50):
        ...     m.learn_one(i * 300.0, 10 + i % 7)
        >>> m2 = VolumeModel.from_state(orjson.loads(orjson.dumps(m.to_state())))
        >>> m2.score_one(50 * 300.0, 30) == m.score_one(50 * 300.0, 30)
        True
        """
        st: dict[str, Any] = {"version": 4}
        st["params"] = {k: getattr(self, k) for k in _PARAMS}
        for k in _STATE:
            v = getattr(self, k)
            st[k] = [list(x) if isinstance(x, list) else x for x in v] if isinstance(v, list) else v
        return st

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "VolumeModel":
        """Rebuild a model from :meth:`to_state`; it scores identically."""
        version = state.get("version")
        if version not in (1, 2, 3, 4):
            raise ValueError(f"unknown VolumeModel state version {version!r}")
        p = {k: v for k, v in state["params"].items() if k in _PARAMS}
        if version < 3:  # sliding-window evidence of versions 1-2: start it afresh
            p = {k: v for k, v in p.items() if not k.startswith("sustain_")}
        m = cls(p.pop("bucket_s"), **p)
        for k in _STATE:
            if k not in state or (version < 3 and k.startswith("sus_")):
                continue
            v = state[k]
            setattr(m, k, [list(x) if isinstance(x, list) else x for x in v]
                    if isinstance(v, list) else v)
        if "phi_n" not in state:  # before version 4: start the count moments from phi
            m.gnmu2 = m.gmu * m.gmu
            m.gn2 = m.phi * m.gnmu2
            m.phi_n = m.phi
        return m
