"""bench/replay.py --compare: what breaks replay parity, and what does not."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from bench.replay import compare, json_relation

OUTPUTS = {
    "alerts.jsonl": [{"incident_id": "acme-1", "update": "opened", "score": 2.5}],
    "deadletters.jsonl": [{"reason": "invalid_json"}],
    "series.json": {"acme": [[0, 3], [60, 4]]},
    "terms.json": {"acme": ["refund"]},
    "samples.json": {"acme": ["m1"]},
    "state.json": {"version": 3, "brands": {"acme": {"n": 7}}},
    "scored.jsonl.gz": [{"id": "m1", "sentiment": "negative"}],
    "summary.json": {"records": 2, "elapsed_s": 1.5, "mentions_per_s": 1.3, "source": "a"},
}


def write(folder: Path, outputs: dict) -> Path:
    folder.mkdir()
    for name, value in outputs.items():
        if name.endswith(".json"):
            data = orjson.dumps(value)
        else:
            data = b"".join(orjson.dumps(v) + b"\n" for v in value)
        (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return folder


def test_compare_tells_changes_from_added_fields(tmp_path: Path):
    old = write(tmp_path / "old", OUTPUTS)
    timings = dict(OUTPUTS, **{"summary.json": dict(OUTPUTS["summary.json"], elapsed_s=9.0,
                                                     source="b")})
    assert compare(write(tmp_path / "same", timings), old) == []
    added = dict(OUTPUTS, **{
        "alerts.jsonl": [dict(OUTPUTS["alerts.jsonl"][0], reach=120)],
        "state.json": {"version": 3, "brands": {"acme": {"n": 7, "phi_n": 0.4}}},
    })
    assert compare(write(tmp_path / "added", added), old) == [
        "alerts.jsonl (added fields)", "state.json (added fields)"]
    changed = dict(OUTPUTS, **{
        "scored.jsonl.gz": [{"id": "m1", "sentiment": "positive"}],
        "alerts.jsonl": OUTPUTS["alerts.jsonl"] * 2,
        "summary.json": {"records": 3, "elapsed_s": 1.5, "mentions_per_s": 1.3, "source": "a"},
    })
    assert compare(write(tmp_path / "changed", changed), old) == [
        "alerts.jsonl", "scored.jsonl.gz", "summary.json"]
    (tmp_path / "changed" / "terms.json").unlink()
    assert "terms.json (missing)" in compare(tmp_path / "changed", old)


def test_a_removed_field_is_a_difference():
    assert json_relation({"a": 1}, {"a": 1, "b": 2}) == "different"
    assert json_relation([{"a": 1, "b": 2}], [{"a": 1}]) == "added"
    assert json_relation([1, 2, 3], [1, 2]) == "different"
