"""Agent tier: the posts agent run by Faust without a broker (``agent.test_context()``).

The app is the worker's own (:func:`agents.app.create_app`, store ``memory://``); records are
put into the agent's test channel as raw bytes, as they come off ``veille.posts.outgoing``, and
the worker's outputs are replaced by a recorder (the only I/O the agent does).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from agents.app import create_app
from agents.posts import handle
from pipeline.schemas import PostReview
from pipeline.settings import BrandConfig, Settings

BRANDS = [BrandConfig(name="acme", handles=["acme"], confidential_terms=["Project Falcon"],
                      allowed_link_domains=["acme.com"]),
          BrandConfig(name="nordair", handles=["nordair"], languages=["fr", "en"])]


class Recorder:
    """Stands in for :class:`agents.outputs.Outputs`: keeps what the agent sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes, list]] = []
        self.changed = asyncio.Event()

    async def send(self, topic: str, key: bytes | None, value: bytes, headers: Any = None) -> None:
        self.sent.append((topic, key, value, list(headers or [])))
        self.changed.set()

    async def wait_for(self, n: int, timeout: float = 5.0) -> list:
        async def until() -> None:
            while len(self.sent) < n:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(until(), timeout)
        return self.sent


@pytest.fixture
def app():
    settings = Settings(kafka_bootstrap="localhost:1", brands=BRANDS, app_id="veille-agent-test")
    app = create_app(settings)
    assert app.conf.store.scheme == "memory"
    app.finalize()
    app.flow_control.resume()
    app.veille.outputs = Recorder()
    return app


def agent_of(app):
    return next(a for a in app.agents.values() if a.name.endswith("veille.posts.review"))


def post(**kw) -> bytes:
    return orjson.dumps({"id": "p1", "brand": "acme", "text": "Hello!", **kw})


async def test_posts_agent_publishes_a_verdict_per_post(app):
    outputs = app.veille.outputs
    topics = app.veille.settings.topics
    async with agent_of(app).test_context() as agent:
        await agent.put(post(id="ok", text="Our new store opens on Monday, see you there! "
                                           "https://acme.com/stores"), key=b"acme")
        await agent.put(post(id="leak", text="Launch of Project Falcon, login admin "
                                             "password: Hunter2!xyz"), key=b"acme")
        await agent.put(post(id="fr", brand="nordair", text="Bonjour à tous, nos vols de ce "
                                                            "soir partent à l'heure."),
                        key=b"nordair")
        sent = await outputs.wait_for(3)
    assert [(t, k) for t, k, _, _ in sent] == [(topics.posts_reviewed, b"acme"),
                                               (topics.posts_reviewed, b"acme"),
                                               (topics.posts_reviewed, b"nordair")]
    reviews = [PostReview.model_validate(orjson.loads(v)) for _, _, v, _ in sent]
    assert [r.post_id for r in reviews] == ["ok", "leak", "fr"]
    assert [r.verdict for r in reviews] == ["approve", "block", "approve"]
    text = "Launch of Project Falcon, login admin password: Hunter2!xyz"
    leak = reviews[1]
    assert {r.check for r in leak.reasons} >= {"secret.confidential", "secret.password"}
    spans = {r.check: text[r.span[0]:r.span[1]] for r in leak.reasons}
    assert spans["secret.confidential"] == "Project Falcon" and "Hunter2" in spans["secret.password"]
    assert reviews[0].reasons == [] and reviews[2].reasons == []


@pytest.mark.parametrize("raw,reason", [
    (b"{not json", "invalid_json"),
    (orjson.dumps({"id": "x", "brand": "acme"}), "missing_field"),
    (orjson.dumps({"id": "x", "brand": "globex", "text": "hi"}), "unknown_brand"),
    (orjson.dumps({"id": "x", "brand": "acme", "text": "x" * 20_000}), "text_too_long"),
])
async def test_posts_agent_dead_letters_bad_records_with_the_reason(app, raw, reason):
    outputs = app.veille.outputs
    async with agent_of(app).test_context() as agent:
        await agent.put(raw, key=b"acme")
        await agent.put(post(id="after"), key=b"acme")  # the agent keeps going
        sent = await outputs.wait_for(2)
    topics = app.veille.settings.topics
    (t1, _, v1, h1), (t2, _, v2, _) = sent
    assert t1 == topics.deadletter and v1 == raw  # original bytes kept
    assert dict(h1)["veille.dlq.reason"].decode() == reason
    assert t2 == topics.posts_reviewed and orjson.loads(v2)["post_id"] == "after"


async def test_handle_returns_what_it_published(app):
    class Event:
        value = post(id="direct", text="Thanks to all our customers!")
    out = await handle(app.veille, Event())
    assert out["post_id"] == "direct" and out["verdict"] == "approve"
    assert app.veille.outputs.sent[0][2] == orjson.dumps(out)
