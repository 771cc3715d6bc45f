"""Bad input becomes a rejection with a reason, never an exception."""

import orjson
import pytest

from pipeline.codec import REASONS, Rejection, decode_label, decode_mention, encode
from pipeline.schemas import Mention

GOOD = {"id": "1", "created_at": "2026-01-05T10:00:00Z", "brand": "acme", "kind": "mention",
        "text": "@acme hello 👋 ça va ?", "author": {"id": "u1", "handle": "bob"}}


def with_(**kw):
    d = {**GOOD, **kw}
    return orjson.dumps({k: v for k, v in d.items() if v is not ...})


@pytest.mark.parametrize("raw, reason", [
    (b"\xff\xfe\x00", "invalid_utf8"),
    (b"{not json", "invalid_json"),
    (b"", "invalid_json"),
    (b"[1,2,3]", "not_an_object"),
    (b"42", "not_an_object"),
    (with_(created_at=...), "missing_field"),
    (with_(author=...), "missing_field"),
    (with_(text=12), "wrong_type"),
    (with_(author="bob"), "wrong_type"),
    (with_(kind="tweetstorm"), "invalid_value"),
    (with_(created_at="2026-01-05T10:00:00"), "invalid_value"),  # no time zone
    (with_(author={"id": "u", "handle": "h", "followers": -1}), "invalid_value"),
    (with_(text="x" * 20_000), "text_too_long"),
    (None, "wrong_type"),
])
def test_rejections_carry_a_known_reason(raw, reason):
    r = decode_mention(raw)
    assert isinstance(r, Rejection)
    assert r.reason == reason
    assert r.reason in REASONS
    assert r.detail


def test_good_mention_round_trips():
    m = decode_mention(with_())
    assert isinstance(m, Mention)
    assert m.text == GOOD["text"]
    assert Mention.model_validate(orjson.loads(encode(m))) == m


def test_emoji_and_non_latin_scripts_are_fine():
    m = decode_mention(with_(text="東京 مرحبا Привет 🙂" * 10, brand="ブランド"))
    assert isinstance(m, Mention)


def test_label_decoding():
    assert decode_label(b'{"mention_id": "1", "label": "negative"}').label == "negative"
    assert decode_label(b'{"mention_id": "1", "label": "angry"}').reason == "invalid_value"


def test_invalid_utf8_reason_whatever_the_json():
    """The hot path lets orjson find bad UTF-8: the reason must not depend on where it is."""
    from pipeline.codec import load_object

    for raw in (b'{"a":"\xed\xa0\x80"}', b'{"a":"\xff"}', b'"\xc3"', b'{"a":1}\xff',
                b'{"a":"\xf4\x90\x80\x80"}', b'{"a":"\xc0\x80"}', b'{\xff'):
        assert load_object(raw).reason == "invalid_utf8", raw
    assert load_object(b'\xef\xbb\xbf{"a":1}').reason == "invalid_json"
    assert load_object(bytearray(b'{"a":1}')) == {"a": 1}
    assert load_object("{}").reason == "wrong_type"
    assert load_object(memoryview(b"{}")).reason == "wrong_type"
