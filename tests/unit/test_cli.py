"""The command line: every command explains itself; simulate writes valid mentions."""

import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agents import cli
from pipeline.schemas import Mention

ROOT = Path(__file__).resolve().parents[2]
cli._register_optional_commands()
runner = CliRunner()
COMMANDS = sorted(c.name for c in cli.app.registered_commands if c.name) + ["broker", "worker"]


def test_help_lists_every_command_with_one_line():
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "worker", "broker", "simulate", "check-post"):
        assert name in result.output


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


@pytest.mark.parametrize("bench", sorted(p.name for p in (ROOT / "bench").glob("*.py")
                                         if not p.name.startswith("_")))
def test_every_bench_takes_json(bench):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / bench), "--help"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout
