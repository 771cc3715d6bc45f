"""The posts agent: posts the brand is about to publish (``veille.posts.outgoing``) are reviewed.

Each record ``{"id", "brand", "text", "lang"?}`` (schema ``OutgoingPost``) gets a verdict from
:meth:`pipeline.engine.Engine.review_post` (secrets, PII, tone, errors, compliance), published on
``veille.posts.reviewed`` (schema ``PostReview``, ``created_at`` null: not published yet), keyed by
brand. Bad records are dead-lettered with the reason, like bad mentions and labels. Both go
through the worker's outputs (:mod:`agents.outputs`), which the recovery flushes before every
offset commit, as the mentions path does.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from agents import metrics
from agents.mentions import _deadletter
from pipeline.codec import Rejection, _classify, load_object
from pipeline.schemas import OutgoingPost


def decode_post(raw: bytes, max_text_chars: int = 10_000) -> OutgoingPost | Rejection:
    """Decode and validate one outgoing post record."""
    obj = load_object(raw)
    if isinstance(obj, Rejection):
        return obj
    text = obj.get("text")
    if isinstance(text, str) and len(text) > max_text_chars:
        return Rejection("text_too_long", f"text has {len(text)} chars > {max_text_chars}")
    try:
        return OutgoingPost.model_validate(obj)
    except ValidationError as exc:
        return _classify(exc)


def review(worker: Any, raw: bytes) -> dict[str, Any] | Rejection:
    """The PostReview dict of one raw outgoing post, or why it cannot be reviewed."""
    post = decode_post(raw, worker.settings.max_text_chars)
    if isinstance(post, Rejection):
        return post
    settings = worker.settings
    if settings.brands and not settings.accept_unknown_brands and settings.brand(post.brand) is None:
        return Rejection("unknown_brand", f"brand {post.brand[:80]!r} is not configured")
    return worker.engine.review_post(post.id, post.brand, post.text, post.lang, None)


async def handle(worker: Any, event: Any) -> dict[str, Any] | Rejection:
    """Review one outgoing-post event: publish its verdict, or dead-letter it with the reason."""
    out = review(worker, event.value)
    if isinstance(out, Rejection):
        await _deadletter(worker, event, out)
        metrics.DEADLETTERED.labels(out.reason).inc()
        return out
    await worker.outputs.send(worker.settings.topics.posts_reviewed, out["brand"].encode(),
                              orjson.dumps(out))
    metrics.record_review(out)
    return out


def register(worker: Any) -> Any:
    """Attach the posts agent to the app; returns the agent (``agent.test_context()``)."""

    @worker.app.agent(worker.topics.posts_outgoing, name="veille.posts.review")
    async def review_posts(stream):
        async for event in stream.events():
            await handle(worker, event)

    return review_posts
