"""What the per-brand risk detectors share: an event-time bucket ticker and alert building.

Every detector of :mod:`pipeline.risks` is fed each accepted mention of its brand (see
:mod:`pipeline.detectors`). Mentions arrive in event-time order (up to lateness), so a detector
keeps its own clock: the largest event time seen. :class:`Ticker` turns that clock into closed
buckets (``bucket_s`` long, the brand's bucket) at which the detector re-evaluates its score and
steps an :class:`~pipeline.incidents.IncidentTracker`: one incident per episode, with hysteresis,
resolution and cool-down, exactly as crises are handled.

Examples
--------
>>> t = Ticker(60)
>>> t.advance(30.0), t.advance(61.0), t.advance(250.0)
((), [0.0], [60.0, 120.0, 180.0])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from pipeline.incidents import IncidentTracker, Transition
from pipeline.schemas import Alert
from pipeline.text import _TOKEN_RE, _domain, clean_token, normalize

#: Most buckets stepped at once when a brand's clock jumps (enough to resolve an incident).
MAX_CATCH_UP = 64

#: Hosts that are Twitter's own wrappers: never an unknown link.
TWITTER_HOSTS = frozenset({"t.co", "x.com", "twitter.com", "mobile.twitter.com", "pic.twitter.com"})


def iso(t: float) -> datetime:
    """Aware UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(t, tz=timezone.utc)


def domain_allowed(host: str, allowed: frozenset[str]) -> bool:
    """True when ``host`` is one of ``allowed`` or a sub-domain of one, or Twitter's own.

    >>> domain_allowed("help.acme.com", frozenset({"acme.com"})), domain_allowed("acme-x.com", frozenset({"acme.com"}))
    (True, False)
    """
    if host in TWITTER_HOSTS or host in allowed:
        return True
    parts = host.split(".")
    return any(".".join(parts[i:]) in allowed for i in range(1, len(parts) - 1))


def link_domains(text: str) -> tuple[str, ...]:
    """The link domains of a text: ``pipeline.text.analyze(text).domains``, by whitespace chunk.

    The tokenizer's pieces never span whitespace (see :func:`pipeline.text.chunk_tokens`), so
    the links of a text are those of its chunks, each chunk's memoised (link chunks repeat:
    the same few domains in a brand's answers and in spam) instead of a full analysis per text.

    >>> link_domains("@bob see https://www.Acme.com/help &amp; http://t.co/x ok")
    ('acme.com', 't.co')
    """
    out: tuple[str, ...] = ()
    for chunk in text.split():
        # a link piece holds "http" or "www." once normalised, and normalising only adds
        # characters by decoding an entity ("&"): the other chunks (most words of a post, each a
        # cache miss when its text is new) have no link
        if "http" not in chunk and "www." not in chunk and "&" not in chunk:
            continue
        found = _chunk_domains(chunk)
        if found:
            out += found
    return out


@lru_cache(maxsize=1 << 14)
def _chunk_domains(chunk: str) -> tuple[str, ...]:
    return tuple(_domain(piece) for piece in _TOKEN_RE.findall(normalize(chunk))
                 if clean_token(piece)[:1] == ("<url>",))


