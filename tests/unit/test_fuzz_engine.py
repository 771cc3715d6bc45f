"""Bad-input fuzzing of the engine (hypothesis, no broker).

Whatever comes in (random bytes, wrong types, huge texts, emoji and non-Latin scripts, duplicate
ids, late / out-of-order / future timestamps, unknown brands, one brand flooding): the engine
never raises, every record is either processed (scored or a recognised duplicate) or
dead-lettered, exactly once, and the brands it tracks stay bounded.
"""

from __future__ import annotations

import math

import orjson
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.codec import REASONS
from pipeline.engine import Engine
from pipeline.settings import BrandConfig, Settings
from tests.support.streams import START, iso

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCRIPTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
WEIRD_TEXT = st.one_of(
    SCRIPTS,
    st.sampled_from(["🔥🔥🔥 @acme 💩", "@acme 最悪のサービス", "@acme خدمة سيئة", "@acme ужасно",
                     "@acme नमस्ते", "\u202e@acme evil", "\x00\x01", "a" * 9_999, "b" * 10_001,
                     "#" * 500, "@" * 300, " ", ""]),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12,
)


@st.composite
def mention_like(draw) -> bytes:
    """A record that is often a valid mention and often subtly not."""
    brand = draw(st.sampled_from(["acme", "nordair", "unknown", "", "ACME", "x" * 200, "acme "])
                 | st.text(max_size=12))
    offset = draw(st.sampled_from([0.0, -86_400 * 400, 3600 * 5, 1e6, -1.0, 59.99])
                  | st.floats(-1e7, 1e7, allow_nan=False))
    ts = START + offset
    created = draw(st.sampled_from([iso(ts) if 0 < ts < 4e9 else "2026-01-05T00:00:00Z",
                                    "2026-13-45T99:00:00Z", "yesterday", "2026-01-05T10:00:00",
                                    "2026-01-05T10:00:00+14:00", "9999-12-31T23:59:59Z"]))
    obj: dict = {
        "id": draw(st.sampled_from(["1", "2", "dup", ""]) | st.text(max_size=10)),
        "created_at": created,
        "brand": brand,
        "text": draw(WEIRD_TEXT),
        "author": draw(st.sampled_from([
            {"id": "u", "handle": "bob"}, {"id": "u", "handle": "acme", "followers": 10**9},
            {"id": 5, "handle": None}, {}, "bob", {"id": "u", "handle": "h", "followers": -3},
            {"id": "u", "handle": "h", "followers": 1e300}])),
    }
    for k in draw(st.lists(st.sampled_from(list(obj)), max_size=2)):
        if draw(st.booleans()):
            obj.pop(k, None)
        else:
            obj[k] = draw(JSONISH)
    if draw(st.booleans()):
        obj["kind"] = draw(st.sampled_from(["mention", "own_post", "reply", 3, None]))
    if draw(st.booleans()):
        obj["lang"] = draw(st.sampled_from(["en", "fr", "ja", "", None, 7]))
    try:
        raw = orjson.dumps(obj)
    except TypeError:
        raw = b"{}"
    return raw


RECORDS = st.lists(
    st.one_of(mention_like(), st.binary(max_size=200), JSONISH.map(lambda v: orjson.dumps(v)),
              st.sampled_from([b"", b"null", b"{", b"\xff\xfe\xfd", b'{"id":"1"}' * 3,
                               b'{"id":"1","text":"' + "é".encode() * 200 + b'"}'])),
    max_size=30,
)


def check(engine: Engine, records: list[bytes], stamps: list[float] | None = None) -> None:
    out = engine.process(records, stamps)
    assert out.processed + len(out.rejected) == len(records)
    idx = [i for i, _ in out.rejected]
    assert len(set(idx)) == len(idx) and all(0 <= i < len(records) for i in idx)
    assert all(r.reason in REASONS for _, r in out.rejected)
    for s in out.scored:
        assert math.isfinite(s["sentiment"]["score"])
    orjson.dumps(out.scored)  # what the worker publishes must encode
    for a in out.alerts:
        orjson.dumps(a.model_dump(mode="json"))


