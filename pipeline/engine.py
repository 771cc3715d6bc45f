"""The engine: raw mention records in, scored mentions, alerts and rejections out.

This is the one place the domain logic is put together. The Faust worker calls
:meth:`Engine.process` on each batch it takes from ``veille.mentions``; offline replay calls the
same method on batches read from an archive. Since every model is driven by event time and a
brand's state depends only on the order of that brand's mentions (which Kafka keeps, the brand
being the key), both produce the same alerts for the same input.

Examples
--------
>>> import orjson
>>> engine = Engine(Settings())
>>> out = engine.process([orjson.dumps({
...     "id": "1", "created_at": "2026-01-05T10:00:00Z", "brand": "acme",
...     "text": "@acme I love the new app", "author": {"id": "u1", "handle": "bob"}}),
...     b"not json"])
>>> len(out.scored), [r.reason for _, r in out.rejected]
(1, ['invalid_json'])
>>> out.scored[0]["sentiment"]["label"]
'positive'
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.codec import Rejection, load_object, validate_mention
from pipeline.recent import RecentTexts
from pipeline.risks import PostReviewer
from pipeline.schemas import SCHEMA_VERSION, Alert, Label, MentionRecord
from pipeline.sentiment import SentimentModel
from pipeline.settings import Settings
from pipeline.watch import BrandWatch, BucketReport

#: Texts of the most recent mentions (all brands), by id, to complete analysts' labels and
#: replay samples (:class:`~pipeline.recent.RecentTexts`: about 40 MB once full, then flat, on
#: simulated tweets). Not part of snapshots. Duplicates are recognised per brand instead
#: (:meth:`pipeline.watch.BrandWatch.seen`, bounded and snapshotted with the brand).
RECENT_TEXTS = 200_000
#: Young-generation GC threshold while batches run (see :func:`batch_gc`).
BATCH_GC_THRESHOLD = 50_000


@contextmanager
def batch_gc(threshold: int = BATCH_GC_THRESHOLD) -> Iterator[None]:
    """Run a loop of :meth:`Engine.process` batches with a young-generation GC threshold above
    a batch's live objects, then restore the previous thresholds.

    A batch of 500 records holds about 15 tracked objects per record (decoded dicts, models,
    scored dicts) until it is done. With CPython's default threshold (700) the collector runs
    about ten times per batch, promotes those short-lived objects, and their promotion triggers
    full collections of the whole engine state: about a fifth of replay CPU time. With a
    threshold above a batch's objects, they are freed by reference counting before the
    collector sees them. Cyclic garbage still gets collected (the engine makes little).
    """
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@dataclass(slots=True)
class EngineOutput:
    """What one batch produced.

    Attributes
    ----------
    scored
        Scored mentions as JSON-able dicts (schema ``ScoredMention``), in input order.
    alerts
        Incident updates made due by this batch, in order.
    rejected
        ``(index in the batch, Rejection)`` for every record that goes to the dead-letter topic.
    duplicates
        Records whose mention id was seen recently (processed, not counted twice).
    counts
        ``(brand, lang, sentiment label or "none")`` -> mentions scored, for metrics.
    late
        brand -> mentions that arrived after their bucket closed (scored, not bucketed).
    reviews
        Verdicts on the brand's own published posts (topic ``veille.posts.reviewed``).
    trends
        Emerging terms per brand and window (schema ``Trend``, topic ``veille.trends``).
    accepted
        Mentions scored and watched (``len(scored)`` unless the engine's ``scored_output`` is
        off).
    """

    scored: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    duplicates: int = 0
    late: Counter[str] = field(default_factory=Counter)
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    trends: list[dict[str, Any]] = field(default_factory=list)
    accepted: int = 0

    @property
    def processed(self) -> int:
        """Records accepted (scored or recognised as duplicates)."""
        return self.accepted + self.duplicates


class Engine:
    """All brands of one worker (or one replay). See the module docstring.

    Parameters
    ----------
    settings
        The one settings object.
    sentiment
        The sentiment model; default: the shipped cold-start model.
    """

    def __init__(self, settings: Settings, sentiment: SentimentModel | None = None) -> None:
        self.settings = settings
        self.sentiment = sentiment if sentiment is not None else SentimentModel.default()
        self.watches: dict[str, BrandWatch] = {}
        self._configured = {b.name: b for b in settings.brands}
        self._reviewers: dict[str, PostReviewer] = {}
        #: mention id -> (text, lang) of the last :data:`RECENT_TEXTS` mentions (``get``)
        self._recent = RecentTexts(RECENT_TEXTS)
        self.labels_learned = 0
        #: Called with a brand key the engine has not seen: returns a snapshot to resume from
        #: (the worker reads its state table), or None for a fresh brand.
        self.restore: Callable[[str], dict[str, Any] | None] | None = None
        #: Observer handed to every brand watch: called with each closed bucket's
        #: :class:`~pipeline.watch.BucketReport` (offline replay collects its series with it).
        self.on_bucket: Callable[[BucketReport], None] | None = None
        #: Build :attr:`EngineOutput.scored` (the worker publishes it; an offline replay that
        #: does not write scored mentions turns it off: same alerts, less work).
        self.scored_output = True

    # ------------------------------------------------------------------ mentions
    def _watch_for(self, brand: str) -> BrandWatch | Rejection:
        watch = self.watches.get(brand)
        if watch is not None:
            return watch
        if self.restore is not None:
            snapshot = self.restore(brand)
            if snapshot is not None:
                self.restore_brand(snapshot)
                return self.watches[brand]
        cfg = self._configured.get(brand)
        if cfg is None and self._configured and not self.settings.accept_unknown_brands:
            return Rejection("unknown_brand", f"brand {brand[:80]!r} is not configured")
        if cfg is None and len(self.watches) >= self.settings.max_brands:
            return Rejection("brand_limit", f"already tracking {len(self.watches)} brands")
        watch = self.watches[brand] = BrandWatch(brand, self.settings.detection, cfg)
        watch.on_bucket = self.on_bucket
        return watch

    def process(
        self, records: Sequence[bytes], record_ts: Sequence[float] | None = None,
        record_keys: Sequence[bytes | None] | None = None,
    ) -> EngineOutput:
        """Decode, validate, score and watch a batch of raw mention records, in order.

        Parameters
        ----------
        records
            Raw record values.
        record_ts
            The records' Kafka timestamps (epoch seconds, when they were produced), if known.
            A mention whose event time is more than ``max_future_s`` after its record's
            timestamp is rejected as ``future_timestamp``: a wrong clock must not fast-forward
            a brand. Without record timestamps (a file archive) there is no such check.
        record_keys
            The records' Kafka keys, if known. Mentions are keyed by brand: the key picks the
            partition, hence the worker holding (and snapshotting) the brand's state. A valid
            mention whose key is not its brand (or is missing) is rejected as ``key_mismatch``
            before it touches any brand; a file archive has no keys and no such check.
        """
        out = EngineOutput()
        max_future = self.settings.detection.max_future_s
        max_chars = self.settings.max_text_chars
        # the accepted mentions, column by column (no tuple per mention)
        objs: list[dict[str, Any]] = []
        mentions: list[MentionRecord] = []
        owners: list[BrandWatch] = []
        texts: list[str] = []
        langs: list[str | None] = []
        #: the batch's brands in first-accepted order (their trends are drained after it)
        batch_watches: dict[int, BrandWatch] = {}
        last_watch: BrandWatch | None = None
        rejected = out.rejected
        watches = self.watches
        loads, bad_json = orjson.loads, orjson.JSONDecodeError
        for i, raw in enumerate(records):
            # load_object's well-formed case inline; any other goes through it (same reasons)
            obj = None
            if type(raw) is bytes:
                try:
                    obj = loads(raw)
                except bad_json:
                    pass
            if type(obj) is not dict:
                obj = load_object(raw)
                if type(obj) is not dict:
                    rejected.append((i, obj))
                    continue
            m = validate_mention(obj, max_text_chars=max_chars)
            if type(m) is Rejection:
                rejected.append((i, m))
                continue
            if record_keys is not None:
                key = record_keys[i]
                if key is None or key.decode("utf-8", "replace") != m.brand:
                    rejected.append((i, Rejection(
                        "key_mismatch", f"record key {key!r:.80} is not the mention's brand "
                        f"{m.brand[:80]!r}: producers key mentions by brand")))
                    continue
            watch = watches.get(m.brand)
            if watch is None:
                watch = self._watch_for(m.brand)
                if type(watch) is Rejection:
                    rejected.append((i, watch))
                    continue
            if record_ts is not None and m.ts > record_ts[i] + max_future:
                rejected.append((i, Rejection(
                    "future_timestamp", f"created_at {m.created_at.isoformat()} is more than "
                    f"{max_future}s after the record was produced")))
                continue
            if watch.seen(m.id):
                out.duplicates += 1
                continue
            if watch is not last_watch:
                batch_watches[id(watch)] = last_watch = watch
            objs.append(obj)
            mentions.append(m)
            owners.append(watch)
            texts.append(m.text)
            langs.append(m.lang)

        if not mentions:
            return out
        self._recent.add_many([m.id for m in mentions], texts, langs)
        sentiments = self.sentiment.predict_many(texts, langs)
        alerts, late, scored, reviews = out.alerts, out.late, out.scored, out.reviews
        keys: list[tuple[str, str, str]] = []
        key = keys.append
        scoring = self.scored_output
        for obj, m, watch, s in zip(objs, mentions, owners, sentiments):
            brand, lang, label = m.brand, s.lang, s.label
            is_late = watch.observe_into(m, s, alerts)
            if is_late:
                late[brand] += 1
            key((brand, lang, label or "none"))
            own = watch.own_handles
            if m.kind == "own_post" or (own and m.author.handle.lower() in own):
                reviews.append(self.review_post(m.id, brand, m.text, m.lang, m.ts))
            if scoring:
                scored.append({
                    "schema_version": SCHEMA_VERSION,
                    "mention": obj,
                    "lang": lang,
                    "sentiment": {"label": label, "score": s.score, "probs": list(s.probs)},
                    "late": is_late,
                })
        out.counts.update(keys)
        out.accepted = len(mentions)
        for watch in batch_watches.values():  # trends of the brands seen
            for drain in watch.drains:
                out.trends.extend(drain())
        return out

    # ------------------------------------------------------------------ own posts
    def review_post(
        self, post_id: str, brand: str, text: str, lang: str | None, ts: float | None = None
    ) -> dict[str, Any]:
        """Review one of the brand's posts (published or about to be): a PostReview dict."""
        reviewer = self._reviewers.get(brand)
        if reviewer is None:
            cfg = self._configured.get(brand)
            reviewer = self._reviewers[brand] = PostReviewer(
                cfg, public_contacts=cfg.public_contacts if cfg else ()
            )
        review = reviewer.review(text, lang)
        return {"schema_version": SCHEMA_VERSION, "post_id": post_id, "brand": brand,
                "created_at": ts, **review.to_dict()}

    # ------------------------------------------------------------------ labels
    def recent_text(self, mention_id: str) -> tuple[str, str | None] | None:
        """``(text, lang)`` of one of the last :data:`RECENT_TEXTS` mentions, or None.

        Labels that carry only a mention id, and the alerts' sample mentions, are resolved
        with it.
        """
        return self._recent.get(mention_id)

    def learn_label(self, label: Label) -> bool:
        """Learn an analyst's label. Returns False when the mention's text is unknown."""
        text, lang = label.text, label.lang
        if text is None:
            known = self.recent_text(label.mention_id)
            if known is None:
                return False
            text, lang = known[0], lang or known[1]
        self.sentiment.learn_one(text, label.label, lang)
        self.labels_learned += 1
        return True

    # ------------------------------------------------------------------ snapshot
    def brand_state(self, brand: str) -> dict[str, Any] | None:
        """Snapshot of one brand's watch (JSON-able), or None if the brand is unknown."""
        watch = self.watches.get(brand)
        return None if watch is None else watch.to_state()

    def restore_brand(self, state: dict[str, Any]) -> None:
        """Restore one brand's watch from :meth:`brand_state`."""
        brand = state["brand"]
        self.watches[brand] = BrandWatch.from_state(
            state, self.settings.detection, self._configured.get(brand)
        )
        self.watches[brand].on_bucket = self.on_bucket

    def to_state(self) -> dict[str, Any]:
        """Snapshot of all brands and the sentiment model (JSON-able)."""
        return {
            "brands": {b: w.to_state() for b, w in self.watches.items()},
            "sentiment": self.sentiment.to_state(),
            "labels_learned": self.labels_learned,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], settings: Settings) -> Engine:
        """Restore an engine from :meth:`to_state`; it then behaves exactly as the original."""
        engine = cls(settings, SentimentModel.from_state(state["sentiment"]))
        for brand_state in state["brands"].values():
            engine.restore_brand(brand_state)
        engine.labels_learned = state["labels_learned"]
        return engine
