"""The engine on plain values: counts, bad input, brands, snapshots, crisis vs launch."""

from __future__ import annotations

import random

import orjson
import pytest

from pipeline.engine import Engine
from pipeline.schemas import Alert, Label
from pipeline.settings import BrandConfig, Settings
from tests.support.streams import START, mention, stream

FAST = {"warmup_s": 6 * 3600}


def run(engine: Engine, mentions: list[dict], batch: int = 400):
    raw = [orjson.dumps(m) for m in mentions]
    alerts, scored, rejected, dup = [], 0, 0, 0
    for i in range(0, len(raw), batch):
        out = engine.process(raw[i:i + batch])
        alerts += out.alerts
        scored += len(out.scored)
        rejected += len(out.rejected)
        dup += out.duplicates
    return alerts, scored, rejected, dup


@pytest.fixture(scope="module")
def crisis_and_launch():
    acme = stream("acme", 13, 6, seed=1, bursts=[(12.0, 30, 40, "angry")])
    other = stream("nordair", 13, 6, seed=2, bursts=[(12.0, 30, 50, "happy")])
    return sorted(acme + other, key=lambda m: m["created_at"])


def english_launch(mentions):
    """The launch burst in English only: this test is about the detector, not French sentiment."""
    return [{**m, "text": m["text"].replace("nouveau modèle génial", "the new model is amazing")}
            for m in mentions]


def test_angry_burst_is_a_crisis_and_happy_launch_is_not(crisis_and_launch):
    engine = Engine(Settings(detection=FAST))
    alerts, *_ = run(engine, english_launch(crisis_and_launch))
    by_brand = {}
    for a in alerts:
        by_brand.setdefault(a.brand, []).append(a)
    acme = by_brand["acme"]
    assert any(a.kind == "crisis" for a in acme)
    assert len({a.id for a in acme}) == 1  # one incident for the episode
    assert [a.version for a in acme] == list(range(1, len(acme) + 1))
    assert acme[-1].update == "resolved"
    launch = by_brand.get("nordair", [])
    assert launch, "the launch surge should at least open a watch"
    assert all(a.kind == "surge" for a in launch), [(a.kind, a.update) for a in launch]
    assert all(a.severity in ("info", "low") for a in launch)


def test_crisis_alert_carries_evidence(crisis_and_launch):
    engine = Engine(Settings(detection=FAST))
    alerts, *_ = run(engine, english_launch(crisis_and_launch))
    opened = next(a for a in alerts if a.brand == "acme" and a.kind == "crisis")
    ev = opened.evidence
    assert opened.observed > opened.upper > opened.expected
    assert ev["negative_share"] > ev["negative_baseline"] + 0.3
    terms = [t["term"] for t in ev["top_terms"]] + [t["term"] for t in ev["top_hashtags"]]
    assert "leak" in terms and "#acmefail" in terms
    assert ev["high_reach_negative_authors"]
    assert ev["top_authors"][0]["followers"] >= 10_000
    assert 1 <= len(opened.sample_mention_ids) <= 5
    assert opened.severity in ("high", "critical")
    Alert.model_validate(orjson.loads(orjson.dumps(opened.model_dump(mode="json"))))


def test_counts_in_equal_processed_plus_rejected():
    rng = random.Random(7)
    good = stream("acme", 2, 5, seed=3)
    records = [orjson.dumps(m) for m in good]
    bad = [b"{", b"\xff", b"null", orjson.dumps({"id": "z"}), orjson.dumps({**good[0], "text": 5})]
    for b in bad * 20:
        records.insert(rng.randrange(len(records)), b)
    records += [orjson.dumps(good[0])] * 3  # re-delivered duplicates
    engine = Engine(Settings())
    processed = rejected = 0
    for i in range(0, len(records), 97):
        out = engine.process(records[i:i + 97])
        processed += out.processed
        rejected += len(out.rejected)
    assert processed + rejected == len(records)
    assert rejected == len(bad) * 20


def test_unknown_brands_are_rejected_when_brands_are_configured():
    engine = Engine(Settings(brands=[BrandConfig(name="acme")]))
    out = engine.process([orjson.dumps(mention(1, "acme", 1.7e9, "hi")),
                          orjson.dumps(mention(2, "evil", 1.7e9, "hi"))])
    assert [r.reason for _, r in out.rejected] == ["unknown_brand"]
    assert set(engine.watches) == {"acme"}


def test_brand_count_is_bounded():
    engine = Engine(Settings(max_brands=10))
    out = engine.process([orjson.dumps(mention(i, f"b{i}", 1.7e9, "hi")) for i in range(50)])
    assert len(engine.watches) == 10
    assert {r.reason for _, r in out.rejected} == {"brand_limit"}
    assert len(out.rejected) == 40


