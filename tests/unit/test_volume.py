"""Unit tests of pipeline.volume: the per-brand count model, its scores and the alarm."""
from __future__ import annotations

import math
import random

import orjson
import pytest

from dataclasses import replace

from pipeline.volume import (
    DEFAULT_SURGE, SURGE_ALARM_COOLDOWN_S, SURGE_ALARM_ON, SURGE_ALARM_QUIET_S, SURGE_ON,
    SUSTAINED_Z, SurgeAlarm, SurgeThresholds, VolumeModel, VolumeScore, nb_tail_z,
)

B = 300  # bucket seconds used by most tests
T0 = 1_420_070_400.0  # 2015-01-01 00:00 UTC, a Thursday


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:  # normal approximation, fast and good enough here
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def daily_rate(t: float, base: float) -> float:
    """Rate with a strong daily cycle: peak at 12:00 UTC, trough at 00:00."""
    return base * (1.0 + 0.8 * math.sin(2 * math.pi * ((t % 86400) / 86400 - 0.25)))


def feed(m: VolumeModel, days: float, base: float, seed: int = 0, start: float = T0):
    rng = random.Random(seed)
    n = int(days * 86400 / m.bucket_s)
    t = start
    for i in range(n):
        t = start + i * m.bucket_s
        m.learn_one(t, poisson(rng, daily_rate(t, base)))
    return t + m.bucket_s


def test_seasonality_learned():
    m = VolumeModel(B)
    t_next = feed(m, 6, 40)
    noon = t_next + 12 * 3600  # t_next is midnight
    midnight = t_next
    e_noon = m.score_one(noon, 0).expected
    e_night = m.score_one(midnight, 0).expected
    assert 55 < e_noon < 90, e_noon  # true 72
    assert 3 < e_night < 20, e_night  # true 8
    assert m.score_one(noon + 6 * 3600, 0).expected == pytest.approx(40, rel=0.35)


@pytest.mark.parametrize("base", [2.0, 2000.0])
def test_surge_scores_high_busy_hour_does_not(base):
    m = VolumeModel(B)
    t_next = feed(m, 6, base, seed=3)
    noon = t_next + 12 * 3600
    busy = m.score_one(noon, daily_rate(noon, base))  # the normal daily peak
    assert busy.warm and busy.score == 0.0
    surge = m.score_one(noon, 20 * daily_rate(noon, base) + 20)
    assert surge.score >= SURGE_ON
    assert surge.z > 5 and surge.observed > surge.upper
    assert busy.lower <= busy.observed <= busy.upper


def test_silence_signal():
    busy, quiet = VolumeModel(B), VolumeModel(B)
    tb = feed(busy, 4, 300, seed=1)
    tq = feed(quiet, 4, 0.5, seed=1)
    sb = sq = None
    for i in range(6):  # half an hour of nothing at midday
        t = tb + 12 * 3600 + i * B
        sb = busy.score_one(t, 0)
        busy.learn_one(t, 0)
        sq = quiet.score_one(t, 0)
        quiet.learn_one(t, 0)
    assert sb.silence > 10 and sb.score == 0.0
    assert sq.silence < 1.0
    assert SurgeAlarm(signal="silence").update(sb) is True


def test_warm_flag():
    m = VolumeModel(B, warmup_s=86400)
    assert m.score_one(T0, 5).warm is False
    for i in range(287):
        m.learn_one(T0 + i * B, 5)
    assert m.score_one(T0 + 287 * B, 5).warm is False
    m.learn_one(T0 + 287 * B, 5)
    assert m.score_one(T0 + 288 * B, 5).warm is True
    # a cold model never fires, whatever the score
    cold = VolumeScore(T0, 1e6, 1, 0, 2, 99.0, 0.0, False, 99.0)
    assert SurgeAlarm().update(cold) is False


def test_state_round_trip_identical_scores():
    m = VolumeModel(60)
    feed(m, 3, 25, seed=7)
    m2 = VolumeModel.from_state(orjson.loads(orjson.dumps(m.to_state())))
    rng = random.Random(11)
    t = m.last_t + 60
    for i in range(500):
        x = poisson(rng, 25) * (10 if i == 250 else 1)
        assert m.score_one(t, x) == m2.score_one(t, x)
        m.learn_one(t, x)
        m2.learn_one(t, x)
        t += 60
    a = SurgeAlarm()
    a.update(VolumeScore(0.0, 1, 1, 0, 2, 5.0, 0.0, True, 9.0))
    a2 = SurgeAlarm.from_state(orjson.loads(orjson.dumps(a.to_state())))
    s = VolumeScore(60.0, 1, 1, 0, 2, 5.0, 0.0, True, 9.0)
    assert a.update(s) == a2.update(s) is False


