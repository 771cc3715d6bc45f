"""The posts agent through a real worker on the embedded broker: an OutgoingPost on
``veille.posts.outgoing`` in, its verdict on ``veille.posts.reviewed`` out (and bad records on the
dead-letter topic, with the reason). Topic names are unique per test (shared session broker).
"""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from agents import kafka
from agents.workers import WorkerProcess
from pipeline.schemas import PostReview
from pipeline.settings import BrandConfig, Settings
from tests.support.kafka_io import send_values

POSTS = [
    {"id": "p-ok", "brand": "acme", "text": "Our new store opens on Monday! https://acme.com/s"},
    {"id": "p-card", "brand": "acme", "text": "Refund done to card 4111 1111 1111 1111, thanks!"},
    {"id": "p-fr", "brand": "acme", "lang": "fr",
     "text": "Le Project Falcon sort demain, gardez le secret"},
]


async def read(settings: Settings, topic: str, keep, n: int, timeout: float) -> list:
    """The records of ``topic`` that ``keep`` accepts, once there are ``n`` (or at timeout)."""
    c = kafka.consumer(settings, topic)
    await c.start()
    got: list = []
    try:
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            for recs in (await c.getmany(timeout_ms=500)).values():
                got.extend(r for r in recs if keep(r))
    finally:
        await c.stop()
    return got


@pytest.mark.tansu
@pytest.mark.slow
def test_outgoing_post_in_verdict_out(tansu, unique_topic, tmp_path):
    settings = Settings(
        kafka_bootstrap=tansu.bootstrap, broker_kind="tansu", app_id=unique_topic("veille-posts"),
        brands=[BrandConfig(name="acme", handles=["acme"], confidential_terms=["Project Falcon"],
                            allowed_link_domains=["acme.com"])],
        topics={"partitions": 2, "posts_outgoing": unique_topic("out"),
                "posts_reviewed": unique_topic("rev"), "deadletter": unique_topic("dlq")},
        snapshot_every_s=1.0,
    )
    topics = settings.topics
    asyncio.run(kafka.ensure_topics(settings))
    bad = b"{not json"
    with WorkerProcess(settings, tmp_path / "w") as worker:
        asyncio.run(send_values(settings, topics.posts_outgoing,
                            [orjson.dumps(p) for p in POSTS] + [bad]))
        # (filtered: in the full suite the shared Tansu has handed back other tests' records)
        ids = {p["id"].encode() for p in POSTS}
        got = asyncio.run(read(settings, topics.posts_reviewed,
                               lambda r: any(i in r.value for i in ids), len(POSTS), timeout=90))
        assert len(got) == len(POSTS), worker.tail()
        mine = topics.posts_outgoing.encode()
        dlq = asyncio.run(read(settings, topics.deadletter,
                               lambda r: dict(r.headers).get("veille.dlq.topic") == mine, 1,
                               timeout=30))
    reviews = {r.post_id: r for r in (PostReview.model_validate(orjson.loads(x.value)) for x in got)}
    assert all(x.key == b"acme" for x in got)
    assert reviews["p-ok"].verdict == "approve" and reviews["p-ok"].reasons == []
    card = reviews["p-card"]
    assert card.verdict == "block" and {r.check for r in card.reasons} >= {"pii.card"}
    start, end = next(r.span for r in card.reasons if r.check == "pii.card")
    assert POSTS[1]["text"][start:end].replace(" ", "") == "4111111111111111"
    assert reviews["p-fr"].verdict == "block"
    assert "secret.confidential" in {r.check for r in reviews["p-fr"].reasons}
    assert [d.value for d in dlq] == [bad]
    assert dict(dlq[0].headers)["veille.dlq.reason"] == b"invalid_json"
