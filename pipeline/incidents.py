"""Incidents, not floods: the per-brand state machine that turns bucket scores into alert updates.

States: ``normal → watch → crisis → recovering → normal`` (``resolved``). One incident id per
episode; the alert topic gets ``opened``, ``escalated``, ``deescalated``, ``reopened`` and
``resolved`` updates for that id, never a new alert per bucket.

* **Hysteresis**: a level is entered at its threshold and left only below
  ``threshold * exit_ratio``, so a noisy plateau around the threshold does not flap.
* **Resolve after recovery**: an incident resolves after ``resolve_after`` consecutive quiet
  buckets (both signals below their exit levels).
* **Cool-down**: a new episode within ``cooldown`` buckets of a resolution reopens the same
  incident (same id, ``reopened``) instead of paging again.

The machine is a plain object driven by :meth:`IncidentTracker.step` with event-time bucket
starts; it never reads a clock.

Examples
--------
>>> tr = IncidentTracker("acme", family="crisis", watch_at=4.0, crisis_at=6.0,
...                      resolve_after=2, cooldown=5, bucket_s=60)
>>> [tr.step(t * 60.0, watch=s, crisis=0.0).update for t, s in enumerate([1, 5, 5, 1, 1])]
[None, 'opened', None, None, 'resolved']
>>> tr.incident_id
'acme:crisis:19700101T0001Z'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

Level = Literal["normal", "watch", "crisis", "recovering"]
SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Transition:
    """What one bucket did to the incident. ``update`` is None when nothing worth sending changed."""

    update: str | None
    state: str
    level_before: str
    incident_id: str | None
    version: int
    opened_at: float | None


@dataclass(slots=True)
class _State:
    level: Level = "normal"
    incident_id: str | None = None
    opened_at: float | None = None
    version: int = 0
    quiet: int = 0
    calm: int = 0
    resolved_at_bucket: int | None = None
    severity: str | None = None


def incident_id(brand: str, family: str, opened_at: float) -> str:
    """Stable, readable incident id: brand, detector family and the opening bucket (UTC).

    >>> incident_id("acme", "crisis", 1767607200.0)
    'acme:crisis:20260105T1000Z'
    """
    stamp = datetime.fromtimestamp(opened_at, tz=timezone.utc).strftime("%Y%m%dT%H%MZ")
    return f"{brand}:{family}:{stamp}"


@dataclass(slots=True)
class IncidentTracker:
    """Two-level hysteresis state machine for one brand and one detector family.

    Parameters
    ----------
    brand, family
        Used for the incident id (``family`` e.g. ``crisis`` or ``silence``).
    watch_at, crisis_at
        Thresholds of the two signals passed to :meth:`step`. Use ``crisis_at=inf`` for a
        one-level detector.
    exit_ratio
        A level is left below ``threshold * exit_ratio``.
    resolve_after
        Quiet buckets before resolving.
    cooldown
        Buckets after a resolution during which a new episode reopens the same incident.
    calm_after
        Consecutive buckets under the crisis exit level before a crisis de-escalates, so a
        score hovering around the level does not flap between crisis and recovering.
    bucket_s
        Bucket length, to count buckets from event times.
    """

    brand: str
    family: str
    watch_at: float
    crisis_at: float
    resolve_after: int = 10
    cooldown: int = 30
    bucket_s: int = 60
    exit_ratio: float = 0.5
    calm_after: int = 3
    _s: _State = field(default_factory=_State)

    @property
    def level(self) -> Level:
        """Current level: normal, watch, crisis or recovering."""
        return self._s.level

    @property
    def incident_id(self) -> str | None:
        """Id of the current (or last) incident."""
        return self._s.incident_id

    @property
    def version(self) -> int:
        """Number of updates sent for the current incident."""
        return self._s.version

    def _bump(self, update: str, before: Level) -> Transition:
        self._s.version += 1
        s = self._s
        state = "resolved" if update == "resolved" else s.level
        return Transition(update, state, before, s.incident_id, s.version, s.opened_at)

    def step(self, t: float, *, watch: float, crisis: float) -> Transition:
        """Advance one closed bucket starting at event time ``t`` with its two signal values."""
        s = self._s
        before = s.level
        bucket = int(t // self.bucket_s)
        want_crisis = crisis >= self.crisis_at
        want_watch = watch >= self.watch_at
        stay_crisis = crisis >= self.crisis_at * self.exit_ratio
        quiet = watch < self.watch_at * self.exit_ratio and not stay_crisis

        if s.level == "normal":
            if not (want_crisis or want_watch):
                return Transition(None, "normal", before, s.incident_id, s.version, s.opened_at)
            s.level = "crisis" if want_crisis else "watch"
            s.quiet = s.calm = 0
            in_cooldown = (
                s.resolved_at_bucket is not None
                and s.incident_id is not None
                and bucket - s.resolved_at_bucket <= self.cooldown
            )
            if in_cooldown:
                return self._bump("reopened", before)
            s.incident_id = incident_id(self.brand, self.family, t)
            s.opened_at = t
            s.version = 0
            s.resolved_at_bucket = None
            return self._bump("opened", before)

        if want_crisis and s.level != "crisis":
            s.level = "crisis"
            s.quiet = s.calm = 0
            return self._bump("escalated", before)
        if s.level == "crisis":
            s.calm = 0 if stay_crisis else s.calm + 1
            if s.calm < self.calm_after:
                return Transition(None, "crisis", before, s.incident_id, s.version, s.opened_at)
            s.level = "recovering"
            s.calm = 0
            s.quiet = 1 if quiet else 0
            return self._bump("deescalated", before)

        # watch or recovering: count quiet buckets towards resolution
        s.quiet = s.quiet + 1 if quiet else 0
        if s.quiet >= self.resolve_after:
            s.level = "normal"
            s.quiet = 0
            s.resolved_at_bucket = bucket
            return self._bump("resolved", before)
        return Transition(None, s.level, before, s.incident_id, s.version, s.opened_at)

    def to_state(self) -> dict[str, Any]:
        """Snapshot of the machine (JSON-able)."""
        return asdict(self._s)

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self._s = _State(**state)


def crisis_severity(crisis_score: float, negative_excess: float, high_reach_authors: int) -> str:
    """Severity of a crisis from its magnitude, how much angrier it is, and who is talking.

    Parameters
    ----------
    crisis_score
        The fused crisis score of the bucket (the crisis threshold is about 6).
    negative_excess
        Negative share of the burst minus the brand's baseline share.
    high_reach_authors
        Distinct high-reach authors among the burst's negative mentions.

    >>> crisis_severity(6.5, 0.2, 0)
    'medium'
    >>> crisis_severity(6.5, 0.45, 4)
    'critical'
    """
    level = 2  # medium
    if crisis_score >= 12:
        level += 1
    if negative_excess >= 0.4:
        level += 1
    if high_reach_authors >= 3:
        level += 1
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]
