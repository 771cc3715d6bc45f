"""The command line: every command explains itself; simulate writes valid mentions."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agents import cli
from pipeline.schemas import Mention
from tests.support.cli import flat

ROOT = Path(__file__).resolve().parents[2]
cli._register_optional_commands()
runner = CliRunner()
COMMANDS = sorted(c.name for c in cli.app.registered_commands if c.name) + ["broker", "worker"]


def test_help_lists_every_command_with_one_line():
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "worker", "broker", "simulate", "check-post"):
        assert name in result.output
    assert flat("Try it: veille demo") in flat(result.output)  # where a new user starts


@pytest.mark.parametrize("name", sorted(set(COMMANDS)))
def test_each_command_has_help(name):
    result = runner.invoke(cli.app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_simulate_writes_valid_mentions_and_ground_truth(tmp_path):
    out, truth = tmp_path / "m.jsonl.gz", tmp_path / "truth.json"
    result = runner.invoke(cli.app, ["simulate", "--out", str(out), "--truth", str(truth),
                                     "--hours", "1", "--scenario", "crisis:acme@20m"])
    assert result.exit_code == 0, result.output
    with gzip.open(out) as fh:
        rows = [orjson.loads(line) for line in fh]
    assert len(rows) > 100
    for row in rows[:500]:
        Mention.model_validate(row)
    gt = orjson.loads(truth.read_bytes())
    assert [g["scenario"] for g in gt] == ["crisis"] and gt[0]["brand"] == "acme"


def test_worker_without_bootstrap_says_what_to_do(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.delenv("VEILLE_KAFKA_BOOTSTRAP", raising=False)
    result = runner.invoke(cli.app, ["worker"])
    assert result.exit_code == 2
    assert "KAFKA_BOOTSTRAP" in result.output


def test_check_post_exit_codes_and_json():
    ok = runner.invoke(cli.app, ["check-post", "--json", "Our stores open at 9 tomorrow."])
    assert ok.exit_code == 0
    assert orjson.loads(ok.output.strip().splitlines()[-1])["verdict"] == "approve"
    bad = runner.invoke(cli.app, ["check-post", "--json", "key AKIAZ7QK3M2XJ4P8RT5W here"])
    assert bad.exit_code == 2
    last = orjson.loads(bad.output.strip().splitlines()[-1])
    assert last["verdict"] == "block" and last["reasons"][0]["span"]


@pytest.mark.parametrize("args", [[], ["--bogus", "hi"], ["hi", "--lang"],
                                  ["hi", "--settings", "/nonexistent/veille.toml"],
                                  ["hi", "--lang", "de"], [" \n"]],
                         ids=["no-text", "unknown-option", "option-without-value", "no-such-file",
                              "unknown-lang", "empty-text"])
def test_check_post_usage_error_is_no_review_not_block(args):
    """Click exits 2 on a usage error, which a CI hook would read as "block": 3 (no review)."""
    r = runner.invoke(cli.app, ["check-post", *args])
    assert r.exit_code == 3, r.output
    assert "Error" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("how", ["stdin-dash", "file", "file-dash"])
def test_check_post_reads_the_post_from_stdin_or_a_file(tmp_path, how):
    """The same verdicts (and exit codes) as with the post as an argument."""
    for post, code, verdict in (("Our stores open at 9 tomorrow.\n", 0, "approve"),
                                ("key AKIAZ7QK3M2XJ4P8RT5W here\r\n", 2, "block")):
        f = tmp_path / "post.txt"
        f.write_bytes(post.encode())
        args = {"stdin-dash": ["-"], "file": ["--file", str(f)], "file-dash": ["-f", "-"]}[how]
        r = runner.invoke(cli.app, ["check-post", "--json", *args],
                          input=None if how == "file" else post.encode())
        assert r.exit_code == code, r.output
        last = orjson.loads(r.output.strip().splitlines()[-1])
        assert last["verdict"] == verdict
        if code:  # the span is in the post as read, without the line end
            assert last["reasons"][0]["span"] == [4, 24]


@pytest.mark.parametrize("args,stdin,message", [
    (["--file", "/nonexistent/post.txt"], None, "/nonexistent/post.txt: no such file"),
    (["hi", "--file", "README.md"], None, "TEXT and --file both given"),
    (["-"], b"\xff\xfe oops", "stdin is not UTF-8 text"),
    (["-"], b"\n\n", "the post is empty"),
], ids=["no-such-file", "text-and-file", "not-utf8", "empty-stdin"])
def test_check_post_unreadable_post_is_no_review(args, stdin, message):
    r = runner.invoke(cli.app, ["check-post", *args], input=stdin)
    assert r.exit_code == 3, r.output
    assert flat(message) in flat(r.output) and "Traceback" not in r.output


def test_check_post_help_exits_0_and_documents_the_exit_codes():
    r = runner.invoke(cli.app, ["check-post", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert flat("0 approve, 1 warn, 2 block, 3 no review") in flat(r.output)
    assert "--file" in r.output and flat("- reads it from stdin") in flat(r.output)


def test_check_post_internal_error_is_no_review_not_warn(monkeypatch):
    """An unexpected error would exit 1 ("warn"): it is shown, and exits 3 (no review)."""
    from pipeline.risks import PostReviewer

    def broken(self, text, lang=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(PostReviewer, "review", broken)
    r = runner.invoke(cli.app, ["check-post", "hello"])
    assert r.exit_code == 3, r.output


def test_check_post_unknown_brand_says_which_exist(tmp_path):
    toml = tmp_path / "v.toml"
    toml.write_text('[[brands]]\nname = "acme"\n[[brands]]\nname = "globex"\n')
    r = runner.invoke(cli.app, ["check-post", "hi", "--brand", "acmee", "--settings", str(toml)])
    assert r.exit_code == 3
    assert flat("unknown brand 'acmee'; configured: acme, globex") in flat(r.output)
    r = runner.invoke(cli.app, ["check-post", "hi", "--brand", "acme"])
    assert r.exit_code == 3 and flat("none (give the brands with --settings FILE)") in flat(r.output)


@pytest.mark.parametrize("bench", sorted(p.name for p in (ROOT / "bench").glob("*.py")
                                         if not p.name.startswith("_")))
def test_every_bench_takes_json(bench):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / bench), "--help"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout


def test_worker_makes_its_data_dir_from_any_directory(monkeypatch, tmp_path):
    """`veille worker` run outside the repo (no `var/`): Faust only makes the last level."""
    import uvloop

    from agents import faust_worker

    started = []

    class FakeWorker:
        def __init__(self, app, **kw):
            self.app = app

        def execute_from_commandline(self):
            started.append(Path(self.app.conf.datadir))

    async def reachable(settings):
        return None

    monkeypatch.setattr(faust_worker, "VeilleWorker", FakeWorker)
    monkeypatch.setattr(uvloop, "install", lambda: None)
    monkeypatch.setattr("agents.kafka.check_reachable", reachable)
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("VEILLE_DATA_DIR", str(tmp_path / "var" / "worker"))
    result = runner.invoke(cli.app, ["worker"])
    assert result.exit_code == 0, result.output
    assert started and (tmp_path / "var" / "worker").is_dir()


@pytest.fixture
def no_broker(monkeypatch):
    """KAFKA_BOOTSTRAP pointing at a loopback port where nothing listens."""
    from agents.brokers import free_port

    monkeypatch.setenv("KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    monkeypatch.delenv("VEILLE_SETTINGS_FILE", raising=False)


@pytest.mark.parametrize("args", [
    ["simulate", "--hours", "0.05"],
    ["replay", "--from-topic", "veille.mentions", "--quiet"],
    ["replay", "ARCHIVE", "--into-kafka", "--quiet"],
    ["replay", "ARCHIVE", "--into-kafka", "--speedup", "60", "--quiet"],  # simulate's name
], ids=["simulate", "replay-from-topic", "replay-into-kafka", "replay-into-kafka-speedup"])
def test_unreachable_broker_is_one_clear_line_not_a_traceback(no_broker, tmp_path, args):
    archive = tmp_path / "a.jsonl"
    archive.write_text('{"id": "1"}\n')
    args = [str(archive) if a == "ARCHIVE" else a for a in args]
    if args[0] == "replay":
        args += ["--out", str(tmp_path / "out")]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 2, result.output
    assert "no Kafka broker answers at 127.0.0.1:" in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["worker"], ["simulate", "--hours", "0.05"]])
def test_no_broker_is_one_line_on_stderr_exit_2(tmp_path, args):
    """The worker as the other commands (exit 2, the same line), not Faust's traceback and
    exit 1; and only that line (not aiokafka's "Unable connect to ..." log line before it)."""
    from agents.brokers import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEILLE_", "KAFKA_"))}
    env.update(KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}", VEILLE_DATA_DIR=str(tmp_path / "d"),
               TERM="dumb")
    r = subprocess.run([sys.executable, "-m", "agents.cli", *args], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path, env=env)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and not ln.startswith("simulate")]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("no Kafka broker answers at 127.0.0.1:"), r.stderr


