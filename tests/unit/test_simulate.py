"""Unit tests of the mention-stream simulator (pipeline.simulate)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
import pytest

from pipeline.schemas import Mention
from pipeline.settings import load_settings
from pipeline.simulate import (
    DEMO_BRANDS,
    SCENARIOS,
    Pacer,
    ScenarioSpec,
    SimConfig,
    demo_config,
    generate,
    read_ground_truth,
    read_jsonl,
    write_ground_truth,
    write_jsonl,
)
from pipeline.simulate.brands import DEMO_BRANDS, DEMO_PROFILES, seasonal_rate
from pipeline.simulate.clock import parse_ts

START = datetime(2026, 1, 6, 6, tzinfo=timezone.utc)  # a Tuesday, 07:00 local for acme/nordair
WATCHED = [b for b in DEMO_BRANDS if b.name in ("acme", "nordair")]
OWN = {h for b in DEMO_BRANDS for h in b.handles}


def _cfg(**kw) -> SimConfig:
    base = dict(
        start=START,
        duration_s=10 * 3600,
        brands=WATCHED,
        seed=3,
        annotate=True,
        scenarios=[
            ScenarioSpec("crisis", brand="acme", at_s=4 * 3600),
            ScenarioSpec("launch", brand="nordair", at_s=4 * 3600),
            ScenarioSpec("noise_plateau", brand="acme", at_s=8 * 3600),
            ScenarioSpec("raid", brand="nordair", at_s=7 * 3600),
            ScenarioSpec("impostor", brand="acme", at_s=6 * 3600),
            ScenarioSpec("slow_response", brand="nordair", at_s=8 * 3600),
            ScenarioSpec("hijack", brand="acme", at_s=9 * 3600, params={"local_hour": None}),
        ],
    )
    base.update(kw)
    return SimConfig(**base)


@pytest.fixture(scope="module")
def sim():
    it, truth = generate(_cfg())
    rows = list(it)
    return rows, truth


def _window(rows, brand, a, b, customers=True):
    return [
        r for r in rows
        if r["brand"] == brand and a <= parse_ts(r["created_at"]) < b
        and not (customers and r["author"]["handle"] in OWN)
    ]


def _truth(truth, name):
    return next(t for t in truth if t["scenario"] == name)


def _neg(rows):
    return sum(r["sim"]["sentiment"] == "negative" for r in rows) / max(len(rows), 1)


def _high_reach(rows):
    return sum(r["author"]["followers"] >= 10_000 for r in rows) / max(len(rows), 1)


def test_every_record_validates_and_is_ordered_and_unique(sim):
    rows, _ = sim
    assert len(rows) > 5_000
    for r in rows[::7]:
        Mention.model_validate(r)
        orjson.dumps(r)
    ts = [parse_ts(r["created_at"]) for r in rows]
    assert all(a <= b for a, b in zip(ts, ts[1:]))
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(int(a) < int(b) for a, b in zip(ids, ids[1:]))
    assert ts[0] >= START.timestamp() and ts[-1] < START.timestamp() + 10 * 3600


def test_deterministic_for_a_seed():
    cfg = dict(duration_s=1800, scenarios=["crisis@5m"], seed=11)
    a = list(itertools.islice(generate(SimConfig(start=START, **cfg))[0], 2000))
    b = list(itertools.islice(generate(SimConfig(start=START, **cfg))[0], 2000))
    c = list(itertools.islice(generate(SimConfig(start=START, **{**cfg, "seed": 12}))[0], 2000))
    assert orjson.dumps(a) == orjson.dumps(b)
    assert orjson.dumps(a) != orjson.dumps(c)


def test_seasonality_night_below_day():
    cfg = SimConfig(start=datetime(2026, 1, 6, 0, tzinfo=timezone.utc), duration_s=86_400,
                    brands=[DEMO_BRANDS[0]], seed=1)
    hours = Counter(int(parse_ts(r["created_at"]) // 3600) % 24 for r in generate(cfg)[0])
    night = hours[2] + hours[3]  # 03:00-05:00 Paris
    evening = hours[18] + hours[19]  # 19:00-21:00 Paris
    assert evening > 4 * night > 0


def test_languages_kinds_and_sources(sim):
    rows, _ = sim
    langs = Counter(r["lang"] for r in rows)
    assert langs["en"] > 500 and langs["fr"] > 500
    kinds = Counter(r["kind"] for r in rows)
    assert {"mention", "reply", "quote", "repost", "own_post"} <= set(kinds)
    sources = Counter(r["source"] for r in rows if r["author"]["handle"] not in OWN)
    assert {"Twitter for iPhone", "Twitter for Android", "Twitter Web App"} <= set(sources)
    base = [r for r in rows if r["sim"]["scenario"] is None and r["author"]["handle"] not in OWN]
    assert 0.12 < _neg(base) < 0.3


def test_authors_heavy_tailed_and_verified_mostly_high_reach(sim):
    rows, _ = sim
    authors = {r["author"]["id"]: r["author"] for r in rows if r["author"]["handle"] not in OWN}
    followers = sorted(a["followers"] for a in authors.values())
    assert followers[len(followers) // 2] < 1_000 < 100_000 < followers[-1]
    verified = [a for a in authors.values() if a["verified"]]
    assert verified and sum(a["followers"] >= 10_000 for a in verified) / len(verified) > 0.6
    base = {r["author"]["id"]: r["author"] for r in rows if r["sim"]["scenario"] is None}
    assert all(a["created_at"] < "2026-01-06" for a in base.values())
    for r in rows:  # every account exists before it posts
        assert r["author"]["created_at"] < r["created_at"]


def test_own_posts_and_brand_replies_point_to_earlier_ids(sim):
    rows, _ = sim
    pos = {r["id"]: i for i, r in enumerate(rows)}
    own = [r for r in rows if r["kind"] == "own_post" and r["sim"]["scenario"] is None]
    assert own and all(r["author"]["handle"] in OWN for r in own)
    assert all(r["source"] in ("Sprinklr", "Twitter Web App", "Khoros") for r in own)
    assert all(r["url"].split("/")[2] in ("acme.com", "acme.fr", "help.acme.com", "nordair.com",
                                          "nordair.fr") for r in own)
    brand_replies = [r for r in rows if r["kind"] == "reply" and r["author"]["handle"] in OWN]
    assert len(brand_replies) > 50
    replies = [r for r in rows if r["in_reply_to"] is not None]
    for i, r in enumerate(rows):
        if r["in_reply_to"] is not None:
            assert pos[r["in_reply_to"]] < i
    delays = sorted(
        parse_ts(r["created_at"]) - parse_ts(rows[pos[r["in_reply_to"]]]["created_at"])
        for r in brand_replies
    )
    assert 45 <= delays[0] and 120 < delays[len(delays) // 2] < 4 * 3600
    assert len(replies) > len(brand_replies)


def test_crisis_window(sim):
    rows, truth = sim
    t = _truth(truth, "crisis")
    assert (t["brand"], t["kind"], t["expect"]) == ("acme", "crisis", "crisis")
    s, e = parse_ts(t["start"]), parse_ts(t["end"])
    base = _window(rows, "acme", s - 3600, s)
    peak = _window(rows, "acme", s + t["details"]["ramp_s"], s + 900)
    rate_base, rate_peak = len(base) / 60, len(peak) / ((900 - t["details"]["ramp_s"]) / 60)
    assert 5 * rate_base < rate_peak < 15 * rate_base
    assert _neg(peak) > _neg(base) + 0.3
    assert _high_reach(peak) > 3 * _high_reach(base)
    assert sum(r["author"]["verified"] for r in peak) > 5
    text = " ".join(r["text"].lower() for r in peak)
    assert text.count("#acmefail") > 20 and text.count("data leak") + text.count("fuite de données") > 20
    after = _window(rows, "acme", e + 600, e + 3000)
    assert len(after) / 40 < 2 * rate_base  # decayed back


def test_launch_window(sim):
    rows, truth = sim
    t = _truth(truth, "launch")
    assert (t["brand"], t["expect"]) == ("nordair", "no_crisis")
    s, e = parse_ts(t["start"]), parse_ts(t["end"])
    base = _window(rows, "nordair", s - 3600, s)
    win = _window(rows, "nordair", s + 600, s + 1800)
    assert len(win) / 20 > 2 * len(base) / 60
    assert _neg(win) < _neg(base)
    assert any(r["kind"] == "own_post" and t["details"]["hashtag"] in r["text"]
               for r in _window(rows, "nordair", s, s + 1, customers=False))


def test_noise_plateau_busier_same_mix(sim):
    rows, truth = sim
    t = _truth(truth, "noise_plateau")
    assert t["expect"] == "no_crisis"
    s, e = parse_ts(t["start"]), parse_ts(t["end"])
    profile = DEMO_PROFILES["acme"]

    def expected(a, b):  # seasonal baseline count over [a, b)
        return float(seasonal_rate(profile, np.arange(a, b, 10.0) + 5).sum() * 10)

    base = _window(rows, "acme", s - 3600, s)
    win = _window(rows, "acme", s + 900, e - 900)
    assert 0.7 < len(base) / expected(s - 3600, s) < 1.4
    assert len(win) / expected(s + 900, e - 900) > 1.6
    assert abs(_neg(win) - _neg(base)) < 0.12
    assert not any(r["sim"]["scenario"] for r in win)


def test_hijack_defaults_to_3am_local():
    cfg = SimConfig(start=START, duration_s=86_400, brands=WATCHED, scenarios=["hijack"])
    _, truth = generate(cfg)
    assert truth[0]["start"] == "2026-01-07T02:00:00.000Z"  # 03:00 in Paris
    assert truth[0]["details"]["local_hour"] == 3.0


def test_hijack_impostor_raid_slow_response(sim):
    rows, truth = sim
    h = _truth(truth, "hijack")
    assert h["details"]["local_hour"] == 16.0 and h["expect"] == "hijack"
    posts = [r for r in rows if r["sim"]["scenario"] == "hijack" and r["kind"] == "own_post"]
    assert len(posts) == h["details"]["posts"]
    assert all(p["source"] == h["details"]["source"] not in h["details"]["known_sources"]
               and h["details"]["link_domains"][0] in p["url"] for p in posts)

    imp = _truth(truth, "impostor")
    handles = set(imp["details"]["handles"])
    assert "acme_support_official" in handles and "acrne" in handles
    by_imp = [r for r in rows if r["author"]["handle"] in handles]
    assert len(by_imp) > 5 and all(imp["details"]["link_domains"][0] in r["text"] for r in by_imp)
    assert any(r["in_reply_to"] for r in by_imp)

    raid = _truth(truth, "raid")
    posts = [r for r in rows if r["sim"]["scenario"] == "raid"]
    assert len(posts) == raid["details"]["posts"] >= raid["details"]["accounts"] >= 50
    assert all(r["author"]["followers"] < 50 and r["author"]["created_at"] > "2025-12-20"
               for r in posts)
    span = parse_ts(posts[-1]["created_at"]) - parse_ts(posts[0]["created_at"])
    assert span <= raid["details"]["end_offset_s"] - raid["details"]["start_offset_s"]
    assert len({r["text"].lower().rstrip(" !.😡🤬👎💯‼️").split(" #boycott")[0] for r in posts}) < 12

    slow = _truth(truth, "slow_response")
    s, e = parse_ts(slow["start"]), parse_ts(slow["end"])
    neg_in = {r["id"] for r in _window(rows, "nordair", s, e) if r["sim"]["sentiment"] == "negative"
              and r["kind"] != "repost"}
    neg_before = {r["id"] for r in _window(rows, "nordair", s - 7200, s)
                  if r["sim"]["sentiment"] == "negative" and r["kind"] != "repost"}
    answered = {r["in_reply_to"] for r in rows if r["author"]["handle"] in OWN}
    share_in = len(neg_in & answered) / len(neg_in)
    share_before = len(neg_before & answered) / len(neg_before)
    assert share_in < share_before / 2


def test_ground_truth_format(sim):
    _, truth = sim
    assert {t["scenario"] for t in truth} == {
        k for k, v in SCENARIOS.items() if v.__module__ == "pipeline.simulate.scenarios"}
    for t in truth:
        assert set(t) == {"scenario", "brand", "kind", "start", "end", "expect", "details"}
        assert t["expect"] in (t["kind"], "no_" + t["kind"])
        assert parse_ts(t["start"]) < parse_ts(t["end"])
        orjson.dumps(t)


def test_spec_parsing_and_unknowns():
    assert ScenarioSpec.parse("raid:nordair@2h*3+10m") == ScenarioSpec(
        "raid", "nordair", 7200.0, 600.0, 3.0)
    with pytest.raises(ValueError):
        ScenarioSpec.parse("crisis@@")
    with pytest.raises(ValueError):
        generate(SimConfig(start=START, duration_s=60, scenarios=["nope"]))
    with pytest.raises(KeyError):
        generate(SimConfig(start=START, duration_s=60, scenarios=["crisis:nobody"]))


def test_demo_config_timeline():
    cfg = demo_config()
    _, truth = generate(cfg)
    crisis = _truth(truth, "crisis")
    live = cfg.live_from_ts
    # at 60x, the crisis starts 20 event-minutes (20 wall seconds) into the live part
    assert 0 < parse_ts(crisis["start"]) - live <= 30 * 60
    assert {t["brand"] for t in truth} == {"acme", "nordair", "globex"}


def test_jsonl_and_truth_roundtrip(tmp_path, sim):
    rows, truth = sim
    n = write_jsonl(tmp_path / "m.jsonl.gz", rows[:500])
    assert n == 500 and list(read_jsonl(tmp_path / "m.jsonl.gz")) == rows[:500]
    write_jsonl(tmp_path / "m.jsonl", rows[:10])
    assert list(read_jsonl(tmp_path / "m.jsonl")) == rows[:10]
    write_ground_truth(tmp_path / "truth.json", truth)
    assert read_ground_truth(tmp_path / "truth.json") == truth


def test_pacer_speedup_rate_and_history():
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    t0 = START.timestamp()
    rows = [{"created_at": (START + timedelta(seconds=k * 60)).isoformat()} for k in range(10)]
    pacer = Pacer(speedup=60.0, live_from=t0 + 300, clock=lambda: now[0], sleep=sleep)
    out = list(pacer.pace(rows))
    assert out == rows
    assert now[0] == pytest.approx(104.0)  # 5 history rows free, then 1 wall s per event minute
    now[0] = 0.0
    pacer = Pacer(speedup=None, rate=10.0, clock=lambda: now[0], sleep=sleep)
    list(pacer.pace(rows))
    assert now[0] == pytest.approx(0.9)


def test_hard_scenarios_legitimate_lookalikes_and_subtle_attacks():
    """The harder variants inject what their ground truth says (EN and FR brands)."""
    specs = [ScenarioSpec("lookalike_benign", brand="acme", at_s=3600),
             ScenarioSpec("impostor_subtle", brand="nordair", at_s=3600),
             ScenarioSpec("contest", brand="acme", at_s=3 * 3600),
             ScenarioSpec("viral_quote", brand="nordair", at_s=3 * 3600),
             ScenarioSpec("night_statement", brand="acme", at_s=0, params={"local_hour": 9.0}),
             ScenarioSpec("client_switch", brand="nordair", at_s=0)]
    it, truth = generate(_cfg(duration_s=6 * 3600, scenarios=specs, seed=5))
    rows = list(it)
    by = {t["scenario"]: t for t in truth}
    assert {t["expect"] for t in truth} == {"no_impostor", "impostor", "no_raid", "no_hijack"}
    scn = lambda name: [r for r in rows if r["sim"]["scenario"] == name]  # noqa: E731

    benign = scn("lookalike_benign")
    assert {r["author"]["handle"] for r in benign} == set(by["lookalike_benign"]["details"]["handles"])
    assert all(r["author"]["created_at"] < "2023-06-01" for r in benign)

    subtle = scn("impostor_subtle")
    handles = by["impostor_subtle"]["details"]["handles"]
    assert "nordairhelp" in handles and not set(handles) & OWN  # vs the real nordair_help
    assert any(not h.isascii() for h in handles) and subtle
    assert all(r["in_reply_to"] and "nordair-care-center.net" in r["url"] for r in subtle)

    entries = [r for r in scn("contest") if r["kind"] == "mention"]
    assert len(entries) >= 100 and all(r["sim"]["sentiment"] == "positive" for r in entries)
    young = sum(r["author"]["created_at"] > "2025-12-10" for r in entries) / len(entries)
    assert 0.3 < young < 0.7
    assert any(r["kind"] == "own_post" and "#AcmeContest" in r["text"] for r in scn("contest"))

    quotes = scn("viral_quote")
    assert len(quotes) == 220 and all(r["sim"]["sentiment"] == "negative" for r in quotes)
    assert sum(r["author"]["followers"] >= 60 for r in quotes) > 150

    night = scn("night_statement")
    own = [r for r in night if r["kind"] == "own_post"]
    assert len(own) == 5 and all(r["source"] == "Twitter for iPhone" for r in night)
    assert all(8.9 <= (parse_ts(r["created_at"]) / 3600 + 1) % 24 <= 10.6 for r in own)
    assert all("acme." in r["text"] for r in night)  # links to the brand's own domains
    switch = scn("client_switch")
    assert switch and all(r["source"] == "Hootsuite Inc." and r["url"] for r in switch)


def test_the_simulated_brands_settings_file_declares_the_demo_brands():
    """docs/simulated-brands.toml is how a user replays a simulated archive with the brands'
    own handles (as `veille demo` and bench/replay.py configure them)."""
    path = Path(__file__).resolve().parents[2] / "docs" / "simulated-brands.toml"
    assert load_settings(path).brands == DEMO_BRANDS


def test_the_support_team_answers_only_in_its_support_hours():
    """The simulated support answers in its support hours only: an answer delay drawn at a
    mention's time that would run past closing resumes at the next opening. (It used to be
    posted anyway: globex, closing at 22:00 local with 90 mentions a minute, kept answering
    for two hours after closing, the slowest answers only, and the README walk-through
    raised a slow_response incident on that tail at 04:33 UTC every newcomer saw.)"""
    globex = next(b for b in DEMO_BRANDS if b.name == "globex")
    p = DEMO_PROFILES["globex"]
    open_h, close_h = p.support_hours
    start = datetime(2026, 1, 7, 1, tzinfo=timezone.utc)  # 20:00 local, closing at 22:00
    rows = list(generate(SimConfig(start=start, duration_s=15 * 3600, brands=[globex],
                                   seed=5, rate_scale=0.25))[0])
    at = {r["id"]: parse_ts(r["created_at"]) for r in rows}
    replies = [r for r in rows if r["kind"] == "reply" and r["author"]["handle"] in globex.handles]
    hour = [(parse_ts(r["created_at"]) / 3600 + p.utc_offset_h) % 24 for r in replies]
    assert len(replies) > 250 and all(open_h <= h < close_h for h in hour)
    # the mentions of the last hour before closing: most answered in minutes, the rest in the
    # morning (not one answer at night)
    close = start.timestamp() + 2 * 3600
    waits = [at_r - at[r["in_reply_to"]] for r, at_r in
             ((r, parse_ts(r["created_at"])) for r in replies)
             if close - 3600 <= at[r["in_reply_to"]] < close]
    assert len(waits) > 50
    assert sum(w < 3600 for w in waits) > 0.5 * len(waits)
    assert all(w < 2 * 3600 or w > (24 - close_h + open_h) * 3600 - 3600 for w in waits)
