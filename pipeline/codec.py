"""Wire codec: raw bytes to validated records (or a reason why not), and records back to bytes.

Nothing here raises on bad input: every record becomes either a mention or a
:class:`Rejection` that the worker sends to the dead-letter topic with the original bytes.

Examples
--------
>>> decode_mention(b'{"id": 1')
Rejection(reason='invalid_json', detail='unexpected end of data: line 1 column 9 (char 8)')
>>> decode_mention(b'\\xff\\xfe').reason
'invalid_utf8'
>>> decode_mention(b'[1, 2]').reason
'not_an_object'
>>> r = decode_mention(b'{"id": "1", "brand": "acme", "text": "hi", "author": {"id": "a", "handle": "b"}}')
>>> r.reason, r.detail
('missing_field', 'created_at: Field required')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec
import orjson
from pydantic import BaseModel, ValidationError

from pipeline.schemas import Label, Mention, MentionRecord

#: Every reason a record can be dead-lettered for (a bounded label set for metrics).
REASONS: Final = (
    "invalid_utf8",
    "invalid_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "invalid_value",
    "text_too_long",
    "unknown_brand",
    "brand_limit",
    "future_timestamp",
    "key_mismatch",
    "processing_error",
)

_TYPE_ERRORS: Final = ("_type", "_parsing", "is_instance_of", "model_type", "dict_type")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record could not be processed. ``reason`` is one of :data:`REASONS`."""

    reason: str
    detail: str


def _classify(exc: ValidationError) -> Rejection:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    kind = err["type"]
    if kind == "missing":
        reason = "missing_field"
    elif kind.endswith(_TYPE_ERRORS) or kind in ("int_from_float", "bool_parsing"):
        reason = "wrong_type"
    else:
        reason = "invalid_value"
    return Rejection(reason, f"{where}: {err['msg']}"[:300])


def load_object(raw: bytes) -> dict | Rejection:
    """Parse a record value into a JSON object (a dict), or say why it is not one."""
    # Hot path: orjson validates UTF-8 itself, so a well-formed record is parsed once, with
    # no decoded copy; the reason of a failure is worked out only then (same reasons as
    # checking UTF-8 first: orjson rejects every invalid UTF-8 input).
    if type(raw) is not bytes and not isinstance(raw, (bytes, bytearray)):
        return Rejection("wrong_type", f"record value is {type(raw).__name__}, not bytes")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc_utf8:
            return Rejection("invalid_utf8", str(exc_utf8)[:300])
        return Rejection("invalid_json", str(exc)[:300])
    if type(obj) is not dict:
        return Rejection("not_an_object", f"top-level JSON is {type(obj).__name__}")
    return obj


def decode_mention(raw: bytes, *, max_text_chars: int = 10_000) -> MentionRecord | Rejection:
    """Decode and validate one mention record.

    Parameters
    ----------
    raw
        The Kafka record value.
    max_text_chars
        Longer texts are rejected as ``text_too_long`` (they would blow up memory and scoring).
    """
    obj = load_object(raw)
    if isinstance(obj, Rejection):
        return obj
    return validate_mention(obj, max_text_chars=max_text_chars)


def decode_label(raw: bytes) -> Label | Rejection:
    """Decode and validate one analyst label record (topic ``veille.labels``)."""
    obj = load_object(raw)
    if isinstance(obj, Rejection):
        return obj
    try:
        return Label.model_validate(obj)
    except ValidationError as exc:
        return _classify(exc)




def validate_mention(obj: dict, *, max_text_chars: int = 10_000) -> MentionRecord | Rejection:
    """Validate an already parsed JSON object as a mention.

    The wire schema is :class:`~pipeline.schemas.Mention` (pydantic): it decides what is
    accepted, with which values, and why a record is rejected. The hot path builds the
    engine's :class:`~pipeline.schemas.MentionRecord` straight from the object with
    ``msgspec.convert`` (strict: it accepts a subset of what pydantic accepts, with the same
    values); whatever it does not accept (a rejection, or a form only pydantic's lax mode
    takes, such as ``"followers": "12"`` or a Unix time) goes through pydantic. Times with more
    than six fractional digits (pydantic truncates them, msgspec rounds) go through pydantic too.

    >>> m = validate_mention({"id": "1", "created_at": "2026-01-05T10:00:00.1234567Z",
    ...     "brand": "acme", "text": "hi", "author": {"id": "u", "handle": "bob",
    ...     "followers": "12"}})
    >>> m.created_at.microsecond, m.author.followers, m.ts
    (123456, 12, 1767607200.123456)
    """
    text = obj.get("text")
    if isinstance(text, str) and len(text) > max_text_chars:
        return Rejection("text_too_long", f"text has {len(text)} chars > {max_text_chars}")
    created = obj.get("created_at")
    author = obj.get("author")
    author_created = author.get("created_at") if type(author) is dict else None
    if (type(created) is not str or len(created) <= _SHORT_TIME) and (
            type(author_created) is not str or len(author_created) <= _SHORT_TIME):
        try:
            return _convert(obj, MentionRecord)
        except msgspec.ValidationError:
            pass
    try:  # the wire schema decides (Mention.model_validate without its Python wrapper)
        m = _validate(obj)
    except ValidationError as exc:
        return _classify(exc)
    return MentionRecord.from_model(m)


#: Longest time string with at most six fractional digits for sure ("YYYY-MM-DDTHH:MM:SS"
#: then "." and seven digits is 27 characters, and an accepted time has a zone after it).
_SHORT_TIME = 27
_validate = Mention.__pydantic_validator__.validate_python
_convert = msgspec.convert


def encode(obj: Any) -> bytes:
    """orjson bytes of a JSON-able object, a pydantic model or a record (a msgspec Struct).

    >>> encode({"a": 1})
    b'{"a":1}'
    """
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    elif isinstance(obj, msgspec.Struct):
        obj = msgspec.to_builtins(obj)
    return orjson.dumps(obj)
