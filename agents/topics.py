"""Topic declarations: raw bytes at the wire, keyed by brand."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from pipeline.settings import Settings


@dataclass(frozen=True)
class Topics:
    """The Faust topics of one app."""

    mentions: faust.TopicT
    scored: faust.TopicT
    alerts: faust.TopicT
    deadletter: faust.TopicT
    labels: faust.TopicT
    posts_outgoing: faust.TopicT
    posts_reviewed: faust.TopicT
    trends: faust.TopicT


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare veille's topics on ``app`` (raw key and value serializers: bytes in, bytes out)."""
    t = settings.topics

    def topic(name: str, **kw) -> faust.TopicT:
        return app.topic(
            name, key_serializer="raw", value_serializer="raw",
            partitions=t.partitions, replicas=t.replicas, **kw,
        )

    return Topics(
        mentions=topic(t.mentions),
        scored=topic(t.scored),
        alerts=topic(t.alerts),
        deadletter=topic(t.deadletter),
        labels=topic(t.labels),
        posts_outgoing=topic(t.posts_outgoing),
        posts_reviewed=topic(t.posts_reviewed),
        trends=topic(t.trends),
    )