def test_deterministic():
    runs = []
    for _ in range(2):
        m = VolumeModel(B, seed=0)
        feed(m, 2, 30, seed=5)
        runs.append(orjson.dumps(m.to_state()))
    assert runs[0] == runs[1]


def test_no_look_ahead():
    """Scores (onset, sustained, silence) and alarms of a prefix ignore what comes after."""
    rng = random.Random(2)
    n, cut = 7 * 288, 6 * 288  # the multi-hour evidence is live before the cut
    xs = [poisson(rng, daily_rate(T0 + i * B, 20)) for i in range(n)]
    ys = xs[:cut] + [x * 20 for x in xs[cut:]]  # the future differs wildly
    ma, mb = VolumeModel(B), VolumeModel(B)
    aa, ab = SurgeAlarm(), SurgeAlarm()
    sustained = []
    for i in range(cut + 1):
        t = T0 + i * B
        sa, sb = ma.score_one(t, xs[i]), mb.score_one(t, ys[i])
        assert (sa == sb and aa.update(sa) == ab.update(sb)) or i == cut
        sustained.append(sa.sustained)
        ma.learn_one(t, xs[i])
        mb.learn_one(t, ys[i])
    assert max(sustained) > 0.0  # the field was exercised
    # score of bucket 399 computed before 400 existed equals its own score function
    assert ma.score_one(T0 + 399 * B, 5).t == T0 + 399 * B


def test_gaps_skipped_and_late_buckets_ignored():
    m = VolumeModel(B)
    feed(m, 2, 30, seed=9)
    before = orjson.dumps(m.to_state())
    m.learn_one(m.last_t, 10_000)  # same bucket again: ignored
    m.learn_one(m.last_t - B, 10_000)  # late bucket: ignored
    assert m.n_late == 2
    st = orjson.loads(before)
    assert orjson.loads(orjson.dumps(m.to_state()))["level"] == st["level"]
    # a 6-hour gap is not imputed as zeros: no silence, learned time grows by one bucket
    learned = m.learned_s
    t = m.last_t + 6 * 3600
    x = round(m.score_one(t, 0).expected)
    s = m.score_one(t, x)
    m.learn_one(t, x)
    assert s.silence == 0.0 and m.learned_s == learned + B


def test_alarm_once_per_episode_and_cooldown():
    th = SurgeThresholds(on=1.0, off=0.0, quiet_s=600, cooldown_s=3600)
    a = SurgeAlarm(th)

    def s(t: float, v: float) -> VolumeScore:
        return VolumeScore(t, 0, 0, 0, 0, v, 0.0, True, 0.0)

    fired = [a.update(s(i * 60.0, v)) for i, v in enumerate([0, 2, 3, 2, 0, 0, 2])]
    assert fired == [False, True, False, False, False, False, False]
    assert a.update(s(3600.0, 0)) is False  # quiet from here ...
    assert a.update(s(4200.0, 0)) is False  # ... for quiet_s, cool-down over: re-armed
    assert a.update(s(4260.0, 1.5)) is True
    assert SurgeAlarm(SurgeThresholds(on=1.0, persist=2)).update(s(0, 5)) is False
    assert DEFAULT_SURGE.on == SURGE_ALARM_ON and DEFAULT_SURGE.quiet_s == SURGE_ALARM_QUIET_S
    assert DEFAULT_SURGE.cooldown_s == SURGE_ALARM_COOLDOWN_S


