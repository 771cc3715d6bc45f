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
   standardised residual; the band is ``+-3 sd`` mapped back to counts. The same
   overdispersion is also learned in counts (``phi_n``, ``E[(x - mu)^2] = mu + phi_n
   mu^2``; ``VolumeScore.dispersion``): under ~2 mentions per bucket the Anscombe variance
   of a Poisson count is under 1, so the Anscombe ``phi`` falls to 0 there, ``phi_n`` not.
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
   multi-hour level shifts, not one-bucket spikes. For time scales w = 6 h and 12 h,
   ``L_w = ln((1 + observed) / (1 + expected))`` of exponentially weighted sums of
   effective length w (O(1) state, no ring buffer); the brand's own daily maxima of
   ``L_w`` over the last 7 days give a threshold (their 0.9 quantile: between the week's
   largest and second largest), once 5 days are known (a quantile of 2-4 daily maxima
   is too low: it gave 3 of the false alarms); before that the missing days count as a
   prior daily maximum ``ln 2`` (a doubling over 6-12 h), so a brand's first days are
   not blind to level shifts; ``sustained = exp(max_w(L_w - thr_w))``,
   >= 1 = alarm-worthy. Scale-free (a ratio of ratios) and self-calibrating: a firing
   rate of about once a week per series, whatever its volume or tail.
6. *Alarm* (``DEFAULT_SURGE``): fires on onset ``score >= 1.5``, or on ``sustained >= 1``
   in a bucket that is itself a 4-sd outlier (``z >= 4``, ``SUSTAINED_Z``; under ~1.6
   expected mentions the z of a x7 bucket, at least 3; under 5 expected mentions also a
   bucket whose exact negative-binomial tail z, :func:`nb_tail_z` with ``phi_n``, is 4 or
   more), once per episode; the episode ends after 12 h with no evidence at all (``score`` 0
   and ``sustained`` < 1), with no fixed cool-down. The live worker keeps the fast onset
   ``score`` for its watch/crisis thresholds (see ``pipeline.watch``); the alarm is the
   NAB bench's.

Measurements (NAB realTweets AAPL/GOOG/IBM/KO, standard profile)
-----------------------------------------------------------------
``bench/nab.py --sweep --synthetic --json``. The honest proxy for unseen series is the
leave-one-file-out (LOFO) figure and the *shape* of the grid (median, 10th percentile),
not the in-sample score: with 12 windows, one window caught or missed moves the total by
~8 points, so a sharp optimum is noise. Caveat: the structure below (scales, EW sums,
episode alarm, 5 days) was itself chosen looking at all 4 files, so even LOFO is
optimistic; expect ~80-83 on unseen series.

