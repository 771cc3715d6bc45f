"""docs/asyncapi.yaml and docs/topics.md cover every topic; every schema reference resolves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote

import jsonschema
import pytest
import yaml

from pipeline.codec import REASONS
from pipeline.settings import TopicSettings

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
TOPICS_MD = ROOT / "docs" / "topics.md"
SCHEMAS = ROOT / "schemas"


def spec() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text())


def topic_names() -> dict[str, str]:
    """TopicSettings field -> default topic name (the str-valued fields)."""
    t = TopicSettings()
    return {k: v for k, v in t.model_dump().items() if isinstance(v, str)}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def pointer(doc: Any, fragment: str) -> Any:
    """Resolve a JSON pointer (``/a/b``) in ``doc`` (KeyError when it does not resolve)."""
    for part in [p for p in fragment.split("/") if p]:
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def resolve(ref: str, base: Path, root_doc: Any) -> Any:
    path, _, fragment = ref.partition("#")
    if path:
        target = (base.parent / path).resolve()
        assert target.is_file(), f"$ref {ref}: {target} does not exist"
        doc = json.loads(target.read_text()) if target.suffix == ".json" else \
            yaml.safe_load(target.read_text())
    else:
        doc = root_doc
    return pointer(doc, fragment)


def test_asyncapi_document_shape():
    doc = spec()
    assert str(doc["asyncapi"]).startswith("3.0")
    assert doc["info"]["title"] and doc["info"]["version"]
    for name, ch in doc["channels"].items():
        assert ch["address"] and ch["messages"], name
    for name, op in doc["operations"].items():
        assert op["action"] in ("send", "receive"), name


def test_every_ref_resolves():
    doc = spec()
    all_refs = list(refs(doc))
    assert all_refs
    for ref in all_refs:
        try:
            resolve(ref, ASYNCAPI, doc)
        except (KeyError, IndexError) as exc:
            pytest.fail(f"$ref {ref} does not resolve: {exc!r}")


def test_every_topic_of_the_settings_is_a_channel():
    addresses = {ch["address"] for ch in spec()["channels"].values()}
    assert set(topic_names().values()) <= addresses
    assert addresses <= set(topic_names().values()), "channel for a topic veille does not know"


def test_every_schema_file_is_a_payload():
    doc = spec()
    used = {Path(r.partition("#")[0]).name for r in refs(doc) if r.endswith(".schema.json")}
    assert {p.name for p in SCHEMAS.glob("*.schema.json")} <= used


def _payload_schema(message: dict[str, Any]) -> tuple[dict[str, Any], Path] | None:
    payload = message.get("payload", {})
    ref = payload.get("schema", {}).get("$ref") if "schema" in payload else payload.get("$ref")
    if not ref:
        return None
    path = (ASYNCAPI.parent / ref.partition("#")[0]).resolve()
    return json.loads(path.read_text()), path


def test_examples_validate_against_their_schema():
    checked = 0
    for name, msg in spec()["components"]["messages"].items():
        found = _payload_schema(msg)
        if found is None:
            continue
        schema, _path = found
        assert msg.get("examples"), f"{name}: give an example payload"
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        for ex in msg["examples"]:
            errors = [e.message for e in validator.iter_errors(ex["payload"])]
            assert errors == [], f"{name} example {ex['name']!r}: {errors}"
            checked += 1
    assert checked >= 4


def test_deadletter_headers_match_the_worker():
    from agents.deadletter import HEADER_PREFIX

    headers = spec()["components"]["messages"]["DeadLetter"]["headers"]["properties"]
    assert all(h.startswith(HEADER_PREFIX) for h in headers)
    assert headers[HEADER_PREFIX + "reason"]["enum"] == list(REASONS)
    text = TOPICS_MD.read_text()
    for reason in REASONS:
        assert f"`{reason}`" in text, reason


def test_topics_doc_lists_every_topic_with_schema_or_todo():
    text = TOPICS_MD.read_text()
    doc = spec()
    by_address = {ch["address"]: ch for ch in doc["channels"].values()}
    for field, topic in topic_names().items():
        rows = [ln for ln in text.splitlines() if ln.startswith(f"| `{topic}` |")]
        assert len(rows) == 1, f"{topic}: one row in docs/topics.md"
        row = rows[0]
        assert f"`topics.{field}`" in row
        schemas_in_row = re.findall(r"schemas/([\w.]+\.schema\.json)", row)
        channel_refs = [r for r in refs(by_address[topic]) if r.startswith("#/components/messages/")]
        msgs = [resolve(r, ASYNCAPI, doc) for r in channel_refs]
        has_schema = any(_payload_schema(m) for m in msgs)
        if has_schema:
            assert schemas_in_row and "TODO" not in row, topic
            for s in schemas_in_row:
                assert (SCHEMAS / s).is_file(), s
        elif topic != TopicSettings().deadletter:
            assert "TODO" in row and not schemas_in_row, f"{topic}: no schema yet, mark TODO"
            assert "TODO" in by_address[topic]["description"], topic
