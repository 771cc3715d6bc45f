"""Hand-written mentions for the risk detectors' doctests and unit tests (no simulator).

>>> m = post("hello", hour=3)
>>> m.kind, m.created_at.hour, m.author.handle
('own_post', 3, 'acme')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pipeline.schemas import Mention

#: A Monday, 00:00 UTC.
DAY0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Sent:
    """A sentiment as the detectors see it."""

    label: str | None = "neutral"
    score: float = 0.0
    lang: str = "en"


NEG, NEU = Sent("negative", -0.8), Sent("neutral", 0.0)


def mention(text: str, *, at: float | None = None, hour: float = 10.0, day: int = 0,
            handle: str = "bob", name: str = "", kind: str = "mention", brand: str = "acme",
            followers: int = 100, age_days: float | None = 900.0, source: str | None = None,
            lang: str | None = None, in_reply_to: str | None = None, url: str | None = None,
            id: str | None = None, verified: bool = False) -> Mention:
    """A mention at ``DAY0 + day + hour`` (or epoch ``at``)."""
    ts = DAY0 + timedelta(days=day, hours=hour) if at is None else datetime.fromtimestamp(at, tz=timezone.utc)
    author = {"id": f"id-{handle}", "handle": handle, "name": name or handle,
              "followers": followers, "verified": verified}
    if age_days is not None:
        author["created_at"] = (ts - timedelta(days=age_days)).isoformat()
    return Mention.model_validate({
        "id": id or str(next(_ids)), "created_at": ts.isoformat(), "brand": brand, "kind": kind,
        "text": text, "lang": lang, "author": author, "in_reply_to": in_reply_to,
        "source": source, "url": url,
    })


def post(text: str, *, source: str | None = "Sprinklr", handle: str = "acme", **kw) -> Mention:
    """An own post of the brand account ``handle``."""
    kw.setdefault("kind", "own_post")
    return mention(text, source=source, handle=handle, **kw)
