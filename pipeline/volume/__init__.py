"""Per-brand mention-volume model, surge/silence score and once-per-episode alarm.

Pure logic, driven by event time only: ``VolumeModel.score_one(t, count)`` scores a closed
bucket from the state learned on *earlier* buckets, then ``learn_one(t, count)`` learns it.
``SurgeAlarm`` turns scores into discrete "surge detected" events; its thresholds are the
named constants / ``SurgeThresholds`` exported here, shared with the incident machine.

Method (one parameter set for every brand, bucket length 60 s live / 300 s NAB)
--------------------------------------------------------------------------------
1. *Expected count*: ``mu(t) = exp(level + daily(t) + weekly(t))`` -- local level
   (half-life 6 h), daily profile (24 hourly knots, linearly interpolated, 7-day memory,
   1/n learning at first), day-of-week offsets (slow, 4-week memory). Learned Holt-Winters
   style from the residual *clipped at 3 sd*, so a burst barely moves the baseline.
2. *Count-aware noise*: Anscombe transform ``2 sqrt(x + 3/8)``; predicted residual sd
   ``sqrt(1 + phi * mu)`` (Poisson floor 1 for a brand with 2 mentions/bucket,
   negative-binomial overdispersion ``phi`` for one with 2,000), ``phi`` by an
   exponentially weighted, clipped, consistency-corrected method of moments. ``z`` is the
   standardised residual; the band is ``+-3 sd`` mapped back to counts.
3. *Surge score*: tweet volume is heavy-tailed and how heavy differs per brand (on NAB
   AAPL the 99.9 % quantile of ``z`` outside labelled windows is ~20, on GOOG/IBM ~8), so
   a fixed ``z`` threshold cannot be shared. ``z`` is declustered into episodes
   (``z > 5`` until ``z < 2.5``) and the episode peaks fitted with an exponential tail
   (peaks over threshold, 30-day memory, prior 2 episodes at 1/day with mean excess 3).
   ``score = log10(return period in days)`` of a surge of this size for this brand, 0
   below the tail threshold (the live watch opens at ``score >= 1``, rarer than ~once in
   10 days for the brand).
4. *Silence*: one-sided CUSUM of clipped standardised deficits (allowance 1 sd/bucket):
   it needs a usually busy brand staying well under its band for several buckets; a
   brand expecting ~1 mention cannot raise it. Separate low-severity alarm (CUSUM >= 10).
5. *Sustained surge* (``VolumeScore.sustained``, issue 4): many NAB tweet anomalies are
   multi-hour level shifts, not one-bucket spikes. For w = 3 h and 12 h,
   ``L_w = ln((1 + observed sum over w) / (1 + expected sum over w))``; the brand's own
   daily maxima of ``L_w`` over the last 7 days give a threshold (their 0.9 quantile,
   i.e. about the week's largest); ``sustained = exp(max_w(L_w - thr_w))``, >= 1 =
   alarm-worthy. Scale-free (a ratio of ratios), a self-calibrating firing rate of at most
   about once a day, O(1) per bucket (ring buffers, a 7-value quantile once a day).
   The NAB alarm (``DEFAULT_SURGE``) fires on ``sustained >= 1`` or onset ``score >= 2``,
   then stays silent for 24 h. The live worker keeps the fast onset ``score`` for its
   watch/crisis thresholds (see ``pipeline.watch``).

Measurements (NAB realTweets AAPL/GOOG/IBM/KO, standard profile, ``bench/nab.py --sweep``)
--------------------------------------------------------------------------------------
* Defaults: 81.0 in-sample (12/12 windows, 28 FP; ARTime 80.5, knncad 69.9).
  **Leave-one-file-out 67.6** (per held-out file AAPL 63.4, GOOG 56.7, IBM 65.4, KO
  85.7) over a 96-point grid (sustained quantile 0.8/0.9 x offset 0-0.3 x onset
  1/1.5/2/off x cool-down 24/36/48 h); grid median 61.9. 67.6 is the figure to expect on
  unseen series, not 81: the in-sample optimum is sharp (offset 0.1 -> 62.4, cool-down
  36 h -> 67.4, quantile 0.8 -> 76.1; onset 1/1.5/2/off -> 78.3/80.1/81.0/81.0). The goal
  of > 85 on unseen series is NOT reached.
* Why it is hard: even with hindsight, firing at the top-k declustered peaks of one
  feature per file (z, 1/3/12 h z-sums, 1/3/12 h log ratios) scores at most ~71: several
  labelled windows (GOOG's merged window, IBM's first) are smaller than 7-19 unlabelled
  episodes of the same file. NAB rewards catching every window (FN = 1, FP = 0.11), so the
  detector fires ~10 times per file, and which windows it catches is fragile.
* Research path (scratch scripts, not kept): the previous POT onset alarm 65.0 / LOO 59.5;
  log ratio relative to recent daily maxima, one scale: 3 h 79.5 (LOO 67.4), 12 h 81.7
  (LOO 59.7); 3 h + 12 h + onset on a smaller grid LOO 75.1, on a 3x bigger grid (level
  half-life 6/24 h, a 24 h scale) LOO 68 -- more grid, more overfitting. Ratios to the
  median daily max of z-sums: 65-71 in-sample, LOO 47-56. river HoltWinters/SNARIMAX:
  still not measured.
* Synthetic Poisson-gamma series (``--synthetic``: daily cycle +-60 %, weekend -30 %,
  overdispersion 0.05, 35 days, alternating 1 h x6 spikes and 6 h x2 shifts): at 20, 200
  and 2000 mentions/5 min spikes 3/3, shifts 2/3, median delay 27-39 min, 0-1 false alarm
  in 34 days; at 2/5 min spikes 1/3, shifts 2/3, 4 false alarms (0.12/day).
* Cost: model + alarm ~12-23 us per bucket (pure Python), under the 50 us budget.
* Earlier figures of the onset score alone: raw ``z`` thresholds 55.6 at best; ``z`` over
  a decaying running peak 52-61; per-bucket tail without declustering 45-56; adding 1 h /
  3 h z-sums with the same calibration: no gain.

Gaps are skipped (a bucket not passed is unknown, not zero); see ``VolumeModel``.
"""
from pipeline.volume.alarm import (
    DEFAULT_SILENCE, DEFAULT_SURGE, SILENCE_COOLDOWN_S, SILENCE_OFF, SILENCE_ON, SILENCE_QUIET_S,
    SURGE_ALARM_ON, SURGE_COOLDOWN_S, SURGE_OFF, SURGE_ON, SURGE_PERSIST, SURGE_QUIET_S,
    SUSTAINED_ON, SurgeAlarm, SurgeThresholds,
)
from pipeline.volume.model import VolumeModel, VolumeScore, anscombe, inv_anscombe

__all__ = [
    "DEFAULT_SILENCE", "DEFAULT_SURGE", "SILENCE_COOLDOWN_S", "SILENCE_OFF", "SILENCE_ON",
    "SILENCE_QUIET_S", "SURGE_ALARM_ON", "SUSTAINED_ON", "SURGE_COOLDOWN_S", "SURGE_OFF", "SURGE_ON", "SURGE_PERSIST",
    "SURGE_QUIET_S", "SurgeAlarm", "SurgeThresholds", "VolumeModel", "VolumeScore",
    "anscombe", "inv_anscombe",
]