@FUZZ
@given(RECORDS)
def test_anything_in_nothing_raises_and_every_record_is_accounted_for(records):
    check(Engine(Settings(max_brands=5)), records)


@FUZZ
@given(RECORDS, st.lists(st.floats(-1e10, 1e10, allow_nan=False), min_size=30, max_size=30))
def test_with_record_timestamps(records, stamps):
    check(Engine(Settings(brands=[BrandConfig(name="acme")])), records, stamps[: len(records)])


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["acme", "nordair"]), st.integers(0, 40),
                          st.floats(-7200, 7200, allow_nan=False)), max_size=200))
def test_duplicates_and_out_of_order_times_are_counted_once(events):
    engine = Engine(Settings(detection={"warmup_s": 0}))
    raw = [orjson.dumps({"id": f"{b}-{i}", "created_at": iso(START + 86_400 + t), "brand": b,
                         "text": f"@{b} hello {i}", "author": {"id": "u", "handle": "u"}})
           for b, i, t in events]
    out = engine.process(raw)
    assert len(out.rejected) == 0
    assert len(out.scored) == len({(b, i) for b, i, _ in events})
    assert out.duplicates == len(events) - len(out.scored)
    counted = sum(w.late for w in engine.watches.values()) + sum(
        sum(b.count + b.own for b in w.open.values()) + sum(b.count + b.own for b in w.recent)
        for w in engine.watches.values())
    assert counted <= len(out.scored)


def test_unknown_brands_cannot_exhaust_memory():
    engine = Engine(Settings(max_brands=50))
    raw = [orjson.dumps({"id": str(i), "created_at": iso(START + i), "brand": f"b{i}",
                         "text": "hi", "author": {"id": "u", "handle": "u"}})
           for i in range(2000)]
    out = engine.process(raw)
    assert len(engine.watches) == 50
    assert {r.reason for _, r in out.rejected} == {"brand_limit"}
    assert len(out.scored) + len(out.rejected) == 2000
    configured = Engine(Settings(brands=[BrandConfig(name="acme")]))
    out = configured.process(raw[:300])
    assert len(configured.watches) == 0 and {r.reason for _, r in out.rejected} == {"unknown_brand"}


def test_one_brand_flooding_keeps_state_bounded():
    engine = Engine(Settings(detection={"warmup_s": 0}))
    base = START + 86_400
    sizes = []
    for k in range(4):
        raw = [orjson.dumps({"id": f"f{k}-{i}", "created_at": iso(base + k * 600 + i * 0.05),
                             "brand": "acme", "text": f"@acme flood {i} " + "w" * (i % 50),
                             "author": {"id": f"u{i}", "handle": f"user{i}"}})
               for i in range(5000)]
        out = engine.process(raw)
        assert len(out.scored) == 5000
        sizes.append(len(orjson.dumps(engine.watches["acme"].to_state())))
    # per-brand state does not grow with the number of mentions seen
    assert sizes[-1] < 2 * sizes[0] + 50_000, sizes


def test_pathological_records_are_dead_lettered_with_their_reason():
    ok = {"id": "1", "brand": "acme", "created_at": "2026-01-05T10:00:00Z", "text": "x",
          "author": {"id": "u", "handle": "h"}}
    huge = orjson.dumps({**ok, "text": "x" * 3_000_000})  # a 3 MB text
    big_int = orjson.dumps(ok)[:-2] + b',"followers":1' + b"0" * 400 + b"}}"
    cases = {
        b"[" * 100_000: "invalid_json",  # nesting deeper than any parser's recursion
        b'{"a":' * 5_000: "invalid_json",
        b"NaN": "invalid_json",
        big_int: "invalid_json",  # an integer past 64 bits
        huge: "text_too_long",
        '{"id":"\ud800"}'.encode("utf-8", "surrogatepass"): "invalid_utf8",  # lone surrogate
        b"\x00" * 1000: "invalid_json",
    }
    out = Engine(Settings(max_brands=5)).process(list(cases))
    assert out.processed == 0
    assert [r.reason for _, r in sorted(out.rejected, key=lambda x: x[0])] == list(cases.values())
