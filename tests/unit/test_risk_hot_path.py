"""Risk detectors' hot-path shortcuts (issues 8 and 9) give exactly what the plain code gives."""

from __future__ import annotations

import random

from pipeline.risks._base import MAX_CATCH_UP, Ticker
from pipeline.risks._testing import mention
from pipeline.risks.raid import suspicious_age


def _reference_advance(state: dict, ts: float, bucket_s: int) -> list[float]:
    """Ticker.advance as it was: bucket indices compared on every call."""
    idx = int(ts // bucket_s)
    nxt = state.get("next")
    if nxt is None:
        state["next"] = idx
        return []
    if idx <= nxt:
        return []
    state["next"] = idx
    return [float(i * bucket_s) for i in range(max(nxt, idx - MAX_CATCH_UP), idx)]


def test_ticker_until_shortcut_closes_the_same_buckets():
    r = random.Random(1)
    for bucket_s in (1, 7, 60, 300):
        t, ref, ts = Ticker(bucket_s), {}, 1_767_571_200.0 + r.random()
        for i in range(20_000):
            step = r.choice([0.0, 0.001, r.random() * bucket_s, -r.random() * bucket_s,
                             bucket_s * r.randint(1, 100), 0.0])
            ts = max(0.0, ts + step)
            if r.random() < 0.05:  # exactly on a boundary, or an ulp either side
                ts = float(int(ts // bucket_s) * bucket_s)
                ts = r.choice([ts, ts - 2.4e-7, ts + 2.4e-7])
            assert list(t.advance(ts)) == _reference_advance(ref, ts, bucket_s), (bucket_s, ts)
            assert t.next_close == ref.get("next")
            if i % 997 == 0:  # a restored ticker continues the same way
                restored = Ticker(bucket_s)
                restored.load_state(t.to_state())
                assert restored.until == t.until
                t = restored


def test_suspicious_age_is_the_settings_rule():
    for age_days in (None, 0.5, 29.9, 30.0, 200.0, 364.9, 365.0, 900.0):
        for followers in (0, 49, 50, 5_000):
            m = mention("x", age_days=age_days, followers=followers)
            got = suspicious_age(m.author, m.ts, 30.0, 50)
            if age_days is None:
                want = -1.0 if followers < 50 else None
            else:
                age = (m.ts - m.author.created_at.timestamp()) / 86_400.0
                want = age if age < 30.0 or (followers < 50 and age < 365) else None
            assert got == want, (age_days, followers)


def test_impostor_quick_bound_never_rules_out_a_match():
    from pipeline.risks.impostor import ImpostorDetector
    from pipeline.settings import BrandConfig, DetectionSettings
    from tests.unit.test_hot_path import names

    tricky = ["acrne", "acrnx", "vvidgex", "rnacme", "a_c_m_e", "ac.me", "globexx", "g1obex", "n0rdair", "nordalr",
              "vvidget", "wldget", "acme_support", "Acme Officiel", "the_acme_fr", "acm", "acmee"]
    brands = [BrandConfig(name="acme", handles=["acme", "acme_support"],
                          display_names=["Acme", "Acme Corporation"]),
              BrandConfig(name="nordair", handles=["NordAir_FR"]),
              BrandConfig(name="widget", handles=["wwidget"]),
              None]
    ruled_out = 0
    for cfg in brands:
        det = ImpostorDetector(cfg.name if cfg else "globex", cfg, DetectionSettings())
        for value in names(6000, seed=7) + tricky:
            if det._far(value):
                ruled_out += 1
                assert det._matches(value) == (), (det.brand, value)
    assert ruled_out > 10_000  # the bound does rule most names out
