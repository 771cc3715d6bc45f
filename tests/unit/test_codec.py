"""Bad input becomes a rejection with a reason, never an exception."""

import orjson
import pytest

from pipeline.codec import REASONS, Rejection, decode_label, decode_mention, encode
from pipeline.schemas import Mention, MentionRecord

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
    assert isinstance(m, MentionRecord)
    assert m.text == GOOD["text"]
    assert MentionRecord.from_model(Mention.model_validate(orjson.loads(encode(m)))) == m


def test_emoji_and_non_latin_scripts_are_fine():
    m = decode_mention(with_(text="東京 مرحبا Привет 🙂" * 10, brand="ブランド"))
    assert isinstance(m, MentionRecord)


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


# -------------------------------------------------------------- the msgspec fast path
TIMES = [
    "2026-01-05T10:00:00Z", "2026-01-05t10:00:00z", "2026-01-05 10:00:00Z",
    "2026-01-05_10:00:00Z", "2026-01-05T10:00:00.1234567Z", "2026-01-05T10:00:00.9999995Z",
    "2026-01-05T10:00:00.123456789+01:00", "2026-01-05T10:00:00.365Z", "2026-01-05T10:00:00+01:00",
    "2026-01-05T10:00:00+0100", "2026-01-05T10:00:00-08:00", "2026-01-05T10:00:00-00:00",
    "2026-01-05T10:00Z", "2026-01-05", "2026-01-05T10:00:00", "2026-01-05T23:59:60Z",
    "2026-01-05T24:00:00Z", "2026-01-05T10:00:00,5Z", "2026-01-05T10:00:00+23:59",
    "2026-01-05T10:00:00+24:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2024-02-29T00:00:00Z", "2026-02-29T00:00:00Z", "2026-01-05T10:00:00 Z", "1767607200",
    "2026-01-05T10:00:00−01:00", "2026-01-05T10:00:00.5+05:30", "", " ", 1767607200,
    1767607200.5, -1, True, None, [], {},
]
STRINGS = ["", " ", "a", "acme", "0", "ünï 🙂", "x" * 300, 0, 1, 1.5, True, None, [], {}]
INTS = [0, 1, 12, -1, 12.0, 12.5, "12", "x", True, False, None, 2**63 - 1, 2**64 - 1, -2**63]
BOOLS = [True, False, 0, 1, "true", "no", None, 1.0]
FIELDS = {
    "id": STRINGS, "created_at": TIMES, "brand": STRINGS, "text": STRINGS,
    "kind": ["mention", "reply", "quote", "repost", "own_post", "Mention", "", 1, None],
    "lang": STRINGS, "in_reply_to": STRINGS, "source": STRINGS, "url": STRINGS,
    "ts": [1.0, "x", None], "created_ts": [1.0, "x"],
}
AUTHOR_FIELDS = {
    "id": STRINGS, "handle": STRINGS, "name": STRINGS, "followers": INTS, "verified": BOOLS,
    "created_at": TIMES, "created_ts": [1.0, "x"], "extra": [1],
}


def _variant(r, base, fields):
    d = dict(base)
    for _ in range(r.randint(0, 3)):
        key = r.choice(list(fields))
        if r.random() < 0.15:
            d.pop(key, None)
        else:
            d[key] = r.choice(fields[key])
    return d


def test_fast_path_validates_as_the_wire_schema():
    """Whatever the record, validate_mention gives what pydantic's Mention gives: the same
    rejection (reason and detail), or a record with the same values (times to the
    microsecond and offset)."""
    import random

    from pydantic import ValidationError

    from pipeline.codec import _classify, validate_mention
    from pipeline.schemas import MentionRecord

    r = random.Random(8)
    good = orjson.loads(with_())
    author = {"id": "u1", "handle": "bob", "name": "Bob", "followers": 10, "verified": False,
              "created_at": "2020-01-01T00:00:00Z"}
    fast = 0
    for _ in range(6000):
        obj = _variant(r, good, FIELDS)
        if r.random() < 0.8:
            obj["author"] = _variant(r, author, AUTHOR_FIELDS)
        elif r.random() < 0.5:
            obj["author"] = r.choice(STRINGS)
        try:
            want = MentionRecord.from_model(Mention.model_validate(obj))
        except ValidationError as exc:
            want = _classify(exc)
        got = validate_mention(obj)
        assert type(got) is type(want), obj
        if isinstance(want, Rejection):
            assert got == want, obj
            continue
        fast += 1
        for rec_got, rec_want in ((got, want), (got.author, want.author)):
            for f in rec_want.__struct_fields__:
                a, b = getattr(rec_got, f), getattr(rec_want, f)
                assert a == b and type(a) is type(b), (f, obj)
                if hasattr(b, "utcoffset"):
                    assert a.isoformat() == b.isoformat(), (f, obj)
        assert got.created_at.tzinfo is want.created_at.tzinfo
    assert fast > 1000  # the comparison saw valid records too


def test_records_have_the_wire_schema_fields():
    import msgspec

    from pipeline.schemas import RECORD_ONLY_FIELDS, Author, AuthorRecord, MentionRecord

    for model, record in ((Mention, MentionRecord), (Author, AuthorRecord)):
        fields = {f.name: f for f in msgspec.structs.fields(record)
                  if f.name not in RECORD_ONLY_FIELDS}
        assert list(fields) == list(model.model_fields)
        for name, info in model.model_fields.items():
            assert fields[name].required == info.is_required(), name
            if not info.is_required():
                assert fields[name].default == info.default, name
