"""Replay's output directory: a run never leaves an earlier run's files for the report to mix."""

from __future__ import annotations

import gzip

import orjson
import pytest
from typer.testing import CliRunner

from pipeline.replay import load_run
from pipeline.replay.outdir import OUTPUT_FILES, PLOT_FILE, clear_outputs, prepare_outdir
from pipeline.report.html import build, plots
from tests.support.cli import flat
from tests.support.streams import stream

WARMUP = ["--set", "detection.warmup_s=21600"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Eleven hours of acme with an angry burst at hour ten (one crisis at this warm-up)."""
    path = tmp_path_factory.mktemp("arc") / "crisis.jsonl.gz"
    ms = stream("acme", 11, 6, seed=1, bursts=[(10.0, 30, 40, "angry")])
    path.write_bytes(gzip.compress(b"\n".join(orjson.dumps(m) for m in ms) + b"\n"))
    return path


def _replay(*args: str):
    from agents.cli import _register_optional_commands, app

    _register_optional_commands()
    return CliRunner().invoke(app, ["replay", "--quiet", *args], env={"COLUMNS": "200"})


def test_a_second_run_leaves_none_of_the_first_runs_files(archive, tmp_path):
    a, out = tmp_path / "a", tmp_path / "out"
    assert _replay(str(archive), "-o", str(a), *WARMUP).exit_code == 0
    r = _replay(str(archive), "-o", str(out), "--scored", "--compare-to", str(a), *WARMUP,
                "--set", "detection.crisis_score=1000")
    assert r.exit_code == 0, r.output
    (out / "report.html").write_text("old report")
    (out / "plots").mkdir()
    for name in ("volume-acme.png", "volume-acme.svg", ".timeline.html", "mine.png"):
        (out / "plots" / name).write_text("x")
    (out / "notes.txt").write_text("the analyst's own file")
    assert "removed" in build(out)[0]  # the what-if section, from diff.json
    r = _replay(str(archive), "-o", str(out), *WARMUP)
    assert r.exit_code == 0, r.output
    # the second run wrote neither scored mentions nor a diff: the first run's are gone
    assert not (out / "scored.jsonl.gz").exists() and not (out / "diff.json").exists()
    assert not (out / "report.html").exists()
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["mine.png"]  # not a plot name
    assert (out / "notes.txt").read_text() == "the analyst's own file"
    html = build(out)[0]
    assert "removed" not in html and load_run(out)["summary"]["settings"]["detection"][
        "crisis_score"] != 1000


def test_a_foreign_directory_is_refused_unless_forced(archive, tmp_path):
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "cat.jpg").write_bytes(b"\xff\xd8")
    (mine / "terms.json").write_text("[]")  # one of veille's names, in someone else's directory
    r = _replay(str(archive), "-o", str(mine), *WARMUP)
    assert r.exit_code == 2, r.output
    assert flat("is not empty and not a replay's output") in flat(r.output)
    assert "--force" in r.output and "Traceback" not in r.output
    assert sorted(p.name for p in mine.iterdir()) == ["cat.jpg", "terms.json"]  # untouched
    r = _replay(str(archive), "-o", str(mine), "--force", *WARMUP)
    assert r.exit_code == 0, r.output
    assert (mine / "cat.jpg").read_bytes() == b"\xff\xd8" and load_run(mine)["summary"]
    assert orjson.loads((mine / "terms.json").read_bytes())["acme"]  # replaced by the run's
    not_dir = tmp_path / "file"
    not_dir.write_text("x")
    r = _replay(str(archive), "-o", str(not_dir), *WARMUP)
    assert r.exit_code == 2 and flat("is not a directory") in flat(r.output), r.output


def test_compare_to_the_same_directory_compares_with_the_previous_run(archive, tmp_path):
    out = tmp_path / "o"
    assert _replay(str(archive), "-o", str(out), *WARMUP).exit_code == 0
    first = load_run(out)["summary"]["incidents"]
    assert first
    r = _replay(str(archive), "-o", str(out), "--compare-to", str(out), *WARMUP,
                "--set", "detection.crisis_score=1000")
    assert r.exit_code == 0, r.output
    diff = orjson.loads((out / "diff.json").read_bytes())
    assert [i["id"] for i in diff["removed"]] == [i["id"] for i in first]  # not itself: 0


def test_every_plot_name_is_one_the_clearing_knows(archive, tmp_path):
    assert _replay(str(archive), "-o", str(tmp_path), *WARMUP).exit_code == 0
    names = plots(load_run(tmp_path))
    assert {n.split("-")[0] for n in names} == {"timeline", "volume", "sentiment", "terms",
                                                "incident"}
    for n in names:
        for f in (f"{n}.png", f"{n}.svg", f".{n}.html"):
            assert PLOT_FILE.fullmatch(f), f
    assert not PLOT_FILE.fullmatch("volume-acme.txt") and not PLOT_FILE.fullmatch("cat.png")


def test_clear_outputs_only_touches_veilles_files(tmp_path):
    for name in OUTPUT_FILES + ("other.json",):
        (tmp_path / name).write_text("x")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "terms-acme.svg").write_text("x")
    removed = clear_outputs(tmp_path)
    assert sorted(p.name for p in removed) == sorted(OUTPUT_FILES + ("terms-acme.svg",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]  # plots/ emptied: gone
    assert prepare_outdir(tmp_path / "new") == [] and not (tmp_path / "new").exists()


def test_an_interrupted_run_leaves_nothing_the_report_reads(archive, tmp_path):
    """A run stopped before its summary: the previous run's files are gone, the report says so."""
    from pipeline.replay import OfflineReplay
    from pipeline.settings import Settings

    assert _replay(str(archive), "-o", str(tmp_path), *WARMUP).exit_code == 0
    rep = OfflineReplay(Settings(), tmp_path)  # started, never finished (Ctrl-C, a crash)
    rep.process([gzip.decompress(archive.read_bytes()).splitlines()[0]])
    with pytest.raises(FileNotFoundError, match="an interrupted one has none"):
        build(tmp_path)
