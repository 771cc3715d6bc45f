"""Plug-in point for per-brand detectors beyond volume and sentiment (issue 6 risks).

A detector is created once per brand by a factory registered in :data:`DETECTORS`, is fed
every accepted mention of that brand in stream order with its sentiment, and returns alert
updates. It must be driven by event time only and snapshot its state, like every model here.

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


DetectorFactory = Callable[[str, BrandConfig | None, DetectionSettings], MentionDetector]

#: Factories of the detectors every brand gets, in the order they run.
DETECTORS: list[DetectorFactory] = []

from pipeline.risks.registry import default_detectors  # noqa: E402  (after DETECTORS: no cycle)

DETECTORS.extend(default_detectors())
