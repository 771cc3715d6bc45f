"""Plug-in point for per-brand detectors beyond volume and sentiment (issue 6 risks).

A detector is created once per brand by a factory registered in :data:`DETECTORS`, is fed
every accepted mention of that brand in stream order with its sentiment, and returns alert
updates. It must be driven by event time only and snapshot its state, like every model here.

A brand's detectors are held in a :class:`DetectorSet`, which feeds them each mention as one
call. The risk detectors (:class:`~pipeline.risks._base.StreamDetector`) split ``observe`` into
a clock step and a mention step, so the set reads the mention's event time, author handle and
own-post status once for all of them, steps their clocks only when one is due, and calls a
detector only for the mentions it looks at (own posts, the others, or both). Any other detector
is called through ``observe``. The alerts and their order are those of calling each detector's
``observe`` in turn.

Examples
--------
>>> class CountOwnPosts:
...     name = "own_posts"
...     def __init__(self): self.n = 0
...     def observe(self, m, sentiment): self.n += m.kind == "own_post"; return []
...     def to_state(self): return {"n": self.n}
...     def load_state(self, state): self.n = state["n"]
>>> factory = lambda brand, config, detection: CountOwnPosts()
>>> factory("acme", None, None).observe.__name__
'observe'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import math

from pipeline.risks._base import own_handles
from pipeline.schemas import Alert, Mention
from pipeline.settings import BrandConfig, DetectionSettings


class Sentimented(Protocol):
    """What a detector sees of a mention's sentiment."""

    label: str | None
    score: float
    lang: str


class MentionDetector(Protocol):
    """A per-brand detector (see the module docstring)."""

    name: str

    def observe(self, m: Mention, sentiment: Sentimented) -> list[Alert]:
        """Learn one mention; return the alert updates it makes due."""

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able)."""

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""


class DetectorSet(list):  # type: ignore[type-arg]
    """The detectors of one brand, in run order (a list), fed together by :meth:`observe_into`.

    Which detector sees which mentions is settled at construction: the list is not to be
    changed afterwards.

    Parameters
    ----------
    detectors
        The brand's detectors (:data:`DETECTORS`' order).
    own_handles
        The brand's own handles, lower-cased: a mention of kind ``own_post`` or by one of them
        is an own post.

    Examples
    --------
    >>> from pipeline.risks._testing import NEG, mention
    >>> from pipeline.settings import BrandConfig, DetectionSettings
    >>> cfg, d = BrandConfig(name="acme", handles=["acme"]), DetectionSettings()
    >>> dets = DetectorSet.build("acme", cfg, d)
    >>> [det.name for det in dets]
    ['hijack', 'impostor', 'raid', 'slow_response', 'trends']
    >>> alerts = []
    >>> dets.observe_into(mention("@acme hello", handle="acme_support"), NEG, alerts)  # own post?
    False
    >>> [a.kind for a in alerts]
    ['impostor']
    """

    def __init__(self, detectors: list[MentionDetector], own_handles: frozenset[str]) -> None:
        super().__init__(detectors)
        self.own_handles = own_handles
        self._split = [_splits(d) for d in detectors]
        # the mention steps of the split detectors, for own posts and for the other mentions
        self._for_own = [d.see for d, x in zip(detectors, self._split) if x and d.sees_own]
        self._for_others = [d.see for d, x in zip(detectors, self._split) if x and d.sees_others]
        #: Earliest event time at which some detector's clock has a step to take: a plain
        #: float, never later than any detector's own (refreshed after each step).
        self.until = -math.inf

    @classmethod
    def build(cls, brand: str, config: BrandConfig | None,
              detection: DetectionSettings) -> DetectorSet:
        """The brand's detectors, one of each factory of :data:`DETECTORS`."""
        return cls([f(brand, config, detection) for f in DETECTORS], own_handles(config))

    def observe_into(self, m: Mention, sentiment: Sentimented, alerts: list[Alert]) -> bool:
        """Feed one mention to every detector, appending their alert updates to ``alerts``
        (the same updates in the same order as each detector's ``observe`` in turn).

        Returns True when the mention is one of the brand's own posts (kind ``own_post`` or
        by one of :attr:`own_handles`), which the caller need not work out again."""
        ts = m.ts
        if self.own_handles:
            handle: str | None = m.author.handle.lower()
            own = m.kind == "own_post" or handle in self.own_handles
        else:  # a brand without handles: nobody's handle is needed to tell an own post
            handle, own = None, m.kind == "own_post"
        if ts < self.until:  # no clock to step (most mentions): the mention steps only
            for see in (self._for_own if own else self._for_others):
                see(m, ts, own, handle, sentiment, alerts)
            return own
        until = math.inf
        for det, split in zip(self, self._split):
            if not split:
                new = det.observe(m, sentiment)
                if new:
                    alerts.extend(new)
                until = -math.inf
                continue
            if ts >= det.until:
                det.tick_to(ts, alerts)
            if det.sees_own if own else det.sees_others:
                det.see(m, ts, own, handle, sentiment, alerts)
            det_until = det.until
            if det_until < until:
                until = det_until
        self.until = until
        return own


def _splits(det: Any) -> bool:
    """True for a detector with the split steps (``tick_to``/``see``) of
    :class:`~pipeline.risks._base.StreamDetector`."""
    return getattr(det, "see", None) is not None and getattr(det, "tick_to", None) is not None


DetectorFactory = Callable[[str, BrandConfig | None, DetectionSettings], MentionDetector]

#: Factories of the detectors every brand gets, in the order they run.
DETECTORS: list[DetectorFactory] = []

from pipeline.risks.registry import default_detectors  # noqa: E402  (after DETECTORS: no cycle)

DETECTORS.extend(default_detectors())
