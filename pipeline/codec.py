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

import orjson
from pydantic import BaseModel, ValidationError

from pipeline.schemas import Label, Mention

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


def decode_mention(raw: bytes, *, max_text_chars: int = 10_000) -> Mention | Rejection:
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




def validate_mention(obj: dict, *, max_text_chars: int = 10_000) -> Mention | Rejection:
    """Validate an already parsed JSON object as a mention."""
    text = obj.get("text")
    if isinstance(text, str) and len(text) > max_text_chars:
        return Rejection("text_too_long", f"text has {len(text)} chars > {max_text_chars}")
    try:  # Mention.model_validate without its Python wrapper (hot path)
        m = _validate(obj)
    except ValidationError as exc:
        return _classify(exc)
    # the epoch times every detector reads, computed here once, as Mention.ts and
    # Author.created_ts would on first read (no descriptor call per read, none per mention)
    d = m.__dict__
    d["ts"] = d["created_at"].timestamp()
    a = d["author"].__dict__
    created = a["created_at"]
    a["created_ts"] = None if created is None else created.timestamp()
    return m


_validate = Mention.__pydantic_validator__.validate_python


def encode(obj: Any) -> bytes:
    """orjson bytes of a JSON-able object or a pydantic model.

    >>> encode({"a": 1})
    b'{"a":1}'
    """
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    return orjson.dumps(obj)
