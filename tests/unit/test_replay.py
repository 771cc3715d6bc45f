"""Replay: archive readers and adapters, the offline loop's outputs, summary, what-if, CLI."""

from __future__ import annotations

import csv
import gzip
from collections import Counter

import orjson
import pytest
from typer.testing import CliRunner

from pipeline.engine import Engine
from pipeline.evidence import burst_terms
from pipeline.replay import (
    Archive,
    ArchiveError,
    OfflineReplay,
    compare,
    incidents,
    load_run,
    parity_key,
    parse_sets,
)
from pipeline.replay.sources import airline
from pipeline.settings import BrandConfig, Settings
from tests.support.cli import flat
from tests.support.streams import iso, stream

SETTINGS = dict(detection={"warmup_s": 6 * 3600})


@pytest.fixture(scope="module")
def crisis_stream() -> list[dict]:
    acme = stream("acme", 11, 6, seed=1, bursts=[(10.0, 30, 40, "angry")])
    nordair = stream("nordair", 11, 6, seed=2)
    return sorted(acme + nordair, key=lambda m: m["created_at"])


@pytest.fixture(scope="module")
def crisis_run(crisis_stream, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    archive = out.parent / "crisis.jsonl.gz"
    with gzip.open(archive, "wb") as fh:
        fh.write(b"\n".join(orjson.dumps(m) for m in crisis_stream) + b"\n{broken\n")
    rep = OfflineReplay(Settings(**SETTINGS), out, scored=True, source=str(archive))
    summary = rep.run(Archive(archive).records())
    return out, summary, archive


def test_offline_replay_finds_the_crisis_and_matches_the_engine(crisis_run, crisis_stream):
    out, summary, _ = crisis_run
    crises = [i for i in summary["incidents"] if i["kind"] == "crisis"]
    assert [i["brand"] for i in crises] == ["acme"]
    assert summary["deadletters"] == {"invalid_json": 1}
    assert summary["records"] == len(crisis_stream) + 1
    assert summary["mentions"] == len(crisis_stream)
    # the same alerts as the engine run by hand in batches of 500 (the end-to-end test's way)
    engine = Engine(Settings(**SETTINGS))
    raw = [orjson.dumps(m) for m in crisis_stream]
    expected = []
    for i in range(0, len(raw), 500):
        expected += [a.model_dump(mode="json") for a in engine.process(raw[i:i + 500]).alerts]
    got = [orjson.loads(x) for x in (out / "alerts.jsonl").read_bytes().splitlines()]
    assert got == expected and got


def test_outputs_series_samples_scored(crisis_run, crisis_stream):
    out, summary, _ = crisis_run
    run = load_run(out)
    s = run["series"]["brands"]["acme"]
    assert set(run["series"]["columns"]) <= set(s)
    n = len(s["t"])
    assert n > 600 and all(len(v) == n for v in s.values())
    assert s["t"] == sorted(s["t"]) and s["t"][1] - s["t"][0] == 60
    # every mention is in one closed bucket, except those of the last, still open, buckets
    acme = [m for m in crisis_stream if m["brand"] == "acme"]
    still_open = sum(1 for m in acme if m["created_at"] >= iso(s["t"][-1] + 60))
    assert sum(s["observed"]) == len(acme) - still_open and still_open < 30
    crisis = next(i for i in summary["incidents"] if i["kind"] == "crisis")
    assert crisis["sample_mention_ids"] and all(m in run["samples"]
                                                for m in crisis["sample_mention_ids"])
    assert "leak" in {t["term"] for t in crisis["top_terms"]}
    assert crisis["mentions"] > crisis["evidence_mentions"] / 5  # counted over the whole span
    assert run["terms"]["acme"][0]["count"] >= run["terms"]["acme"][-1]["count"]
    # each term counted once per occurrence in the mentions of the closed buckets, in the
    # order of Counter.most_common (ties in first-seen order) of that reference count
    want: Counter[str] = Counter()
    for m in acme:
        if m["created_at"] < iso(s["t"][-1] + 60):
            want.update(burst_terms(m["text"]))
    got = [(t["term"], t["count"]) for t in run["terms"]["acme"]]
    assert got == want.most_common(len(got)) and len(got) > 10
    scored = gzip.decompress((out / "scored.jsonl.gz").read_bytes()).splitlines()
    assert len(scored) == len(crisis_stream)
    dead = [orjson.loads(x) for x in (out / "deadletters.jsonl").read_bytes().splitlines()]
    assert dead == [{"reason": "invalid_json", "detail": dead[0]["detail"], "record": "{broken"}]


def test_replay_is_deterministic(crisis_run, tmp_path):
    out, summary, archive = crisis_run
    again = OfflineReplay(Settings(**SETTINGS), tmp_path).run(Archive(archive).records())
    assert [parity_key(i) for i in again["incidents"]] == [parity_key(i) for i in summary["incidents"]]
    # without scored mentions the engine skips building them: every other output is the same
    for name in ("alerts.jsonl", "deadletters.jsonl", "series.json", "terms.json",
                 "samples.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert not (tmp_path / "scored.jsonl.gz").exists()


def test_jsonl_fast_path_passes_lines_untouched(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"id":"1","brand":"x"}\n\n   \n[1]\n')
    arc = Archive(p)
    assert list(arc.records()) == [b'{"id":"1","brand":"x"}', b"[1]"]
    assert arc.blank_lines == 2
    assert list(arc.records()) and arc.blank_lines == 2  # counted per reading, not summed


@pytest.mark.parametrize("name,body", [
    ("m.jsonl.gz", b'\n{"id": "1"}\r\n\t\n{"id": "2"}\n\n'),
    ("air.jsonl", b'{"id": "1", "airline": "United", "text": "x"}\n\n \n{"id": "2"}\n\n'),
    ("m.csv", b"\nid,brand\n1,acme\n\n\n2,acme\n"),
], ids=["jsonl-gz", "jsonl-adapter", "csv"])
def test_blank_lines_are_counted_not_records(tmp_path, name, body):
    """Every reader of an archive (fast path, adapter, CSV) counts its blank lines."""
    p = tmp_path / name
    p.write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
    arc = Archive(p)
    assert len(list(arc.records())) == 2 and arc.blank_lines == 3


def test_airline_adapter_jsonl_and_kaggle_csv(tmp_path):
    rec = {"id": "567590027375702016", "text": "@JetBlue is REALLY getting on my nerves",
           "label": "negative", "lang": "en", "created_at": "2015-02-16T23:43:02-08:00",
           "brand": "Delta", "airline": "Delta", "negativereason": "Can't Tell"}
    p = tmp_path / "air.jsonl"
    p.write_bytes(orjson.dumps(rec) + b"\n" + orjson.dumps(dict(rec, id="2", airline="United",
                                                                brand="United")) + b"\n")
    arc = Archive(p)
    got = [orjson.loads(r) for r in arc.records()]
    assert arc.adapter == "airline"
    assert [g["brand"] for g in got] == ["JetBlue", "United"]
    assert got[0]["author"]["id"] != got[1]["author"]["id"]  # synthetic, one per tweet
    assert got[0]["kind"] == "mention" and got[0]["created_at"] == rec["created_at"]
    engine = Engine(Settings())
    out = engine.process(list(Archive(p).records()))
    assert not out.rejected and out.scored[0]["mention"]["created_at"] == rec["created_at"]

    c = tmp_path / "Tweets.csv"
    with c.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["tweet_id", "airline_sentiment", "airline", "name", "text", "tweet_created"])
        w.writerow(["570306133677760513", "neutral", "Virgin America", "cairdin",
                    "@VirginAmerica What @dhepburn said.", "2015-02-24 11:35:52 -0800"])
    m = orjson.loads(next(Archive(c).records()))
    assert m["brand"] == "Virgin America" and m["author"]["handle"] == "cairdin"
    assert m["created_at"] == "2015-02-24T11:35:52-08:00"
    assert not Engine(Settings()).process([orjson.dumps(m)]).rejected


def test_mention_csv_with_flat_author_columns(tmp_path):
    c = tmp_path / "m.csv"
    c.write_text("id,created_at,brand,text,author.id,author.handle,author.followers,author.verified\n"
                 "1,2026-01-05T10:00:00Z,acme,@acme hi,u1,bob,12000,true\n"
                 "2,2026-01-05T10:00:01Z,acme,@acme hi,,,,\n")
    recs = [orjson.loads(r) for r in Archive(c).records()]
    assert recs[0]["author"] == {"id": "u1", "handle": "bob", "followers": 12000, "verified": True}
    out = Engine(Settings()).process([orjson.dumps(r) for r in recs])
    assert [r.reason for _, r in out.rejected] == ["missing_field"] and len(out.scored) == 1


def test_unknown_format_and_adapter(tmp_path):
    with pytest.raises(ValueError):
        Archive(tmp_path / "x.parquet")
    (tmp_path / "x.jsonl").write_text("")
    with pytest.raises(ValueError):
        Archive(tmp_path / "x.jsonl", adapter="nope")
    assert list(Archive(tmp_path / "x.jsonl").records()) == []


@pytest.mark.parametrize("damage", ["truncated", "not_gzip"])
def test_unreadable_archive_is_an_archive_error_and_a_clear_cli_message(crisis_run, tmp_path,
                                                                         damage):
    from agents.cli import _register_optional_commands, app

    _, _, archive = crisis_run
    bad = tmp_path / "bad.jsonl.gz"
    if damage == "truncated":  # gzip ends before its end-of-stream marker
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    else:  # plain JSONL named .gz
        bad.write_bytes(gzip.decompress(archive.read_bytes()))
    with pytest.raises(ArchiveError, match="bad.jsonl.gz: unreadable at byte"):
        list(Archive(bad).records())
    _register_optional_commands()
    r = CliRunner().invoke(app, ["replay", str(bad), "--quiet", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert "archive error" in r.output and flat("truncated or corrupt") in flat(r.output)
    for args in (["--adapter", "nope"], []):
        other = tmp_path / ("m.jsonl" if args else "m.parquet")
        other.write_text("")
        r = CliRunner().invoke(app, ["replay", str(other), "--quiet", "--out",
                                     str(tmp_path / "o2"), *args])
        assert r.exit_code == 2 and "archive error" in r.output, r.output
        assert "Traceback" not in r.output


def test_cli_replay_dead_letters_and_counts_every_malformed_line(crisis_stream, tmp_path):
    from agents.cli import _register_optional_commands, app

    _register_optional_commands()
    good = [orjson.dumps(m) for m in crisis_stream[:50]]
    bad = {b'{"id": broken': "invalid_json", b"not json": "invalid_json",
           b"[1, 2]": "not_an_object", b"\xff\xfe": "invalid_utf8",
           b'{"id": "9"}': "missing_field",
           orjson.dumps(dict(crisis_stream[0], id="x1", created_at="soon")): "wrong_type"}
    archive = tmp_path / "mixed.jsonl"
    archive.write_bytes(b"\n".join(good[:20] + list(bad) + [b"", b"  "] + good[20:]) + b"\n")
    r = CliRunner().invoke(app, ["replay", str(archive), "--quiet", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    summary = load_run(tmp_path / "o")["summary"]
    assert summary["deadletters"] == dict(Counter(bad.values()))
    assert summary["records"] == summary["mentions"] + sum(summary["deadletters"].values()) \
        + summary["duplicates"] == len(good) + len(bad)  # blank lines are not records
    assert summary["blank_lines"] == 2  # but counted: the archive's lines add up too
    assert "(and 2 blank lines, skipped)" in r.output
    from pipeline.report.html import build

    assert "(and 2 blank lines of the archive, skipped)" in build(tmp_path / "o")[0]
    dead = [orjson.loads(line) for line in (tmp_path / "o" / "deadletters.jsonl").open("rb")]
    assert [d["reason"] for d in dead] == list(bad.values())
    assert all(d["detail"] and d["record"] for d in dead)
    assert "dead letters: " in r.output and "invalid_json 2" in r.output
    assert "no brands configured (--settings FILE with [[brands]])" in " ".join(r.output.split())
    toml = tmp_path / "brands.toml"
    toml.write_text('[[brands]]\nname = "acme"\nhandles = ["acme"]\n'
                    '[[brands]]\nname = "nordair"\n')
    r = CliRunner().invoke(app, ["replay", str(archive), "--quiet", "--out", str(tmp_path / "b"),
                                 "--settings", str(toml)])
    assert r.exit_code == 0 and "no brands configured" not in r.output, r.output


def test_cli_replay_and_report_refuse_bad_times_and_broken_outputs(crisis_run, tmp_path):
    from agents.cli import _register_optional_commands, app

    _register_optional_commands()
    out, _, archive = crisis_run
    wide = {"COLUMNS": "200"}
    r = CliRunner().invoke(app, ["replay", "--from-topic", "t", "--since", "monday"], env=wide)
    assert r.exit_code == 2 and flat("'monday' is not ISO-8601") in flat(r.output), r.output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_bytes(b'{"records": ')  # an interrupted or edited run
    r = CliRunner().invoke(app, ["report", str(broken)], env=wide)
    assert r.exit_code == 2 and flat("summary.json: not valid JSON") in flat(r.output), r.output
    r = CliRunner().invoke(app, ["replay", str(archive), "--out", str(tmp_path / "o"),
                                 "--compare-to", str(broken)], env=wide)
    assert r.exit_code == 2 and flat("not valid JSON") in flat(r.output), r.output
    assert not (tmp_path / "o").exists()  # refused before replaying


def test_parse_sets_and_errors():
    assert parse_sets(["detection.crisis_score=2.5", "topics.alerts=x.y", "brands=[]"]) == {
        "detection": {"crisis_score": 2.5}, "topics": {"alerts": "x.y"}, "brands": []}
    with pytest.raises(ValueError):
        parse_sets(["detection.crisis_score"])
    with pytest.raises(ValueError):
        parse_sets(["a=1", "a.b=2"])


def _inc(id_, opened, resolved, kinds=("crisis",), sev=("high",)):
    return {"id": id_, "brand": id_.split(":")[0], "kind": kinds[-1], "kinds": list(kinds),
            "severity": sev[-1], "severities": list(sev), "opened_at": opened,
            "resolved_at": resolved, "last_update": resolved or opened}


def test_compare_added_removed_changed_same():
    old = [_inc("a:crisis:1", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"),
           _inc("b:crisis:1", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"),
           _inc("c:silence:1", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z", ("silence",), ("low",))]
    new = [_inc("a:crisis:2", "2026-01-05T10:10:00Z", "2026-01-05T11:00:00Z"),  # moved: changed
           _inc("b:crisis:1", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"),  # same
           _inc("c:crisis:1", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"),  # other family
           _inc("a:crisis:3", "2026-01-06T10:00:00Z", None)]                    # no overlap
    d = compare(old, new)
    assert [i["id"] for i in d["added"]] == ["c:crisis:1", "a:crisis:3"]
    assert [i["id"] for i in d["removed"]] == ["c:silence:1"]
    assert [(c["old"]["id"], c["new"]["id"]) for c in d["changed"]] == [("a:crisis:1", "a:crisis:2")]
    assert set(d["changed"][0]["fields"]) == {"id", "opened_at"}
    assert d["same"] == 1


def test_incidents_group_updates_in_version_order():
    base = {"brand": "a", "opened_at": "2026-01-05T10:00:00Z", "observed": 1, "expected": 1,
            "evidence": {}}
    ups = [dict(base, id="a:crisis:1", version=2, kind="crisis", severity="high", state="resolved",
                update="resolved", score=1, updated_at="2026-01-05T12:00:00Z"),
           dict(base, id="a:crisis:1", version=1, kind="surge", severity="low", state="watch",
                update="opened", score=3, updated_at="2026-01-05T10:01:00Z")]
    (inc,) = incidents(ups)
    assert inc["kinds"] == ["surge", "crisis"] and inc["severities"] == ["low", "high"]
    assert inc["resolved_at"] == "2026-01-05T12:00:00Z" and inc["peak_at"] == "2026-01-05T10:01:00Z"


def test_cli_replay_what_if_and_settings(crisis_run, tmp_path):
    from agents.cli import _register_optional_commands, app

    _register_optional_commands()
    _, summary, archive = crisis_run
    r = CliRunner().invoke(app, ["replay", str(archive), "--out", str(tmp_path / "a"), "--quiet",
                                 "--set", "detection.warmup_s=21600"])
    assert r.exit_code == 0, r.output
    assert "acme:crisis:" in r.output and "invalid_json 1" in r.output
    first = load_run(tmp_path / "a")["summary"]
    assert [parity_key(i) for i in first["incidents"]] == [parity_key(i) for i in summary["incidents"]]
    # what-if: with a crisis threshold nobody reaches, the crisis is gone
    toml = tmp_path / "v.toml"
    toml.write_text("[detection]\nwarmup_s = 21600\n")
    r = CliRunner().invoke(app, ["replay", str(archive), "--out", str(tmp_path / "b"), "--quiet",
                                 "--settings", str(toml), "--set", "detection.crisis_score=1000",
                                 "--compare-to", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    diff = orjson.loads((tmp_path / "b" / "diff.json").read_bytes())
    assert [i["id"] for i in diff["removed"]] == [i["id"] for i in first["incidents"]]
    assert not diff["added"] and not diff["changed"]
    assert "1 removed" in r.output
    s = load_run(tmp_path / "b")["summary"]["settings"]["detection"]
    assert s["crisis_score"] == 1000 and s["warmup_s"] == 21600
    r = CliRunner().invoke(app, ["replay", str(archive), "--set", "detection.nope=1",
                                 "--out", str(tmp_path / "c")])
    assert r.exit_code == 2


def test_configured_brands_dead_letter_others(crisis_run, tmp_path):
    _, _, archive = crisis_run
    s = Settings(brands=[BrandConfig(name="acme")], **SETTINGS)
    summary = OfflineReplay(s, tmp_path).run(Archive(archive).records())
    assert summary["deadletters"]["unknown_brand"] == summary["records"] - 1 - summary["mentions"]
    assert set(summary["brands"]) == {"acme"}


def test_summary_counts_mentions_dropped_from_the_slow_answer_measure(tmp_path):
    """More awaited negative mentions than slow_max_waiting: the summary and the printed
    table say how many were dropped from the measure (they are not silently lost)."""
    from agents.replay_cmd import out_console, print_summary

    def rec(i: int, handle: str, text: str) -> bytes:
        at = f"2026-01-05T10:{i // 60:02d}:{i % 60:02d}Z"
        return orjson.dumps({"id": f"s{i}", "created_at": at, "brand": "acme", "text": text,
                             "author": {"id": f"u-{handle}", "handle": handle, "followers": 900,
                                        "created_at": "2019-01-01T00:00:00Z"}})

    records = [rec(0, "acme", "Good morning, we are here to help!")]
    records += [rec(i, f"c{i}", "@acme awful service, worst company ever, I hate this")
                for i in range(1, 40)]
    records.append(rec(300, "z", "@acme ok"))  # closes the buckets (the report plots them)
    settings = Settings(brands=[{"name": "acme", "handles": ["acme"]}],
                        detection={"risks": {"slow_max_waiting": 10}})
    summary = OfflineReplay(settings, tmp_path).run(records)
    dropped = summary["brands"]["acme"]["slow_waiting_dropped"]
    assert dropped == summary["brands"]["acme"]["negative"] - 10 > 0
    with out_console.capture() as out:
        print_summary(summary)
    printed = " ".join(out.get().split())
    assert f"acme {dropped:,}" in printed and "slow_max_waiting = 10" in printed
    from pipeline.report.html import build

    assert f"{dropped:,} awaited negative mentions dropped" in build(tmp_path)[0]


def test_no_incident_says_when_the_archive_is_shorter_than_the_warmup(tmp_path):
    """A new user's first replay of a few hours: not an empty table, but why."""
    from agents.replay_cmd import out_console, print_summary

    def at(i: int) -> str:
        return f"2026-01-05T{i // 60:02d}:{i % 60:02d}:00Z"

    records = [orjson.dumps({"id": f"w{i}", "created_at": at(i), "brand": "acme",
                             "text": "@acme hello", "author": {"id": "u", "handle": "bob"}})
               for i in range(0, 300, 5)]
    for warmup, hint in ((86_400, True), (600, False)):
        summary = OfflineReplay(Settings(detection={"warmup_s": warmup}),
                                tmp_path / str(warmup)).run(records)
        with out_console.capture() as out:
            print_summary(summary)
        printed = " ".join(out.get().split())
        assert printed.startswith("incidents: none")
        assert (f"no brand has detection.warmup_s = {warmup:,} s of history" in printed) is hint
