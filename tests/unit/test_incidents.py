"""The incident state machine: hysteresis, one incident per episode, resolution, cool-down."""

import random

from pipeline.incidents import IncidentTracker, crisis_severity, incident_id


def tracker(**kw):
    params = dict(brand="acme", family="crisis", watch_at=4.0, crisis_at=6.0, resolve_after=3,
                  cooldown=5, bucket_s=60, exit_ratio=0.5, calm_after=1)
    params.update(kw)
    return IncidentTracker(**params)


def run(tr, signals):
    """signals: list of (watch, crisis); returns the non-None updates with their bucket."""
    out = []
    for i, (w, c) in enumerate(signals):
        t = tr.step(i * 60.0, watch=w, crisis=c)
        if t.update:
            out.append((i, t.update, t.state, t.incident_id, t.version))
    return out


def test_noisy_plateau_around_threshold_does_not_flap():
    rng = random.Random(1)
    # a plateau oscillating around the watch threshold for 200 buckets
    signals = [(4.0 + rng.uniform(-1.5, 1.5), 0.0) for _ in range(200)]
    updates = run(tracker(), signals)
    assert [u[1] for u in updates] == ["opened"]  # opened once, never resolved while noisy


def test_one_incident_per_episode_with_escalation_and_resolution():
    signals = [(0, 0)] * 5 + [(5, 0), (7, 7), (9, 12), (8, 9), (3, 2), (1, 0), (1, 0), (1, 0),
                              (0, 0)]
    updates = run(tracker(), signals)
    kinds = [u[1] for u in updates]
    assert kinds == ["opened", "escalated", "deescalated", "resolved"]
    assert len({u[3] for u in updates}) == 1  # one id for the whole episode
    assert [u[4] for u in updates] == [1, 2, 3, 4]  # versions increase
    assert updates[-1][2] == "resolved"


def test_resolves_only_after_enough_quiet_buckets():
    updates = run(tracker(resolve_after=4), [(5, 0), (1, 0), (1, 0), (1, 0), (3, 0), (1, 0)])
    # 3 < exit level (2.0)? no: 3 >= 2.0 resets the quiet count
    assert [u[1] for u in updates] == ["opened"]
    updates = run(tracker(resolve_after=4), [(5, 0)] + [(1, 0)] * 4)
    assert [u[1] for u in updates] == ["opened", "resolved"]


def test_new_episode_within_cooldown_reopens_same_incident():
    tr = tracker(resolve_after=1, cooldown=5)
    updates = run(tr, [(5, 0), (0, 0), (0, 0), (5, 0)])
    assert [u[1] for u in updates] == ["opened", "resolved", "reopened"]
    assert len({u[3] for u in updates}) == 1


def test_new_episode_after_cooldown_is_a_new_incident():
    tr = tracker(resolve_after=1, cooldown=2)
    updates = run(tr, [(5, 0), (0, 0)] + [(0, 0)] * 5 + [(5, 0)])
    assert [u[1] for u in updates] == ["opened", "resolved", "opened"]
    assert updates[0][3] != updates[-1][3]


def test_crisis_hovering_around_its_level_does_not_flap():
    rng = random.Random(3)
    signals = [(8, 8)] + [(8, rng.choice([0.0, 7.0])) for _ in range(100)]
    updates = run(tracker(calm_after=3), signals)
    # single zero buckets never de-escalate; only runs of 3 calm buckets may
    assert len(updates) <= 1 + 2 * sum(
        1 for i in range(1, len(signals) - 2) if all(c == 0 for _, c in signals[i:i + 3])
    )
    steady = run(tracker(calm_after=3), [(8, 8), (8, 0), (8, 7), (8, 0), (8, 0), (8, 7)])
    assert [u[1] for u in steady] == ["opened"]


def test_crisis_directly_from_normal():
    updates = run(tracker(), [(0, 0), (2, 8)])
    assert updates[0][1:3] == ("opened", "crisis")


def test_snapshot_restore_continues_identically():
    signals = [(5, 0), (7, 7), (3, 2)] + [(1, 0)] * 5
    a = tracker()
    run(a, signals[:3])
    b = tracker()
    b.load_state(a.to_state())
    rest_a = [a.step((3 + i) * 60.0, watch=w, crisis=c) for i, (w, c) in enumerate(signals[3:])]
    rest_b = [b.step((3 + i) * 60.0, watch=w, crisis=c) for i, (w, c) in enumerate(signals[3:])]
    assert rest_a == rest_b


def test_incident_id_is_stable_and_readable():
    assert incident_id("acme", "crisis", 0.0) == "acme:crisis:19700101T0000Z"


def test_severity_grows_with_magnitude_negativity_and_reach():
    order = ["info", "low", "medium", "high", "critical"]
    base = order.index(crisis_severity(6.0, 0.2, 0))
    assert order.index(crisis_severity(15.0, 0.2, 0)) > base
    assert order.index(crisis_severity(6.0, 0.5, 0)) > base
    assert order.index(crisis_severity(6.0, 0.2, 5)) > base