* Exact tail for a few expected mentions (2026-12-07, issue 4, third session): the gate
  of the sustained evidence also passes a bucket whose exact mid-p negative-binomial tail
  z (``nb_tail_z``, with the overdispersion learned in counts, ``phi_n``) is at least
  ``SUSTAINED_Z`` where fewer than 5 mentions are expected (``sustained_exact_e``, 0 =
  off). Why: the Anscombe ``z`` understates the tail of a small count (12 mentions
  against 1.6 expected: Anscombe z 3.8 at GOOG's overdispersion, exact z 4.1), and the
  earlier exact-tail attempts (below) took ``phi`` from the Anscombe estimator, which is
  0 on quiet brands (IBM thinned to 20 %: 0.0; in counts 0.4-0.7), i.e. a Poisson tail,
  far too light for tweet bursts. Figures (``bench/nab.py --sweep --offsets --synthetic
  --synthetic-seeds 6 --thinning --thin-seeds 6 --shifts --json``, before -> after):
  in-sample 85.93 -> 85.93 (16 FP, 12/12), LOFO 86.11 -> 86.11, grid median / q10
  83.57 / 78.91 unchanged; thinning 50/20/10/5 % (mean of 6 seeds; FP, FN summed)
  85.75 (99, 0) / 82.38 (104, 3) / 82.13 (80, 4) / 74.92 (72, 11) -> 85.75 (99, 0) /
  **84.47** (104, 1) / 82.05 (81, 4) / 74.62 (76, 11): GOOG 03-22 is found at 20 % in 2
  more seeds (12 against 1.6-1.7, exact z 4.1); time shifts 85.8-86.3 and synthetic
  80/141 (66 spikes, 14 shifts, 0 false alarms) unchanged. **Cost**: start offsets
  median 80.4 -> 80.3, min 71.2 -> 70.7, missed 14 -> 14, FP 302 -> 306: one IBM bucket
  (03-31 06:22, 15 against 1.6, Anscombe z 3.95, exact z 4.1, ``phi_n`` 0.44) fires at 4
  of the 21 offsets (60, 72, 84, 120 h), where the model expects 1.6; from the file's
  start it expects 1.8 there (Anscombe z 3.82, exact z 3.85: no firing). It is as rare
  as the GOOG buckets the gate is for: no single-bucket statistic tells them apart.
  CPU: model + alarm 7.4-7.6 -> 7.7-8.4 us per bucket (``taskset -c 1``, alternated, 3
  runs each; the count moments, and the exact tail only where the sustained evidence is
  up and the Anscombe gate fails). The bound 5
  does not matter: 2, 5 or none give the same figures (above ~5 the exact z is the
  smaller one, the tail of a count being skewed). Tried (research harness on the bench's
  functions, same seeds and measures; rows as in-sample / thinning 50/20/10/5 % means /
  synthetic spikes+shifts, false alarms):
  the exact gate as the *only* gate (no Anscombe z): G 4 / 4.5 / 5: 70.4 / 70.4 / 70.8
  (an AAPL and a KO window lost: on a busy brand the count's tail is skewed and its exact
  z is under the Anscombe z); the exact gate at 3.5 (OR): in-sample 85.05
  (GOOG 84.5, IBM 76.5: 2 FP), thinning 85.53 / 85.24 / 81.81 / 78.95, synthetic 67+17;
  at 4.5: no gain (the figures of before; 5 % 74.83); the exact gate with the plain tail
  ``P(X >= x)`` instead of mid-p: 85.93 / 85.75 / 84.37 / 82.05 / 74.68, and the IBM
  bucket still passes (z 4.03); the exact gate without the count-aware R/zmin gate:
  85.93 / 85.90 / 85.46 / 80.87 / 71.53 (fewer FP at 50/20 %, lost windows at 10/5 %);
  with the Anscombe ``phi`` in the exact tail instead of ``phi_n`` (Poisson on quiet
  brands): 85.93 / 85.67 / 84.24 / 81.24 / 77.58, synthetic 67+18 (+4 shifts at 2 per
  5 min), 0 false alarms, but 10 more FP at 10 % and 1 at 50 %, and it rests on a
  variance estimate known to be wrong there; the model's own sd from ``phi_n``
  (``sqrt(1 + phi_n mu)`` instead of the Anscombe ``phi``): in-sample 69.9 (AAPL and KO
  windows lost: ``phi_n`` is larger on busy brands, 0.4-0.5 for AAPL against 0.3, so
  every z shrinks), thinning 71.7 / 68.3 / 65.8 / 56.2.
  A better Poisson floor for the Anscombe ``phi`` (with the exact gate on): its method of
  moments against the exact variance of the Anscombe residual of a Poisson count
  (``E[r^2] = v0(mu) + phi mu``; ``v0`` 0.32 at mu 0.3, 0.74 at 1, 1.0 from ~3) instead of
  1, so that it no longer falls to 0 on quiet brands: 85.93 / 85.82 / 84.97 / 80.40 /
  64.69, synthetic 66+13 (a larger ``phi`` at low counts, so smaller ``z``: 50/20 %
  slightly better, 10 % FN 4 -> 6, 5 % FN 11 -> 19); the same and that floor in the sd
  too (``sqrt(v0(mu) + phi mu)``): 85.93 / 85.29 / 84.40 / 79.23 / 73.57 (FP at 5 %
  76 -> 133), synthetic 65+15 with a false alarm. The exact tail of the sum of the last
  buckets, as many as make 5 (or 10) expected mentions within 30-60 min, as a further way
  through the gate (with the gate of before): with ``phi_n / k`` for a sum of k buckets
  (independent buckets) in-sample 85.02 (2 IBM FP), thinning 85.33 / 82.50 / 79.92 /
  77.24, synthetic 68+17; with ``phi_n`` (buckets fully correlated) 85.93 / 85.67 /
  82.38 / 81.86 / 74.30, synthetic 68+14: no window recovered, more FP, as with the
  Anscombe sums of the previous session. The exact tail z (``phi_n``, under 5 expected)
  also for the onset tail (episodes and ``score``; it would change the live watch too):
  85.93 / 85.36 / 84.42 / 82.12 / 74.53, synthetic 66+14 (5 more FP at 50 %): not taken.
  Left as they were: the gentle 6 h x2 shifts (14/69): their 6-12 h evidence barely
  reaches 1 (max ``sustained`` 0.85-1.23 over 21 shifts of seeds 0-1), because the x6
  spike 2-8 days earlier is the week's largest excess: the gate is not what stops most of
  them, and a bypass of the gate at ``sustained >= 1.5/2/2.5`` finds none of them (with
  the gate of before this change: NAB in-sample unchanged; 1.5: thinning 20/10/5 %
  82.30/81.82/74.53, 1-5 more FP; 2 and 2.5: no change at all).
* Quiet brands (2026-12-07, later session; nothing adopted, defaults unchanged). Unseen
  tickers may be much quieter than the visible 4-86 mentions per 5 min, so the proxy is
  now in the bench: ``bench/nab.py --thinning`` keeps each mention with probability
  50/20/10/5 % (seeded, same labels; ``--thin-seeds 6`` for the comparisons below, as one
  window moves a seed's score by ~8 points), ``--shifts`` (timestamps +3..21 h),
  ``--synthetic-seeds 6`` (the 141 events) and ``--alarm FIELD=VALUE`` (any alarm
  variant through every measure). Figures below: ``bench/nab.py --sweep --offsets
  --synthetic --synthetic-seeds 6 --thinning --thin-seeds 6 --shifts --json [--alarm
  ...]`` (thinning: mean of 6 seeds at 50/20/10/5 %, FN of 72 window-runs).
  **Defaults**: in-sample 85.9, LOFO 86.1, offsets median 80.4 (14 missed), shifts
  85.8-86.3, synthetic 79/141 (0 false alarms), thinning 85.9 / 82.4 (4 FN) / 79.9 (7)
  / 68.5 (17). **Gate off** (``--alarm=sustained_z=-inf``): in-sample 82.3, offsets 82.3
  (10 missed), shifts 82.6-83.3, synthetic 113 (5 false alarms), thinning flat at
  82.7 / 82.6 / 82.9 / 82.7 with 0 FN (143-150 FP): the z >= 4 gate wins at the visible
  volumes, breaks even at 20 % of them and loses below (10 %: GOOG at ~2, KO ~1, IBM
  ~0.4 mentions per 5 min).
  Every window missed on thinned counts has ``sustained >= 1`` but no bucket at z 4:
  GOOG 03-22 is caught at full volume by one bucket of 52 against 9.3 expected (z 5.4),
  which at 10 % is 4 against 0.7 (z 2.1); IBM 03-22 has 0.1-0.2 expected per bucket.
  Tried (figures as above):
  the count-aware gate ``sustained_ratio``/``sustained_zmin`` (in ``SurgeThresholds``;
  **on in the defaults since 2026-12-07, R 7 / zmin 3**, see below: where a bucket at R times its expectation ``e`` cannot reach 4 sd,
  ``anscombe(R e) - anscombe(e) < 4``, i.e. ``e`` under ~1.6 for R = 7, the gate is that
  z, at least zmin). R 7 / zmin 3, the closest to a win: in-sample 85.9, LOFO 86.1, grid
  median 83.6, offsets and shifts identical, synthetic 80 (0 false alarms), thinning
  85.75 / 82.38 (3 FN) / 82.1 (4) / 74.9 (11): +2.2 and +6.4 at 10 and 5 %, but -0.15 at
  50 % (2 more FP in 24 file-runs: IBM at 0.6-0.9 expected, 7-8 mentions, z 3.0-3.5) and
  -0.02 at 20 % (1 FN less, 16 FP more). **Taken** (lead's decision): identical at the
  visible volumes, and the unseen brands are more likely quieter than AAPL/GOOG (IBM's
  mean is 4.4 per 5 min, KO 11.4) than louder; the 50 % loss is two IBM buckets in 24
  file-runs, within one seed's noise. R 7 / zmin 2.75: thinning 85.75 / 81.95
  / 82.7 / 77.8; zmin 3.5: 85.82 / 83.12 / 80.6 / 69.5; R 6 / zmin 2.75: 85.68 / 84.0 /
  83.7 / 78.3, synthetic 82, but in-sample 85.5 (an IBM FP: 15 against 1.8, z 3.82) and
  offsets median 80.0; R 6 / zmin 2.5 (2 seeds) in-sample 85.5, synthetic 83 with a false
  alarm; R 4-5: in-sample 85.0-85.5; R 8-10 (2 seeds): worse at 20 %. A plain gate at 3
  sd (``--alarm sustained_z=3``): in-sample 83.2, thinning 84.0 / 84.75 / 84.45 / 78.6,
  offsets 82.7 (10 missed), synthetic 99. Research harness (``/tmp``, 2 seeds, thinning
  50/20/10/5 % seed 0/seed 1; defaults 85.5/85.5, 86.0/80.4, 81.2/74.4, 74.8/67.6):
  the gate passed by the Anscombe z of the last buckets' sum, as many as make an expected
  count of M (3-20) within 30-60 min: in-sample 85.5-85.9 but 10 % 76.4-77.8/71.3-72.6
  (FP 23 -> 36-42, no window recovered); the gate OR a bucket ratio
  ``(1 + x) / (1 + e) >= R``: R 3/4/5 in-sample 84.2/84.6/85.5 (IBM), R 6/8 no gain; an
  exact mid-p negative-binomial tail z (probit of ``P(X > x) + P(X = x) / 2``) for the
  onset tail (episodes and score): in-sample 85.9, synthetic 79, thinning within 1 point
  (5 %: 73.9/67.2); the same z for the gate too: 10 % 71.2/64.9, 20 % 77.0/77.1 (more
  FP), 5 % 78.6/80.3, offsets 79.7 (17 missed), synthetic 78. The onset tail prior (these
  also change the live watch's score; scenarios not re-run for them): prior mean excess
  2 / 1.5 / 2.5: in-sample 85.9 / 86.5 / 85.9, offsets median 80.0 / 79.9 / 80.4,
  synthetic 79 / 80 / 79, thinning within +-0.6; 4 prior episodes with excess 2: 86.4
  (AAPL one detection earlier), offsets 80.0; tail threshold ``tail_u`` 4: 86.4, 10 %
  80.7/74.4; tail half-life 14 days: no change. Why the onset misses the synthetic 1 h x6
  spikes: with no episode in 7 days the score is ``0.71 + 0.145 (z - 5)``, so 1.5 needs
  z ~10.4; at 20 per 5 min they reach z 7.6-7.9 (score 1.1-1.2), at 2 per 5 min an
  Anscombe z of 3.6-5.5 (exact tail z 4.6-7): neither a lighter prior nor the exact z
  lifts them past 1.5 without the costs above. Live watch: ``--scenarios --seeds 3
  --days 3`` 3/3 crises, delay median 2 / max 3 min, 0 false crises or incidents in 18
  brand-days (the alarm is not the worker's; nothing in the model changed).
* Gate of the sustained evidence on the tipping bucket (``SUSTAINED_Z`` = 4, 2026-12-07):
  the alarm opens on ``sustained >= 1`` only in a bucket with ``z >= 4``. Why: of the 23
  false positives before, 6 were large unlabelled spikes (onset score, z 10-30, as sharp
  as the labelled ones: nothing tells them apart) and 17 came from the sustained
  evidence; 13 of those 17 tipped over in a bucket at z 1.5-3.8 (slow multi-hour drifts:
  common in tweet volume, never labelled on these files), while every window the
  sustained evidence catches had z >= 4.15 at its tipping bucket. NAB economics: a
  window is worth ~1.9 and an FP costs 0.11, so the gate pays if fewer than ~1 in 17 of
  the gated firings would have been a window; here 0 of 13. Figures
  (``bench/nab.py --sweep --offsets --synthetic --json``, before -> after):
  **in-sample 82.3 -> 85.9** (12/12 windows, FP 23 -> 16: AAPL 89.2, GOOG 86.2, IBM
  79.3, KO 85.8); LOFO 85.0 -> 86.1 (the grid now also has the gate off/4, added after
  looking at the files, so this LOFO is optimistic; the folds all pick the gate); grid
  median 82.1 -> 83.6, 10th percentile 78.6 -> 78.9 (1,152 points: the 576 before x
  gate off/4); like for like, the same 576 points with the gate on (harness): LOFO
  86.1, median 85.6, 10th percentile 81.9 (without: 85.0, 82.1, 78.6); start offsets
  median 78.1 -> 80.4, mean 79.9 -> 81.8, but min 75.3 -> 71.2 and missed windows
  11 -> 14 (the 3 new ones are all AAPL 03-09, the weakest window, when the file
  starts 48-84 h later: its tipping bucket falls under 4);
  timestamps shifted by 3-21 h: 82.6-83.3 -> 85.8-86.3. Costs: binomial thinning of
  the counts (harness, seeds 0/1) to 50 % 82.4/82.7 -> 85.5/85.5, 25 % 84.4/81.9 ->
  87.2/78.7, 10 % 83.1/83.6 -> 81.2/74.4: at 0.4-2 mentions per 5 min a bucket can hardly
  reach z 4, so weak windows of very quiet brands are lost (GOOG at 10 %: 6 mentions
  against 0.64 expected is z 3.0); synthetic over 6 seeds 113/141 found with 5 false
  alarms -> 79/141 with 0: spikes 69 -> 65 of 72 (the 4 lost at 2 per 5 min), the
  gentle 6 h x2 shifts 44 -> 14 of 69 -- in the sustained evidence they look exactly
  like the unlabelled NAB drifts, which is the point of the gate and its price. The live
  watch
  does not use this alarm (scenarios unchanged). Measured and not taken (in-sample NAB /
  start offsets median, min, missed / synthetic found of 141 / thinning): gate 3.5
  84.1 / 78.6, 69.4, 13 / 90; gate 4.5 86.3 / 79.8, 71.6, 17 / 67 / 10 % thinning 74.3,
  66.5; gate 3.75/4.25 84.6 / 79.5, 69.8, 14 and 85.9 / 80.3, 71.6, 15 (a plateau from 4
  to 4.5, then a cliff); gate 5 loses AAPL 03-09 (78.5); gate 4 unless
  ``sustained >= 1.05`` 84.1 / 78.6, 76.6, 11 / 102 (a middle way: smaller gain,
  smaller cost); gate on the largest z of
  the last 30-60 min instead of the tipping bucket 83.2-83.7; gate on the bucket's ratio
  (1 + observed) / (1 + expected) >= 3-5: 84.2-85.5 but 69-80 synthetic (the shifts
  above 2 per 5 min all lost); gate on an exact negative-binomial tail z instead of the
  Anscombe z (for quiet brands) 85.5, thinning 10 % unchanged (79.5/72.2); a 1 h z of
  the hour's sum as the gate 83.0-83.1 (6-8 sd), 79.1 (10 sd, loses a window); a soft
  fusion
  ``ln(sustained) + beta (z - z0) >= 0`` 76.8-85.0 for beta 0.01-0.05 (more firings
  below ``sustained`` 1); the sustained threshold raised to 1.05/1.1/1.15 without a gate
  84.5/85.2/80.1 (a cliff: GOOG's windows); ``sustained >= 1`` held for 15 min-3 h
  82.5-83.3, 4 h loses a window; adding a 1 h or 3 h scale to the evidence (with the
  gate) 82.0/83.2 (22-28 FP) although it finds the synthetic 1 h x6 spikes at 20 per
  5 min (16 -> 18 of 18): the onset score misses those on light-tailed series because
  the tail prior (mean excess 3) still dominates after 7 days (score 1.0-1.2 for z 6-8
  over a whole hour); untouched. Persistence (2 buckets) for the onset score would not
  help: 2 of the labelled spikes (IBM 03-23, KO 04-14) are as short as the unlabelled.
  Of the 14 windows missed over the start offsets, 8 end inside NAB's probationary
  period (no detector can score them). Taken from the previous session's unfinished work
  (same day): ``bench/nab.py`` treats NAB's probationary rows as the alarm's warm-up
  (NAB hands every detector that length), so an episode opened there cannot mask a window
  just after it: no figure above changes (the KO detection at row 617 goes). Not taken
  from it (measured with the gate): ``sustain_hold`` (learn the level at that fraction
  while the evidence is over its threshold) 0.5/0.25: NAB 85.9/86.2 (15/14 FP) but start
  offsets median 79.6/79.4, missed 17/18, thinning to 10 % 81.2/74.2 and 66.3/65.6,
  synthetic 79/80; ``sustain_cap`` (cap a bucket at that multiple of 1 + expected in
  the evidence) 3/5/10: 78.1 (loses a window)/85.5/84.7.
* Prior for a brand's first days (``sustain_prior`` = 2, 2026-11-25, later session):
  **in-sample 82.3** (12/12, 23 FP: one more, IBM on day 4; AAPL 89.2, GOOG 77.2, IBM
  71.1, KO 85.9), **LOFO 85.0** (same 576-point grid, same choices), grid median 82.1,
  10th percentile 78.6; synthetic unchanged (its events start after day 7). Why: an
  unseen series starts anywhere. ``--offsets`` (each file with its first 0-240 h
  dropped, 21 runs): median 78.1 (before 76.4), missed windows 11 (before 15); the 11
  left are windows inside NAB's probation (fired, but ignored by the scorer) or in the
  first, cold day. Prior ratio 1.5/2/2.5/3/4: offsets median 76.7/78.1/78.1/77.2/76.8,
  in-sample 81.4/82.3/82.3/82.3/82.8. Other robustness checks of the defaults (harness):
  binomial thinning of the counts to 50/25/10 % (same events, quieter brands, 2 seeds)
  81.9-84.4; timestamps shifted by 3-21 h (day boundaries in another time zone)
  82.3-83.3. Measured and not taken (in-sample NAB unless said): the threshold as a
  Gumbel return level fitted robustly (quartiles) to the daily maxima, 7-28 days x return
  period 5-50 days: best 85.2 but LOFO 71.8 (grid median 79.9); a longer memory with a
  quantile robust to one big day (14 days q 12/13: 79.0, 21 days q 0.95: 80.6 with only
  13 FP, but both lose GOOG's 03-22 window, whose catch on Monday morning is marginal);
  weekday offsets learned once a day from the level (80.7) or with a 1-2 week half-life
  (82.6/83.1): Mondays stay ~0.15 above the other days in log ratio on all 4 files
  (news or market opening, not fixed by either); a kNN distance of the (3, 6, 12, 24 h)
  log-ratio vector to the last 14 days' hourly states does not separate the detections
  in windows from the others (the weak windows rank among the false alarms), so no
  fusion was built. With the synthetic events from day 3 (``synthetic(first_day=3)``,
  3 seeds) the prior finds one more early spike (2/5 min) and changes nothing else; a
  6 h x2 shift within ~5 days of a x6 spike stays hard (1-2 of 3 per seed at 2-20/5 min).
  Synthetic over 6 seeds (141 events; ``synthetic(seed=0..5)``): defaults 113 found, 5
  false alarms; quantile 0.95/1 98/88 found (2 false alarms each): LOFO's favourite
  loses a sixth of the synthetic events, hence 0.9 stays. Most misses are 6 h x2 shifts
  at 200-2,000/5 min (8-10 of 17 found): with overdispersion a x2 bucket is only ~3.7 sd,
  so the clipped residual still drags the level (half-life 6 h) and by the end of the
  shift the expectation has absorbed ~40 % of it. Open lead, not taken for lack of time
  to run its LOFO grid and start offsets (it also changes the onset ``score`` the watch
  uses): ``clip_z`` 2 gives NAB 84.1 (21 FP), 116/141 synthetic (6 false alarms), engine
  scenarios unchanged (3/3, delay median 2 / max 3 min, no false incident); a level
  half-life of 12 h NAB 82.6 (24 FP), 119/141 (5 false alarms). Weekday offsets with a
  1-2 week half-life: 110-111/141, no gain.
* Defaults before (2026-11-25): **in-sample 82.8** (12/12 windows, 22 FP; AAPL 89.2, GOOG 77.2,
  IBM 73.8, KO 85.9). **LOFO 85.4** over a 576-point grid (scales 6+12 / 6+24 / 12+24 h
  x quantile 0.85/0.9/0.95/1 x 2/5 days x onset 1.5/2/3/off x quiet 3/6/12 h x cool-down
  0/24 h; the folds pick quantile 0.95-1, 5 days: AAPL 90.5, GOOG 80.6, IBM 76.5, KO
  89.4); grid median 82.3, 10th percentile 78.6; one-at-a-time around the defaults
  79.6-84.7 (quantile 0.85/0.9/0.95/1: 80.5/82.8/84.1/84.7; with 2 days: 71.0/81.4/
  83.6/84.2; quiet 3/6/12 h: 79.6/81.9/82.8; onset 1.5/2/3/off: 82.8). Before this
  session: in-sample 81.0 but LOFO 67.6 and grid median 61.9 (a fixed 24 h cool-down:
  36 h -> 67.4, 48 h -> 52.3; a threshold offset 0.1 -> 62.4).
* Start-offset check (every file with its first 0/12/24/36/48/72 h dropped, same labels;
  ``--data-dir`` on trimmed copies): 82.8/83.5/83.5/83.5/83.5/75.3 (before: 81.0/82.0/
  81.8/82.9/75.0/74.6). At 72 h AAPL's first window falls into NAB's probation period.
* Quantile 1.0 (the week's maximum) scores 84.7-85.6 in-sample (16 FP) and is what LOFO
  picks, but it suppresses a second event of the same size within a week: on the synthetic
  series (one event every ~5 days) shifts at 2,000/5 min fall from 2/3 to 0/3 (0.95:
  also 0/3). Not taken: a NAB gain that breaks the synthetic check. Not fixing it either
  (in-sample NAB / synthetic found of 24): censoring alarm days in the history at
  threshold + 0.05-0.5 (73-84 / 15-16), a 4-5 day memory (80.5-81.7 / 17-19), daily
  maxima discounted by 0.8/0.85/0.9/0.95 per day of age (78.3/80.8/81.0/83.0, 17-22
  found but 1-6 false alarms), a slower baseline for the evidence (level half-life
  24/48 h: 68/65).
* The goal of > 85 on unseen series is NOT shown to be reached; with the gate expect
  ~81-85 (LOFO 86.1 and grid median 83.6 are optimistic, the start offsets' median 80.3;
  on much quieter series less: thinned to 20 % 84.5, 10 % 82.1, 5 % 74.6, see "Exact tail"),
  against 80.5 for ARTime (best published) on these 4 files. Budget: detections land at
  the label (mid-window, TP ~0.86 each), so ~7 points are out of reach causally; 85
  needs all windows and at most ~17 FP over the 4 files (16 with the gate, 23 before).
* What NAB rewards: a window is worth ~1.9 (FN -1 vs an onset-time TP ~+0.86; a TP at the
  label, mid-window, earns 0.86, at the start 1), an FP costs 0.11 (almost 0 just after a
  window), so firing is worth it whenever P(new window) > ~6 %; windows cover ~10 % of a
  file. A detector firing every 24-48 h at random scores 12-32. The cliff of the old
  alarm came from its cool-down: a false alarm shortly before a window blocked it. An
  episode that ends on quiet (no evidence for 12 h) instead of a clock removes most of
  it: in the research harness (6+12 h), cool-down 0-24 h x quiet 3-12 h x onset 1.5-3
  all score 80-86; a 36 h cool-down still loses a window at quantile 0.9 (76).
* Research path today (harness in /tmp on precomputed features; figures in-sample unless
  LOFO): sliding 3+12 h sums with the 24 h cool-down (old) 82.9; scales 12 h alone 85.6,
  12+24 h 84.2, 1+3+12 h 79.3, 1+3+6+12+24 h 79.2 (more scales, more FPs); adding the
  drop side (-L_w) 71-75 (GOOG's dip window is caught anyway, the FPs are not worth it);
  quantile 0.7/0.8/0.9/1 of 7 days 74.8/78.4/82.9/62.9 with the old alarm; 14 days of
  memory 52-80; re-arming inside the cool-down when the evidence grows by
  0.1/0.3/0.5/1 (escalation) 61.8/77.4/79.2/81.5. Exponentially weighted sums instead of
  sliding windows: equal within noise (6+12 h 86.0 vs 84-86), O(1) memory, snapshot
  without a 12 h ring buffer (it was ~30 KB per brand at 60 s buckets).
* Expected-count model, river measured (one-step mean |Anscombe residual| outside the
  windows after probation, 4 files): naive last value 1.75; this model 1.81 (level
  half-life 6 h; 2 h: 1.71); ``river.time_series.HoltWinters`` on the Anscombe series,
  season 288, alpha/gamma 0.1/0.1 1.71, 0.05/0.05 1.74, 0.02/0.1 1.90; ``SNARIMAX``
  (3,0,1)(1,0,0)288 with river's default SGD diverges (errors ~1e9), with lr 0.001 AAPL
  2.27, GOOG 1.37, IBM 1.09 but KO diverges, 36-57 us/bucket. Kept our model: Holt-Winters
  only matches it with a 35-min level memory, which absorbs a surge within the hour (the
  anomaly leaves the residual, bad for multi-hour shifts), it has no clipping (a burst
  enters the season for a week) and keeps 289 floats per brand; SNARIMAX is unstable and
  over the 50 us budget.
* Synthetic Poisson-gamma series (``--synthetic``: daily cycle +-60 %, weekend -30 %,
  overdispersion 0.05, 35 days, alternating 1 h x6 spikes and 6 h x2 shifts): at
  2/20/200/2000 mentions per 5 min spikes 2/3, 1/3, 3/3, 3/3, shifts 3/3, 3/3, 2/3, 2/3,
  no false alarm in 4 x 34 days (before: 18/24 found, 5 false alarms); median delay
  25-115 min. The 1 h spikes at 20/5 min (3/3 before) now need the onset score alone: a
  3 h scale would catch them but adds false alarms on NAB (harness, old alarm: 3+12 h
  82.9 vs 12 h alone 85.6).
* Cost: model + alarm 14-17 CPU us per bucket (pure Python; the old version 15 us on the
  same run), under 50 us.
* Simulated scenarios (``--scenarios --seeds 3 --days 3``, live watch, onset score):
  crises 3/3, delay median 2 min, max 3 min, no false crisis or incident (18 brand-days).
* Earlier sessions: the POT onset alarm alone 65.0 (LOO 59.5); raw ``z`` thresholds 55.6
  at best; ``z`` over a decaying running peak 52-61; per-bucket tail without declustering
  45-56; 1 h / 3 h z-sums with the same calibration: no gain; ratios to the median daily
  max of z-sums 65-71 (LOO 47-56); even with hindsight, the top-k declustered peaks of one
  feature per file score at most ~71 (several labelled windows are smaller than 7-19
  unlabelled episodes of the same file).

Gaps are skipped (a bucket not passed is unknown, not zero); see ``VolumeModel``.
"""
from pipeline.volume.alarm import (
    DEFAULT_SILENCE, DEFAULT_SURGE, SILENCE_COOLDOWN_S, SILENCE_OFF, SILENCE_ON, SILENCE_QUIET_S,
    SURGE_ALARM_COOLDOWN_S, SURGE_ALARM_ON, SURGE_ALARM_QUIET_S, SURGE_COOLDOWN_S, SURGE_OFF,
    SURGE_ON, SURGE_PERSIST, SURGE_QUIET_S,
    SUSTAINED_ON, SUSTAINED_Z, SurgeAlarm, SurgeThresholds,
)
from pipeline.volume.model import VolumeModel, VolumeScore, anscombe, inv_anscombe, nb_tail_z

__all__ = [
    "DEFAULT_SILENCE", "DEFAULT_SURGE", "SILENCE_COOLDOWN_S", "SILENCE_OFF", "SILENCE_ON",
    "SILENCE_QUIET_S", "SURGE_ALARM_COOLDOWN_S", "SURGE_ALARM_ON", "SURGE_ALARM_QUIET_S",
    "SUSTAINED_ON", "SUSTAINED_Z", "SURGE_COOLDOWN_S", "SURGE_OFF", "SURGE_ON", "SURGE_PERSIST",
    "SURGE_QUIET_S", "SurgeAlarm", "SurgeThresholds", "VolumeModel", "VolumeScore",
    "anscombe", "inv_anscombe", "nb_tail_z",
]
