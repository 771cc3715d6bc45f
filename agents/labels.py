"""The labels agent: analysts' corrections on ``veille.labels`` teach the sentiment model.

Bad label records are dead-lettered like bad mentions. Known limit (tracked in issue 5): with
several workers, each learns the labels of the partitions it owns.
"""

from __future__ import annotations

from typing import Any

from agents import metrics
from agents.mentions import _deadletter
from pipeline.codec import Rejection, decode_label


def register(worker: Any) -> None:
    """Attach the labels agent to the app."""

    @worker.app.agent(worker.topics.labels, name="veille.labels.learn")
    async def learn(stream):  # pragma: no cover - exercised by the integration tests
        async for event in stream.events():
            label = decode_label(event.value)
            if isinstance(label, Rejection):
                await _deadletter(worker, event, label)
                metrics.DEADLETTERED.labels(label.reason).inc()
                continue
            if worker.engine.learn_label(label):
                metrics.LABELS.inc()