class Ticker:
    """Closes event-time buckets as the detector's clock advances.

    :meth:`advance` returns the start times of the buckets that closed (at most
    :data:`MAX_CATCH_UP` of them after a jump: the last ones). Nothing closes before the event
    time :attr:`until` (the end of the newest bucket seen; ``-inf`` before the first event), so
    a detector's hot path compares one float, ``ts >= ticker.until``, and calls :meth:`advance`
    only then.

    >>> t = Ticker(60)
    >>> t.advance(30.0), t.until, t.advance(59.9), t.advance(60.0), t.until
    ((), 60, (), [0.0], 120)
    """

    __slots__ = ("bucket_s", "next_close", "until")

    def __init__(self, bucket_s: int) -> None:
        self.bucket_s = int(bucket_s)
        self.next_close: int | None = None  # index of the oldest bucket not yet closed
        self.until: float = -math.inf

    def advance(self, ts: float) -> Sequence[float]:
        """Move the clock to ``ts``; the starts of the buckets that closed, oldest first."""
        if ts < self.until:
            return ()  # the common case: same bucket (exact: until is an integer)
        idx = int(ts // self.bucket_s)  # > next_close: until is (next_close + 1) * bucket_s
        nxt = self.next_close
        self.next_close = idx
        self.until = (idx + 1) * self.bucket_s
        if nxt is None:
            return ()
        first = max(nxt, idx - MAX_CATCH_UP)
        return [float(i * self.bucket_s) for i in range(first, idx)]

    def to_state(self) -> dict[str, Any]:
        return {"next_close": self.next_close}

    def load_state(self, state: dict[str, Any]) -> None:
        nxt = self.next_close = state["next_close"]
        self.until = -math.inf if nxt is None else (nxt + 1) * self.bucket_s


class StreamDetector:
    """Base of the risk detectors: :meth:`observe` split into the two steps a
    :class:`~pipeline.detectors.DetectorSet` calls apart.

    * :meth:`tick_to` moves the detector's clock to an event time, appending the alert updates
      of the buckets that closed; nothing is due before :attr:`until`.
    * :meth:`see` learns one mention (its event time, whether it is one of the brand's own
      posts, its author's lower-cased handle or None when the brand has no handles: computed
      once for all detectors), appending the alert updates it makes due. It is called for own posts when :attr:`sees_own` and for the
      other mentions when :attr:`sees_others` (a detector of own posts only costs nothing on the
      others).

    :meth:`observe` is the two steps, for one detector alone (same alerts, same order).
    Subclasses set :attr:`brand_handles`.
    """

    name = "detector"
    sees_own = True
    sees_others = True
    #: The brand's own handles, lower-cased (:func:`own_handles`): their posts are own posts.
    brand_handles: frozenset[str] = frozenset()

    @property
    def until(self) -> float:
        """Event time before which :meth:`tick_to` has nothing to do."""
        return self.ticker.until  # type: ignore[attr-defined]

    def tick_to(self, ts: float, alerts: list[Alert]) -> None:
        """Move the clock to ``ts`` (``ts >= until``), appending the closed buckets' alerts."""
        for t in self.ticker.advance(ts):  # type: ignore[attr-defined]
            alerts.extend(self._tick(t))  # type: ignore[attr-defined]

    def see(self, m: Any, ts: float, own: bool, handle: str | None, sentiment: Any,
            alerts: list[Alert]) -> None:
        """Learn one mention (see the class docstring)."""
        raise NotImplementedError

    def observe(self, m: Any, sentiment: Any) -> list[Alert]:
        """Learn one mention of the brand; the alert updates it makes due."""
        alerts: list[Alert] = []
        ts = m.ts
        if ts >= self.until:
            self.tick_to(ts, alerts)
        handle = m.author.handle.lower() if self.brand_handles else None
        own = m.kind == "own_post" or handle in self.brand_handles
        if self.sees_own if own else self.sees_others:
            self.see(m, ts, own, handle, sentiment, alerts)
        return alerts


def tracker(brand: str, family: str, detection: Any, watch_at: float,
            crisis_at: float = math.inf, resolve_after: int | None = None) -> IncidentTracker:
    """An incident tracker for a risk family, with the brand's bucket and cool-down."""
    return IncidentTracker(
        brand, family, watch_at=watch_at, crisis_at=crisis_at,
        resolve_after=resolve_after or detection.resolve_after_buckets,
        cooldown=detection.cooldown_buckets, bucket_s=detection.bucket_s,
        exit_ratio=detection.exit_ratio,
    )


def transition_alert(
    tr: Transition, *, brand: str, kind: str, severity: str, t: float, bucket_s: int,
    observed: float, expected: float, score: float, summary: str, evidence: dict[str, Any],
    samples: list[str] | None = None,
) -> Alert:
    """The :class:`~pipeline.schemas.Alert` of one incident update of a risk detector."""
    assert tr.incident_id is not None and tr.opened_at is not None and tr.update is not None
    return Alert(
        id=tr.incident_id, version=tr.version, brand=brand, kind=kind, severity=severity,
        state=tr.state,
        update=tr.update, opened_at=iso(tr.opened_at), updated_at=iso(t + bucket_s),
        observed=float(observed), expected=float(expected), score=round(float(score), 4),
        summary=summary, evidence=evidence, sample_mention_ids=list(samples or [])[:10],
    )


def own_handles(config: Any) -> frozenset[str]:
    """The brand's own account handles, lower-cased (empty without a brand config).

    >>> own_handles(None)
    frozenset()
    """
    return frozenset(h.lower() for h in (config.handles if config else []))


def allowed_domains(config: Any) -> frozenset[str]:
    """The brand's allowed link domains, lower-cased, without ``www.``."""
    return frozenset(
        x.lower().removeprefix("www.") for x in (config.allowed_link_domains if config else [])
    )
