"""Incidents from alert updates, and the replay summary.

An incident is every alert update sharing one ``id``. Its *parity key* (id, opened time, kinds,
severities) is what offline replay and a live run through Kafka must agree on.

Examples
--------
>>> ups = [
...     {"id": "acme:crisis:20260105T1000Z", "brand": "acme", "kind": "surge", "severity": "low",
...      "state": "watch", "update": "opened", "version": 1, "score": 1.2, "observed": 30,
...      "expected": 5, "opened_at": "2026-01-05T10:00:00Z", "updated_at": "2026-01-05T10:01:00Z",
...      "evidence": {"mentions": 30, "negative_share": 0.5, "top_terms": []}},
...     {"id": "acme:crisis:20260105T1000Z", "brand": "acme", "kind": "crisis", "severity": "high",
...      "state": "crisis", "update": "escalated", "version": 2, "score": 7.0, "observed": 60,
...      "expected": 5, "opened_at": "2026-01-05T10:00:00Z", "updated_at": "2026-01-05T10:03:00Z",
...      "evidence": {"mentions": 90, "negative_share": 0.8, "top_terms": [{"term": "leak", "count": 9}]}}]
>>> inc = incidents(ups)[0]
>>> inc["kinds"], inc["severity"], inc["severities"], inc["top_terms"][0]["term"]
(['surge', 'crisis'], 'high', ['low', 'high'], 'leak')
>>> parity_key(inc)
('acme:crisis:20260105T1000Z', '2026-01-05T10:00:00Z', ('surge', 'crisis'), ('low', 'high'))
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from typing import Any

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(value: str) -> str:
    """Normalise an ISO time to ``...Z`` (pydantic dumps UTC as ``Z``; be tolerant)."""
    return value.replace("+00:00", "Z")


def incidents(alerts: Iterable[dict[str, Any]],
              series: dict[str, dict[str, list]] | None = None) -> list[dict[str, Any]]:
    """Group alert updates (JSON dicts) into incidents, ordered by opening time then id.

    Parameters
    ----------
    alerts
        Alert updates, in any order (sorted by version within an incident here).
    series
        Per-brand bucket series (see :class:`pipeline.replay.run.OfflineReplay`); when given,
        ``mentions`` counts the brand's mentions from opening to resolution.
    """
    by_id: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        by_id.setdefault(a["id"], []).append(a)
    out = []
    for iid, ups in by_id.items():
        ups.sort(key=lambda a: a["version"])
        kinds: list[str] = []
        sevs: list[str] = []
        for a in ups:
            if a["kind"] not in kinds:
                kinds.append(a["kind"])
            if a["severity"] not in sevs:
                sevs.append(a["severity"])
        peak = max(ups, key=lambda a: (a["score"], -a["version"]))
        richest = max(ups, key=lambda a: (a.get("evidence", {}).get("mentions", 0), a["score"]))
        last = ups[-1]
        ev = richest.get("evidence", {})
        resolved = last["updated_at"] if last["state"] == "resolved" else None
        inc = {
            "id": iid,
            "brand": last["brand"],
            "kind": "crisis" if "crisis" in kinds else kinds[-1],
            "kinds": kinds,
            "severity": max(sevs, key=SEVERITY_RANK.__getitem__),
            "severities": sevs,
            "opened_at": _iso(ups[0]["opened_at"]),
            "resolved_at": _iso(resolved) if resolved else None,
            "last_update": _iso(last["updated_at"]),
            "state": last["state"],
            "updates": len(ups),
            "peak_at": _iso(peak["updated_at"]),
            "peak_score": peak["score"],
            "peak_observed": max(a["observed"] for a in ups),
            "expected_at_peak": peak["expected"],
            "evidence_mentions": ev.get("mentions", 0),
            "negative_share": ev.get("negative_share"),
            "negative_baseline": ev.get("negative_baseline"),
            "top_terms": ev.get("top_terms", []),
            "top_hashtags": ev.get("top_hashtags", []),
            "top_authors": ev.get("top_authors", []),
            "high_reach_negative_authors": ev.get("high_reach_negative_authors", []),
            "sample_mention_ids": list(dict.fromkeys(i for a in ups
                                                     for i in a.get("sample_mention_ids", []))),
            "summary": peak.get("summary", ""),
        }
        inc["mentions"] = _mentions_during(series, inc) if series else inc["evidence_mentions"]
        out.append(inc)
    out.sort(key=lambda i: (i["opened_at"], i["id"]))
    return out


def _mentions_during(series: dict[str, dict[str, list]], inc: dict[str, Any]) -> int:
    s = series.get(inc["brand"])
    if not s or not s["t"]:
        return inc["evidence_mentions"]
    t = s["t"]
    lo = bisect_left(t, _ts(inc["opened_at"]))
    hi = bisect_left(t, _ts(inc["resolved_at"])) if inc["resolved_at"] else len(t)
    return int(sum(s["observed"][lo:hi]))


def parity_key(inc: dict[str, Any]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """What offline and live runs must agree on: id, opening time, kinds, severities."""
    return inc["id"], inc["opened_at"], tuple(inc["kinds"]), tuple(inc["severities"])


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    """Rows of the printed incident table: brand, id, opened, resolved, kinds, severity,
    mentions, top terms."""
    rows = []
    for i in summary["incidents"]:
        rows.append((
            i["brand"], i["id"], i["opened_at"][:16].replace("T", " "),
            (i["resolved_at"] or "open")[:16].replace("T", " "), "→".join(i["kinds"]),
            "→".join(i["severities"]), f"{i['mentions']:,}",
            ", ".join(t["term"] for t in i["top_terms"][:4]),
        ))
    return rows