def test_help_shows_the_spec_syntax_and_examples():
    """Help text is markdown: brackets and asterisks of the spec syntax survive, paragraphs
    flow (no hard-wrapped lines), each long command shows an example."""
    wide = {"COLUMNS": "200"}
    sim = runner.invoke(cli.app, ["simulate", "--help"], env=wide).output
    assert "NAME[:BRAND][@OFFSET][*MAGNITUDE]" in sim and "crisis:acme@3h*8" in sim
    assert "impostor_subtle" in sim  # every registered scenario is listed
    for name in ("simulate", "replay", "worker"):
        out = runner.invoke(cli.app, [name, "--help"], env=wide).output
        assert f"veille {name} " in out.split("Options")[0], name
    demo = runner.invoke(cli.app, ["demo", "--help"], env=wide).output
    assert "get two hours of history, then a live stream" in demo


@pytest.mark.parametrize("args,message", [
    (["--scenario", "nope"], "unknown scenario 'nope'"),
    (["--scenario", "crisis:zzz"], "unknown brand 'zzz'"),
    (["--start", "yesterday"], "'yesterday' is not ISO-8601"),
    (["--scenario", "crisis:acme@1h"], "crisis on acme starts after the end of the simulation "
                                       "(--hours 0.1)"),
])
def test_simulate_bad_spec_is_a_usage_error(tmp_path, args, message):
    result = runner.invoke(cli.app, ["simulate", "--out", str(tmp_path / "m.jsonl"),
                                     "--hours", "0.1", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert flat(message) in flat(result.output) and not (tmp_path / "m.jsonl").exists()


@pytest.mark.parametrize("command", [["check-post", "hello"], ["simulate", "--hours", "0.1"],
                                     ["demo"], ["worker"],
                                     ["replay", __file__, "--out", "never-written"]])
def test_bad_settings_file_is_one_message_naming_it(tmp_path, command):
    bad = tmp_path / "bad.toml"
    bad.write_text("kafka_bootstrap = 3\nnope = 1\n")
    result = runner.invoke(cli.app, [*command, "--settings", str(bad)], env={"COLUMNS": "300"})
    # check-post: 2 means "block", so a file it cannot use is 3 (no review)
    assert result.exit_code == (3 if command[0] == "check-post" else 2), result.output
    assert flat(f"settings error in {bad}") in flat(result.output)
    assert "nope" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [
    ["simulate", "--hours", "0", "--out", "OUT/m.jsonl"],
    ["simulate", "--hours", "1", "--rate-scale", "0", "--out", "OUT/m.jsonl"],
    ["replay", __file__.replace(".py", ".jsonl"), "--batch", "0", "--out", "OUT/r"],
    ["replay", __file__.replace(".py", ".jsonl"), "--into-kafka", "--speed", "-1"],
], ids=["simulate-0-hours", "simulate-0-rate", "replay-batch-0", "replay-negative-speed"])
def test_numbers_that_would_do_nothing_are_usage_errors(tmp_path, args):
    """--hours 0 wrote an empty file, --batch 0 replayed nothing: both exited 0."""
    archive = tmp_path / "a.jsonl"
    archive.write_text('{"id": "1"}\n')
    args = [str(archive) if a.endswith(".jsonl") and "OUT" not in a else
            a.replace("OUT", str(tmp_path)) for a in args]
    r = runner.invoke(cli.app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 2 and "Invalid value" in r.output, r.output
    assert not (tmp_path / "m.jsonl").exists() and not (tmp_path / "r").exists()


def test_broker_that_cannot_start_is_one_message_not_a_traceback(monkeypatch):
    monkeypatch.setenv("VEILLE_KAFKA_LIBS", "/nonexistent/kafka/libs")
    r = runner.invoke(cli.app, ["broker", "--kind", "kafka"], env={"COLUMNS": "200"})
    assert r.exit_code == 2, r.output
    assert flat("kafka broker did not start: Apache Kafka jars not found in "
                "/nonexistent/kafka/libs") in flat(r.output)
    assert "Traceback" not in r.output and "fetch.sh" in r.output


def test_broker_unknown_kind_is_a_usage_error():
    r = runner.invoke(cli.app, ["broker", "--kind", "zookeeper"], env={"COLUMNS": "200"})
    assert r.exit_code == 2 and flat("unknown broker kind 'zookeeper'") in flat(r.output), r.output
