"""The brand snapshot value (agents.snapshots): compressed, and every older format restores."""

from __future__ import annotations

import zlib

import orjson
import pytest

from agents.snapshots import ZLIB_TAG, decode_snapshot, encode_snapshot, snapshot_json, unpack
from pipeline.engine import Engine
from pipeline.settings import BrandConfig, Settings
from pipeline.watch import BrandWatch
from tests.support.streams import stream


@pytest.fixture(scope="module")
def watch() -> BrandWatch:
    """A brand watch after six hours of traffic (a real state, not a toy dict)."""
    settings = Settings(brands=[BrandConfig(name="acme", handles=["acme"])])
    engine = Engine(settings)
    engine.process([orjson.dumps(m) for m in stream("acme", 6, 8, seed=4)])
    return engine.watches["acme"]


def test_round_trip_of_a_real_state_restores_an_identical_watch(watch):
    value = encode_snapshot(5, 1234, watch.to_state())
    partition, offset, state = decode_snapshot(value)
    assert (partition, offset) == (5, 1234)
    assert state == orjson.loads(orjson.dumps(watch.to_state()))
    restored = BrandWatch.from_state(state, Settings().detection)
    assert orjson.dumps(restored.to_state()) == orjson.dumps(watch.to_state())


def test_the_value_is_tagged_zlib_and_smaller_than_the_json(watch):
    raw = snapshot_json(0, 1, watch.to_state())
    value = encode_snapshot(0, 1, watch.to_state())
    assert value.startswith(ZLIB_TAG) and zlib.decompress(value[len(ZLIB_TAG):]) == raw
    assert len(value) < len(raw) / 2, (len(value), len(raw))


def test_format_2_values_written_before_compression_still_restore(watch):
    state = watch.to_state()
    old = orjson.dumps({"format": 2, "partition": 3, "offset": 77, "state": state})
    assert unpack(old) == old
    assert decode_snapshot(old) == (3, 77, orjson.loads(orjson.dumps(state)))


def test_format_1_values_restore_without_a_position():
    assert decode_snapshot(b'{"brand": "acme", "clock": 1.5}') == (
        None, None, {"brand": "acme", "clock": 1.5})


def test_a_damaged_compressed_value_is_an_error_not_a_wrong_state(watch):
    value = encode_snapshot(0, 1, watch.to_state())
    with pytest.raises(zlib.error):
        decode_snapshot(value[:len(value) // 2])
