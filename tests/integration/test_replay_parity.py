"""Parity: offline replay and a live run through Kafka and the Faust worker find the same
incidents (ids, opening times, kinds, severities) for the same simulated archive, on Tansu and
on Apache Kafka. The archive goes in with ``veille replay --into-kafka``; the mentions topic is
then replayed offline again with ``--from-topic --since --until`` (offsets_for_times)."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from typer.testing import CliRunner

from agents import kafka
from agents.workers import WorkerProcess
from pipeline.replay import Archive, OfflineReplay, incidents, load_run, parity_key
from pipeline.settings import Settings
from pipeline.simulate import demo_config, generate, write_jsonl
from tests.support.cli import flat


async def read_alerts(settings: Settings, n: int, timeout: float) -> list[dict]:
    c = kafka.consumer(settings, settings.topics.alerts)
    await c.start()
    got: list[dict] = []
    try:
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=500)
            new = [orjson.loads(r.value) for recs in batch.values() for r in recs]
            got += new
            if new:
                quiet_since = time.monotonic()
            # all expected updates in, and nothing more for a few seconds (no extra ones)
            if len(got) >= n and time.monotonic() - quiet_since > 5:
                break
    finally:
        await c.stop()
    return got


@pytest.mark.slow
def test_offline_replay_and_live_worker_find_the_same_incidents(broker, tmp_path, unique_topic):
    topics = {name: unique_topic(name) for name in ("mentions", "scored", "alerts", "deadletter",
                                                     "labels", "posts_outgoing", "posts_reviewed",
                                                     "trends")}
    settings = Settings(
        kafka_bootstrap=broker.bootstrap, broker_kind=broker.kind,
        app_id=unique_topic("veille-parity"), detection={"warmup_s": 3600},
        topics={**topics, "partitions": 4}, snapshot_every_s=1.0,
    )
    cfg = demo_config(seed=0, live_s=3600, all_scenarios=False)  # 2 h history + crisis on acme
    mentions, _ = generate(cfg)
    archive = tmp_path / "archive.jsonl.gz"
    n = write_jsonl(archive, mentions)

    offline = OfflineReplay(settings, tmp_path / "offline").run(Archive(archive).records())
    assert offline["records"] == n
    assert any(i["kind"] == "crisis" and i["brand"] == "acme" for i in offline["incidents"])
    expected = [parity_key(i) for i in offline["incidents"]]

    asyncio.run(kafka.ensure_topics(settings))
    sets = ["--set", f"kafka_bootstrap={broker.bootstrap}", "--set", f"broker_kind={broker.kind}",
            "--set", "detection.warmup_s=3600"]
    for name, topic in topics.items():
        sets += ["--set", f"topics.{name}={topic}"]
    since = time.time() - 1
    with WorkerProcess(settings, tmp_path / "w") as worker:
        r = CliRunner().invoke(_app(), ["replay", str(archive), "--into-kafka", "--quiet", *sets])
        assert r.exit_code == 0, r.output
        assert f"{n:,} mentions published" in r.output
        live = asyncio.run(read_alerts(settings, offline["alert_updates"], timeout=240))
        assert [parity_key(i) for i in incidents(live)] == expected, worker.tail()
    until = time.time() + 1

    # the mentions topic, replayed offline between two times, gives the same incidents again
    out = tmp_path / "from-topic"
    r = CliRunner().invoke(_app(), [
        "replay", "--from-topic", topics["mentions"], "--since", _iso(since), "--until",
        _iso(until), "--out", str(out), "--quiet", *sets])
    assert r.exit_code == 0, r.output
    again = load_run(out)["summary"]
    assert again["records"] == n
    assert [parity_key(i) for i in again["incidents"]] == expected
    # a window after the run holds nothing
    r = CliRunner().invoke(_app(), [
        "replay", "--from-topic", topics["mentions"], "--since", _iso(until + 60),
        "--out", str(tmp_path / "empty"), "--quiet", *sets])
    assert r.exit_code == 0, r.output
    assert load_run(tmp_path / "empty")["summary"]["records"] == 0


def _iso(t: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat()


def _app():
    from agents.cli import _register_optional_commands, app

    if not any(c.name == "replay" for c in app.registered_commands):
        _register_optional_commands()
    return app


def test_replay_from_an_unknown_topic_is_a_usage_error(tansu, tmp_path, unique_topic):
    topic = unique_topic("never-created")
    r = CliRunner().invoke(_app(), [
        "replay", "--from-topic", topic, "--out", str(tmp_path / "o"), "--quiet",
        "--set", f"kafka_bootstrap={tansu.bootstrap}", "--set", "broker_kind=tansu"],
        env={"COLUMNS": "300"})
    assert r.exit_code == 2, r.output
    assert flat(f"topic '{topic}' does not exist on {tansu.bootstrap}") in flat(r.output)


def test_replay_into_kafka_counts_the_records_it_cannot_send(tansu, tmp_path, unique_topic):
    """A record that cannot be keyed (no brand) or paced (no valid created_at) is not published:
    it is counted with the engine's reason names."""
    good = {"id": "1", "created_at": "2026-01-06T00:00:00Z", "brand": "acme", "kind": "mention",
            "text": "hello @acme", "author": {"id": "u1", "handle": "bob"}}
    archive = tmp_path / "a.jsonl"
    archive.write_bytes(b"\n".join([
        orjson.dumps(good), b"", b"{broken", b"[1, 2]", b"  ", orjson.dumps({"id": "2"}),
        orjson.dumps(dict(good, id="3", created_at="soon")), orjson.dumps(dict(good, id="4"))]))
    r = CliRunner().invoke(_app(), [
        "replay", str(archive), "--into-kafka", "--quiet",
        "--set", f"kafka_bootstrap={tansu.bootstrap}", "--set", "broker_kind=tansu",
        "--set", f"topics.mentions={unique_topic('mentions')}"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert flat("2 mentions published") in flat(r.output)
    assert flat("(2 blank lines skipped)") in flat(r.output)  # no records, but counted
    assert flat("4 records not sent (invalid_json 1, missing_field 1, not_an_object 1, "
                "wrong_type 1)") in flat(r.output)
