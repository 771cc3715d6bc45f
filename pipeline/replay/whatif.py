"""What-if: settings overrides (``--set detection.crisis_score=2``) and incident differences.

Examples
--------
>>> parse_sets(["detection.crisis_score=2", "detection.warmup_s=3600", "accept_unknown_brands=true"])
{'detection': {'crisis_score': 2, 'warmup_s': 3600}, 'accept_unknown_brands': True}
>>> old = [{"id": "a:crisis:1", "brand": "a", "kind": "crisis", "kinds": ["surge", "crisis"],
...         "severity": "high", "severities": ["low", "high"], "opened_at": "2026-01-05T10:00:00Z",
...         "resolved_at": "2026-01-05T11:00:00Z", "last_update": "2026-01-05T11:00:00Z"}]
>>> new = [dict(old[0], id="a:crisis:2", opened_at="2026-01-05T10:05:00Z", severity="medium")]
>>> d = compare(old, new)
>>> len(d["added"]), len(d["removed"]), d["changed"][0]["fields"]["severity"]
(0, 0, ['high', 'medium'])
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel

#: Fields of an incident whose change makes it "changed".
COMPARED = ("id", "opened_at", "resolved_at", "kinds", "severity", "severities")


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``key.sub=value`` items -> nested overrides; values are JSON when they parse, else text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. detection.crisis_score=2")
        try:
            parsed: Any = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = value
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"--set {item!r}: {p} is both a value and a section")
        node[parts[-1]] = parsed
    return out


def check_keys(overrides: dict[str, Any], model: type[BaseModel], where: str = "") -> None:
    """Raise ValueError for an override key the settings model does not have (nested
    sections ignore unknown keys, so a typo would silently change nothing)."""
    for key, value in overrides.items():
        field = model.model_fields.get(key)
        if field is None:
            raise ValueError(f"unknown setting {where}{key}")
        sub = field.annotation
        if isinstance(value, dict) and isinstance(sub, type) and issubclass(sub, BaseModel):
            check_keys(value, sub, f"{where}{key}.")


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, recursively for nested dicts (new dict)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _span(inc: dict[str, Any]) -> tuple[float, float]:
    t0 = datetime.fromisoformat(inc["opened_at"].replace("Z", "+00:00")).timestamp()
    end = inc.get("resolved_at") or inc.get("last_update") or inc["opened_at"]
    t1 = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
    return t0, max(t1, t0 + 1)


def _family(inc: dict[str, Any]) -> str:
    parts = inc["id"].split(":")
    return parts[-2] if len(parts) >= 3 else inc["kind"]


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any]:
    """Incidents added, removed and changed from ``old`` to ``new``.

    Incidents match by id first, then by brand, detector family and overlapping time (a
    threshold change often moves the opening bucket, hence the id). A matched pair whose
    opening/resolution time, kinds or severities differ is ``changed`` (``fields`` maps each
    differing field to ``[old, new]``); identical pairs are counted in ``same``.
    """
    new_by_id = {i["id"]: i for i in new}
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    unmatched_old = []
    for o in old:
        n = new_by_id.pop(o["id"], None)
        if n is None:
            unmatched_old.append(o)
        else:
            pairs.append((o, n))
    left = list(new_by_id.values())
    removed = []
    for o in unmatched_old:
        o0, o1 = _span(o)
        best, overlap = None, 0.0
        for n in left:
            if n["brand"] != o["brand"] or _family(n) != _family(o):
                continue
            n0, n1 = _span(n)
            ov = min(o1, n1) - max(o0, n0)
            if ov > overlap:
                best, overlap = n, ov
        if best is None:
            removed.append(o)
        else:
            left.remove(best)
            pairs.append((o, best))
    changed, same = [], 0
    for o, n in pairs:
        fields = {f: [o.get(f), n.get(f)] for f in COMPARED if o.get(f) != n.get(f)}
        if fields:
            changed.append({"brand": n["brand"], "old": o, "new": n, "fields": fields})
        else:
            same += 1
    changed.sort(key=lambda c: c["new"]["opened_at"])
    return {"added": sorted(left, key=lambda i: i["opened_at"]),
            "removed": sorted(removed, key=lambda i: i["opened_at"]),
            "changed": changed, "same": same}