def test_default_alarm_one_firing_per_episode_however_long():
    """An episode lasts while there is evidence and ends after SURGE_ALARM_QUIET_S without."""
    a = SurgeAlarm()

    def s(t: float, sus: float) -> VolumeScore:
        return VolumeScore(t, 0, 0, 0, 0, 0.0, 0.0, True, SUSTAINED_Z, sus)

    h = 3600.0
    fired = [a.update(s(i * B, 1.5 if i % 40 < 30 else 0.5)) for i in range(int(48 * h / B))]
    assert fired.count(True) == 1 and fired[0]  # 48 h of evidence with 50-min gaps: one alarm
    t = 48 * h
    quiet = [a.update(s(t + i * B, 0.0)) for i in range(int(SURGE_ALARM_QUIET_S / B))]
    assert not any(quiet)
    assert a.update(s(t + SURGE_ALARM_QUIET_S - B, 2.0)) is False  # still the same episode
    t2 = t + SURGE_ALARM_QUIET_S
    assert not any(a.update(s(t2 + i * B, 0.0)) for i in range(int(SURGE_ALARM_QUIET_S / B) + 1))
    assert a.update(s(t2 + SURGE_ALARM_QUIET_S + B, 2.0)) is True  # a new episode, no cool-down


def _shift(first: float, rest: float = 2.0) -> tuple[list[VolumeScore], int]:
    """Scores of six hours at ``rest`` x the usual rate (the first bucket at ``first`` x), and
    how many times an alarm with the gate of the sustained evidence off fires on them."""
    m = VolumeModel(B)
    t = feed(m, 8, 50, seed=4)
    rng = random.Random(8)
    ungated = SurgeAlarm(replace(DEFAULT_SURGE, sustained_z=-math.inf))
    scores, fired = [], 0
    for i in range(6 * 3600 // B):
        x = poisson(rng, (first if i == 0 else rest) * daily_rate(t, 50))
        s = m.score_one(t, x)
        scores.append(s)
        fired += ungated.update(s)
        m.learn_one(t, x)
        t += B
    return scores, fired


def test_sustained_level_shift_fires_where_the_onset_score_does_not():
    scores, fired_ungated = _shift(first=2.0)
    assert max(s.score for s in scores) < SURGE_ALARM_ON  # no single bucket is extreme ...
    assert max(s.sustained for s in scores) >= 1.0 and fired_ungated == 1  # ... the hours are
    # the default alarm also wants the bucket that tips the evidence over to be a 4-sd
    # outlier: a gentle doubling (no such bucket while the evidence is there) does not
    # fire it, by design (the cost of the gate, see pipeline.volume)
    assert not any(s.sustained >= 1.0 and s.z >= SUSTAINED_Z for s in scores)
    alarm = SurgeAlarm()
    assert not any(alarm.update(s) for s in scores)


def test_sustained_gate_passes_a_shift_with_a_sharp_bucket():
    """A x2.5 shift: a bucket at z > 4 comes once the evidence is there."""
    scores, fired_ungated = _shift(first=2.5, rest=2.5)
    alarm = SurgeAlarm()
    fired = [i for i, s in enumerate(scores) if alarm.update(s)]
    gate_ok = [i for i, s in enumerate(scores) if s.sustained >= 1.0 and s.z >= SUSTAINED_Z]
    assert fired_ungated == 1 and len(fired) == 1 and fired[0] == gate_ok[0]
    assert max(s.score for s in scores) < SURGE_ALARM_ON  # fired by the gated sustained path


def test_sustained_gate_in_snapshots_and_old_states():
    a = SurgeAlarm()
    st = orjson.loads(orjson.dumps(a.to_state()))
    assert SurgeAlarm.from_state(st).th == DEFAULT_SURGE
    off = SurgeAlarm(replace(DEFAULT_SURGE, sustained_z=-math.inf))
    assert SurgeAlarm.from_state(orjson.loads(orjson.dumps(off.to_state()))).th == off.th
    del st["thresholds"]["sustained_z"]  # a snapshot from before the gate: no gate
    old = SurgeAlarm.from_state(st)
    assert old.th.sustained_z == -math.inf
    weak = VolumeScore(0.0, 0, 0, 0, 0, 0.0, 0.0, True, 1.0, 1.5)  # z 1, sustained 1.5
    assert old.update(weak) is True and SurgeAlarm().update(weak) is False


def test_count_aware_gate_only_where_counts_are_too_small():
    """``sustained_ratio`` (on in the defaults) lowers the gate to the z of a bucket at R times
    its expectation, at least ``sustained_zmin``, only where that z is under ``sustained_z``."""
    assert (DEFAULT_SURGE.sustained_ratio, DEFAULT_SURGE.sustained_zmin) == (7.0, 3.0)
    # the Anscombe gates alone (the exact-tail gate has its own test)
    quiet_gate = replace(DEFAULT_SURGE, sustained_exact_e=0.0)
    no_count_gate = replace(quiet_gate, sustained_ratio=math.inf)

    def fires(th, observed, expected, z):
        return SurgeAlarm(th).update(
            VolumeScore(0.0, observed, expected, 0, 0, 0.0, 0.0, True, z, 1.2))

    # 8 mentions against 0.7 expected: z 3.5 < 4, but x11 -- passes the count-aware gate
    assert not fires(no_count_gate, 8, 0.7, 3.5) and fires(quiet_gate, 8, 0.7, 3.5)
    assert not fires(quiet_gate, 8, 0.7, 2.9)  # ... never under sustained_zmin
    # a busy bucket (7 expected) can reach 4 sd: the gate stays 4 sd whatever its ratio
    assert not fires(quiet_gate, 70, 7.0, 3.9) and fires(quiet_gate, 70, 7.0, 4.0)
    assert SurgeAlarm(quiet_gate)._gate(7.0) == SUSTAINED_Z
    assert 3.0 < SurgeAlarm(quiet_gate)._gate(1.0) < SUSTAINED_Z
    assert SurgeAlarm(quiet_gate)._gate(0.05) == 3.0
    # the gate off (sustained_z -inf) stays off
    assert SurgeAlarm(replace(quiet_gate, sustained_z=-math.inf))._gate(0.5) == -math.inf
    # snapshots keep it; a snapshot from before it loads with it off
    a = SurgeAlarm(quiet_gate)
    st = orjson.loads(orjson.dumps(a.to_state()))
    assert SurgeAlarm.from_state(st).th == quiet_gate
    del st["thresholds"]["sustained_ratio"], st["thresholds"]["sustained_zmin"]
    assert SurgeAlarm.from_state(st).th == no_count_gate


def _poisson_mid_p(x: int, e: float) -> float:
    """Mid-p upper tail of a Poisson count, from its mass function (the test's reference)."""
    pmf = [math.exp(-e + j * math.log(e) - math.lgamma(j + 1)) for j in range(x + 200)]
    return sum(pmf[x + 1:]) + 0.5 * pmf[x]


@pytest.mark.parametrize("x, e", [(0, 0.3), (1, 0.3), (4, 0.2), (9, 0.4), (6, 3.0), (2, 7.0)])
def test_nb_tail_z_matches_the_poisson_tail_and_overdispersion_widens_it(x, e):
    from statistics import NormalDist

    ref = -NormalDist().inv_cdf(_poisson_mid_p(x, e))
    assert nb_tail_z(x, e, 0.0) == pytest.approx(ref, abs=1e-9)
    if x >= 2 * e + 2:  # in the upper tail a wider count distribution makes it less rare
        assert nb_tail_z(x, e, 0.5) < nb_tail_z(x, e, 0.1) < nb_tail_z(x, e, 0.0)


def test_nb_tail_z_negative_binomial_mass_and_extremes():
    # phi 1 with mean 1 is the geometric distribution P(X = j) = 2^-(j+1): P(X > 3) + P(3)/2
    assert nb_tail_z(3, 1.0, 1.0) == pytest.approx(-_std_inv(2 ** -4 + 2 ** -5), abs=1e-9)
    assert nb_tail_z(10_000, 0.5, 0.3) == 37.5  # beyond double precision: capped, finite
    assert nb_tail_z(5, 0.0, 0.3) == 37.5 and nb_tail_z(0, 0.0, 0.3) == 0.0
    bad = (math.nan, math.inf)  # bad input: no evidence, no exception
    assert all(nb_tail_z(v, 1.0, 0.3) == nb_tail_z(3, v, 0.3) == nb_tail_z(3, 1.0, v) == 0.0
               for v in bad)
    # below the mean: negative, and the lower sum and upper sum agree around it
    assert nb_tail_z(1, 4.0, 0.2) < 0.0
    assert nb_tail_z(3, 3.5, 0.2) < nb_tail_z(4, 3.5, 0.2) < nb_tail_z(5, 3.5, 0.2)


def _std_inv(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def test_count_overdispersion_holds_at_low_volume():
    """``phi_n`` (counts) is learned at a few mentions per bucket, where the Anscombe ``phi``
    falls to 0 (the Anscombe variance of a Poisson count of mean < 2 is under 1)."""
    rng = random.Random(5)

    def nb(mean: float, phi: float) -> int:  # Poisson-gamma draw
        return poisson(rng, rng.gammavariate(1 / phi, mean * phi))

    phis = {}
    for base in (0.5, 40.0):
        m = VolumeModel(B)
        t = T0
        for _ in range(8 * 288):
            m.learn_one(t, nb(base, 0.3))
            t += B
        phis[base] = (m.phi, m.phi_n, m.score_one(t, 0).dispersion)
    assert phis[0.5][0] < 0.05 and 0.15 < phis[0.5][1] < 1.0  # Anscombe phi gone, phi_n not
    assert 0.15 < phis[40.0][1] < 0.5 and phis[40.0][1] == phis[40.0][2]


def test_exact_tail_gate_for_a_few_expected_mentions():
    """Under ``sustained_exact_e`` expected mentions a bucket also passes the gate of the
    sustained evidence when its exact negative-binomial tail z reaches ``sustained_z``."""
    assert DEFAULT_SURGE.sustained_exact_e == 5.0
    anscombe_only = replace(DEFAULT_SURGE, sustained_exact_e=0.0)

    def fires(th, observed, expected, z, phi):
        return SurgeAlarm(th).update(
            VolumeScore(0.0, observed, expected, 0, 0, 0.0, 0.0, True, z, 1.2, phi))

    # 12 mentions against 1.6 expected (GOOG 03-22 at 20 % of its counts): Anscombe z 3.8,
    # under the count-aware gate there (4.0, the z of a x7 bucket), exact tail z 4.1
    assert nb_tail_z(12, 1.6, 0.2) >= SUSTAINED_Z
    assert fires(DEFAULT_SURGE, 12, 1.6, 3.8, 0.2) and not fires(anscombe_only, 12, 1.6, 3.8, 0.2)
    # a wider brand (phi_n 1): the same bucket is not rare enough
    assert nb_tail_z(12, 1.6, 1.0) < SUSTAINED_Z and not fires(DEFAULT_SURGE, 12, 1.6, 3.8, 1.0)
    # at 5 expected and above only the Anscombe gate counts
    assert nb_tail_z(30, 6.0, 0.1) >= SUSTAINED_Z and not fires(DEFAULT_SURGE, 30, 6.0, 3.9, 0.1)
    # no sustained evidence: no firing, however rare the bucket
    assert not SurgeAlarm().update(VolumeScore(0.0, 12, 1.6, 0, 0, 0.0, 0.0, True, 3.8, 0.9, 0.2))
    # snapshots keep it; a snapshot from before it loads with it off
    st = orjson.loads(orjson.dumps(SurgeAlarm().to_state()))
    assert SurgeAlarm.from_state(st).th == DEFAULT_SURGE
    del st["thresholds"]["sustained_exact_e"]
    assert SurgeAlarm.from_state(st).th == anscombe_only


def test_count_overdispersion_in_snapshots_and_old_states():
    m = VolumeModel(B)
    feed(m, 2, 3, seed=4)
    st = orjson.loads(orjson.dumps(m.to_state()))
    assert st["version"] == 4 and st["phi_n"] == m.phi_n > 0.0
    t = m.last_t + B
    assert VolumeModel.from_state(st).score_one(t, 9) == m.score_one(t, 9)
    # version 3 had no count moments: they start from the Anscombe phi, scores otherwise equal
    v3 = {k: v for k, v in st.items() if k not in ("phi_n", "gn2", "gnmu2")}
    v3["version"] = 3
    m3 = VolumeModel.from_state(v3)
    assert m3.phi_n == m.phi and m3.gnmu2 == m.gmu ** 2
    assert replace(m3.score_one(t, 9), dispersion=0.0) == replace(m.score_one(t, 9), dispersion=0.0)
    m3.learn_one(t, 9)  # and it learns on
    assert m3.phi_n >= 0.0


def _max_sustained_of_shift(m: VolumeModel, t: float, factor: float, hours: float = 6) -> float:
    rng = random.Random(11)
    best = 0.0
    for _ in range(int(hours * 3600 / B)):
        x = poisson(rng, factor * daily_rate(t, 30))
        best = max(best, m.score_one(t, x).sustained)
        m.learn_one(t, x)
        t += B
    return best


@pytest.mark.parametrize("factor, fires", [(1.3, False), (8.0, True)])
def test_sustained_prior_arms_the_first_days(factor, fires):
    """Before ``sustain_min_days`` days are known, the threshold is the prior ratio (a doubling
    of the 6-12 h sums): a x8 shift on day 4 is alarm-worthy, a x1.3 one is not (the young
    daily profile absorbs part of a shift); without the prior, no evidence at all."""
    m = VolumeModel(B)
    t = feed(m, 3, 30, seed=2)
    assert (_max_sustained_of_shift(m, t, factor) >= 1.0) is fires
    m0 = VolumeModel(B, sustain_prior=0.0)
    feed(m0, 3, 30, seed=2)
    assert _max_sustained_of_shift(m0, t, factor) == 0.0


def test_sustained_is_zero_before_a_day_and_old_states_load():
    m = VolumeModel(B)
    feed(m, 0.5, 30, seed=2)
    assert m.score_one(m.last_t + B, 10_000).sustained == 0.0  # no day boundary yet
    feed(m, 1.0, 30, seed=2, start=m.last_t + B)
    st = orjson.loads(orjson.dumps(m.to_state()))
    old = {k: v for k, v in st.items() if not k.startswith("sus_")}
    old["version"] = 1
    old["params"] = {k: v for k, v in st["params"].items() if not k.startswith("sustain_")}
    m1 = VolumeModel.from_state(old)
    assert m1.score_one(m.last_t + B, 40).expected == m.score_one(m.last_t + B, 40).expected
    # version 2 kept sliding-window sums and a sustain_offset: they are dropped, not misread
    v2 = dict(st, version=2, sus_buf=[[m.last_t, 30.0, 29.0]], sus_obs=[9e9, 9e9])
    v2["params"] = dict(st["params"], sustain_offset=0.0, sustain_windows_s=[3 * 3600, 12 * 3600])
    m2 = VolumeModel.from_state(v2)
    assert m2.sus_obs == [0.0, 0.0] and m2.sustain_windows_s == VolumeModel().sustain_windows_s
    assert m2.score_one(m.last_t + B, 40).expected == m.score_one(m.last_t + B, 40).expected
    # version 3 before ``sustain_prior`` existed: loads with the default prior, same scores
    v3 = dict(st, params={k: v for k, v in st["params"].items() if k != "sustain_prior"})
    m3 = VolumeModel.from_state(v3)
    t = m.last_t + B
    assert m3.sustain_prior == 2.0 and m3.score_one(t, 400) == m.score_one(t, 400)


def test_sustained_is_scale_free_and_snapshots_mid_episode():
    """Same relative shift, brands 100x apart: the same evidence; a snapshot scores the same."""
    h = 3600.0
    peaks = []
    for base in (20.0, 2000.0):
        m = VolumeModel(B)
        t = feed(m, 8, base, seed=6)
        best = 0.0
        for i in range(int(6 * h / B)):
            x = round(3 * daily_rate(t, base))  # noise-free x3 for six hours
            best = max(best, m.score_one(t, x).sustained)
            m.learn_one(t, x)
            t += B
        m2 = VolumeModel.from_state(orjson.loads(orjson.dumps(m.to_state())))
        assert m2.score_one(t, 5 * base) == m.score_one(t, 5 * base)
        peaks.append(best)
    assert min(peaks) > 1.0  # alarm-worthy at both scales ...
    assert abs(math.log(peaks[0] / peaks[1])) < 1.0  # ... and of the same order


def _tiny_nab(tmp_path):
    """Twelve days of a 5-min Poisson series with a 6 h x4 surge on day 9, its window."""
    from datetime import datetime, timezone

    from bench import nab

    if not nab.DEFAULT_SCORER.is_file():  # data from outside the repo (../shared), not ours
        pytest.skip(f"the NAB scorer is not in this checkout's ../shared: {nab.DEFAULT_SCORER}")
    rng = random.Random(9)
    n, start = 12 * 288, 1_425_000_000  # twelve days of 5-min rows
    rows, stamps = [], []
    for i in range(n):
        t = start + i * B
        lam = daily_rate(t, 30) * (4 if 9 * 288 <= i < 9 * 288 + 72 else 1)  # 6 h x4 surge
        stamp = datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        stamps.append(stamp)
        rows.append(f"{stamp},{poisson(rng, lam)}")
    (tmp_path / "Twitter_volume_X.csv").write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    win = [stamps[9 * 288 - 100], stamps[9 * 288 + 100]]
    labels = tmp_path / "lab.json"
    labels.write_text(orjson.dumps({"windows": {"Twitter_volume_X.csv": [win]}}).decode())
    return nab, labels, stamps, win


def test_nab_bench_interface(tmp_path):
    """bench/nab.py keeps the interface the NAB evaluation uses: --data-dir, --labels,
    --out (JSONL of {file: csv stem, timestamp: a row timestamp as written}), --json."""
    nab, labels, stamps, win = _tiny_nab(tmp_path)
    out = tmp_path / "dets.jsonl"
    assert nab.main(["--data-dir", str(tmp_path), "--labels", str(labels), "--out", str(out),
                     "--json"]) == 0
    dets = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert dets and {d["file"] for d in dets} == {"Twitter_volume_X"}
    assert all(d["timestamp"] in stamps for d in dets)
    hits = [d for d in dets if win[0] <= d["timestamp"] <= win[1]]
    assert hits and hits[0]["timestamp"] >= stamps[9 * 288]  # caught, never before it began


def test_nab_start_offsets(tmp_path):
    """--offsets re-runs on the series with its start dropped: the surge is caught with 9
    days of history, missed once it falls in the first, cold day (8.5 days dropped; the
    window still ends after the new start, so it is scored, as a miss)."""
    nab, labels, _, _ = _tiny_nab(tmp_path)
    scorer = nab.load_scorer(nab.DEFAULT_SCORER)
    series = {"Twitter_volume_X": nab.read_series(tmp_path / "Twitter_volume_X.csv")}
    so = nab.start_offsets(series, scorer.load_windows(str(labels)), scorer, hours=[0, 204])
    assert so["hours"] == [0, 204] and len(so["normalized"]) == 2
    assert so["normalized"][0] > 50 and so["normalized"][1] <= 0
    assert so["fn"] == 1 and so["fn_probation"] == 0


def test_nab_thinning_and_time_shifts(tmp_path):
    """--thinning keeps each mention with probability p (seeded): p = 1 is the series
    itself, p = 0 the null detector (score 0, every window missed); --shifts with 0 h is
    the series itself. Both land in the --json figures."""
    nab, labels, _, _ = _tiny_nab(tmp_path)
    scorer = nab.load_scorer(nab.DEFAULT_SCORER)
    windows = scorer.load_windows(str(labels))
    series = {"Twitter_volume_X": nab.read_series(tmp_path / "Twitter_volume_X.csv")}
    ts = {f"{s}.csv": [scorer.parse_ts(t) for t in series[s][0]] for s in series}

    def nab_eval(dets):
        d = {f"{s}.csv": [ts[f"{s}.csv"][i] for i in dets[s]] for s in dets}
        return scorer.score(windows, ts, d, "standard", [f"{s}.csv" for s in dets])

    stems = list(series)
    full = nab_eval({s: nab.detect(nab.run_model(series[s][1], series[s][2], B))
                     for s in stems})["summary"]["normalized"]
    th = nab.thinning(series, stems, nab_eval, fractions=[1.0, 0.5, 0.0], seeds=[0, 1])
    assert th["100%"]["normalized"] == [round(full, 1)] * 2 and full > 50
    assert th["0%"]["normalized"] == [0.0, 0.0] and th["0%"]["fn"] == 2
    assert th == nab.thinning(series, stems, nab_eval, fractions=[1.0, 0.5, 0.0], seeds=[0, 1])
    assert th["50%"]["mean"] == round(sum(th["50%"]["normalized"]) / 2, 2)
    assert nab.tz_shifts(series, stems, nab_eval, hours=[0])["normalized"] == [round(full, 1)]

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert nab.main(["--data-dir", str(tmp_path), "--labels", str(labels), "--thinning",
                         "--thin-seeds", "1", "--shifts", "--json"]) == 0
    fig = orjson.loads(buf.getvalue().strip().splitlines()[-1])
    assert set(fig["thinning"]) == {"50%", "20%", "10%", "5%"}
    assert all(len(v["normalized"]) == 1 for v in fig["thinning"].values())
    assert fig["tz_shifts"]["hours"] == list(range(3, 22, 3))
