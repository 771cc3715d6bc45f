"""The JSON Schema files in schemas/ agree with the code, and records validate against them."""

from pathlib import Path

import jsonschema
import orjson

from pipeline import schemas

ROOT = Path(__file__).resolve().parents[2]


def test_schema_files_are_up_to_date():
    assert schemas.main([]) == 0, "run: python -m pipeline.schemas --write"


def load(name):
    return orjson.loads((ROOT / "schemas" / f"{name}.schema.json").read_bytes())


def test_a_mention_validates_in_code_and_against_the_file():
    doc = {"id": "9", "created_at": "2026-01-05T10:00:00+01:00", "brand": "acme",
           "kind": "reply", "text": "merci !", "lang": "fr", "in_reply_to": "8",
           "author": {"id": "u", "handle": "h", "followers": 12, "verified": True}}
    jsonschema.validate(doc, load("mention"))
    m = schemas.Mention.model_validate(doc)
    assert m.created_at.utcoffset().total_seconds() == 0  # normalised to UTC
    jsonschema.validate(m.model_dump(mode="json"), load("mention"))


def test_schema_rejects_what_the_code_rejects():
    bad = {"id": "9", "created_at": "2026-01-05T10:00:00Z", "brand": "acme", "kind": "tweet",
           "text": "x", "author": {"id": "u", "handle": "h"}}
    validator = jsonschema.Draft202012Validator(load("mention"))
    assert list(validator.iter_errors(bad))
