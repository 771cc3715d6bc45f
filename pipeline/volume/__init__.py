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
   below the tail threshold. The alarm fires at ``score >= 1`` (rarer than ~once in 10
   days for the brand), on the first bucket (no persistence, NAB rewards the onset).
4. *Silence*: one-sided CUSUM of clipped standardised deficits (allowance 1 sd/bucket):
   it needs a usually busy brand staying well under its band for several buckets; a
   brand expecting ~1 mention cannot raise it. Separate low-severity alarm (CUSUM >= 10).

Measurements that chose it (NAB realTweets AAPL/GOOG/IBM/KO, standard profile)
------------------------------------------------------------------------------
* Raw ``z`` threshold (this count model, no calibration): best 55.6 over thresholds
  4-12; 38-258 false positives, because AAPL's unlabelled 30x spikes outscore GOOG's
  and IBM's labelled events.
* ``z`` over a decaying running peak ("largest in ~a week"): 52-61, noisy in the
  parameters. Per-bucket exponential tail without declustering: 45-56.
* Adding a 1 h / 3 h aggregate-sum score (max with the bucket score, same or separate
  calibration): no gain (within +-2), dropped.
* Declustered POT return period (kept): 65.0 with these defaults (9 TP, 17 FP, 3 FN).
  Leave-one-file-out over level half-life x tail_u x on x cool-down: 59.5; in-sample
  best of that grid 68.5, grid median 55.8. Sensitivity (others at default):
  on 0.5/0.75/1/1.25/1.5/2 -> 61.9/59.8/65.0/52.4/44.6/39.6; tail_u 4/5/6/8 ->
  64.6/65.0/58.8/59.1; cool-down 6/12/24 h -> 63.7/64.6/65.0; level half-life
  2/6/24 h -> 57.5/65.0/68.0. Honest caveat: the defaults were picked while looking at
  these 4 files (from a coarse plateau), so 65 is partly in-sample; 59.5 is the fair one.
* river ``HoltWinters``/``SNARIMAX``: NOT measured (time). Expected drawbacks, untested:
  a 288/1440-bucket seasonal period is costly per call and needs whole days before it
  predicts. The measured misses come from the score calibration, not the baseline.
* Synthetic Poisson-gamma series (daily cycle +-60 %, weekend -30 %, overdispersion
  0.05, 3 surges in 35 days, 15-min ramp, 1-3 h long), defaults: x6 surges found within
  1 h 3/3 at 20, 200 and 2000 mentions/5 min with 300 s buckets (delay ~5 min), 2/3 to
  3/3 with 60 s buckets (delay 4-18 min); x3 surges only 0-2/3; at 2 mentions/5 min
  0-1/3. No false alarm in 34 days in any case: the defaults are conservative.

Gaps are skipped (a bucket not passed is unknown, not zero); see ``VolumeModel``.
"""
from pipeline.volume.alarm import (
    DEFAULT_SILENCE, DEFAULT_SURGE, SILENCE_COOLDOWN_S, SILENCE_OFF, SILENCE_ON, SILENCE_QUIET_S,
    SURGE_COOLDOWN_S, SURGE_OFF, SURGE_ON, SURGE_PERSIST, SURGE_QUIET_S, SurgeAlarm,
    SurgeThresholds,
)
from pipeline.volume.model import VolumeModel, VolumeScore, anscombe, inv_anscombe

__all__ = [
    "DEFAULT_SILENCE", "DEFAULT_SURGE", "SILENCE_COOLDOWN_S", "SILENCE_OFF", "SILENCE_ON",
    "SILENCE_QUIET_S", "SURGE_COOLDOWN_S", "SURGE_OFF", "SURGE_ON", "SURGE_PERSIST",
    "SURGE_QUIET_S", "SurgeAlarm", "SurgeThresholds", "VolumeModel", "VolumeScore",
    "anscombe", "inv_anscombe",
]