def test_future_timestamps_are_judged_against_record_time():
    engine = Engine(Settings())
    m = mention(1, "acme", 1.7e9 + 3600, "hi")
    out = engine.process([orjson.dumps(m)], record_ts=[1.7e9])
    assert [r.reason for _, r in out.rejected] == ["future_timestamp"]
    out = engine.process([orjson.dumps(m)], record_ts=[1.7e9 + 3600])
    assert not out.rejected


def test_snapshot_restore_gives_identical_alerts(crisis_and_launch):
    half = len(crisis_and_launch) * 3 // 4  # cut just before the burst
    first, rest = crisis_and_launch[:half], crisis_and_launch[half:]
    settings = Settings(detection=FAST)
    straight = Engine(settings)
    run(straight, first)
    restored = Engine.from_state(orjson.loads(orjson.dumps(straight.to_state())), settings)
    a1, *_ = run(straight, rest)
    a2, *_ = run(restored, rest)
    assert a1 and [a.model_dump() for a in a1] == [a.model_dump() for a in a2]


def test_batching_does_not_change_results(crisis_and_launch):
    a1, *_ = run(Engine(Settings(detection=FAST)), crisis_and_launch, batch=1000)
    a2, *_ = run(Engine(Settings(detection=FAST)), crisis_and_launch, batch=7)
    assert [a.model_dump() for a in a1] == [a.model_dump() for a in a2]


def test_labels_teach_the_model():
    engine = Engine(Settings())
    text = "@acme the zorglub thing again"
    m = mention(1, "acme", 1.7e9, text)
    before = engine.process([orjson.dumps(m)]).scored[0]["sentiment"]["probs"][0]
    for _ in range(30):
        assert engine.learn_label(Label(mention_id="acme-1", label="negative"))
    after = engine.sentiment.predict_one(text).probs[0]
    assert after > before + 0.2
    assert not engine.learn_label(Label(mention_id="never-seen", label="negative"))


def test_recent_text_gives_a_scored_mentions_text_and_language():
    engine = Engine(Settings())
    m = {**mention(1, "acme", 1.7e9, "@acme encore en retard"), "lang": "fr"}
    assert engine.recent_text("acme-1") is None
    engine.process([orjson.dumps(m)])
    assert engine.recent_text("acme-1") == ("@acme encore en retard", "fr")
    assert engine.recent_text("acme-2") is None


def test_duplicates_are_recognised_per_brand_and_after_a_restore():
    from pipeline.watch import SEEN_IDS

    settings = Settings()
    engine = Engine(settings)
    first = [mention(i, "acme", START + i, "hi") for i in range(50)]
    assert engine.process([orjson.dumps(m) for m in first]).duplicates == 0
    restored = Engine.from_state(orjson.loads(orjson.dumps(engine.to_state())), settings)
    again = restored.process([orjson.dumps(first[3]), orjson.dumps(first[49])])
    assert again.duplicates == 2 and not again.scored
    # the same id under another brand is that brand's mention, not a duplicate
    other = restored.process([orjson.dumps({**first[3], "brand": "nordair"})])
    assert other.duplicates == 0 and len(other.scored) == 1
    # bounded: past SEEN_IDS newer ids, the oldest is forgotten (and so is not in the snapshot)
    more = [mention(i, "acme", START + 60 + i / 100, "hi") for i in range(50, 50 + SEEN_IDS)]
    restored.process([orjson.dumps(m) for m in more])
    state = restored.brand_state("acme")
    assert len(state["seen_ids"]) == SEEN_IDS and first[49]["id"] not in state["seen_ids"]
    late = Engine.from_state(orjson.loads(orjson.dumps(restored.to_state())), settings)
    out = late.process([orjson.dumps(more[-1]), orjson.dumps(first[0])])
    assert out.duplicates == 1 and [s["mention"]["id"] for s in out.scored] == [first[0]["id"]]


def test_batch_gc_raises_the_young_threshold_and_restores_it():
    import gc

    from pipeline.engine import batch_gc

    before = gc.get_threshold()
    with batch_gc(12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
        with pytest.raises(RuntimeError):
            with batch_gc(99_999):
                raise RuntimeError
        assert gc.get_threshold() == (12_345, *before[1:])
    assert gc.get_threshold() == before


def test_an_empty_record_value_is_dead_lettered_not_skipped():
    """An empty (or tombstone) Kafka value is a record: dead-lettered with its reason, counted
    (an archive's blank lines, no records, are counted apart by replay: blank_lines)."""
    out = Engine(Settings()).process([b"", b"  ", None])
    assert [(i, r.reason) for i, r in out.rejected] == [
        (0, "invalid_json"), (1, "invalid_json"), (2, "wrong_type")]
    assert out.processed == 0
