"""Wire schemas of veille's topics, as pydantic models (orjson on the wire).

The JSON Schema files in ``schemas/`` are generated from these models by
``python -m pipeline.schemas --write`` and a unit test checks that code and files agree.

The engine reads mentions as :class:`MentionRecord` (a msgspec Struct with the same fields and
values as :class:`Mention`, plus the epoch times), built by
:func:`pipeline.codec.validate_mention`; the pydantic models stay the wire schema.

Examples
--------
>>> m = Mention.model_validate({
...     "id": "1", "created_at": "2026-01-05T10:00:00Z", "brand": "acme", "kind": "mention",
...     "text": "@acme my order is late", "author": {"id": "u1", "handle": "bob"}})
>>> m.ts
1767607200.0
>>> m.author.followers
0
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cached_property
from typing import Annotated, Any, Literal

import msgspec
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1

MentionKind = Literal["mention", "reply", "quote", "repost", "own_post"]
SentimentLabel = Literal["negative", "neutral", "positive"]
Severity = Literal["info", "low", "medium", "high", "critical"]
AlertKind = Literal[
    "crisis", "surge", "silence", "hijack", "impostor", "raid", "slow_response", "post_review"
]
IncidentState = Literal["watch", "crisis", "recovering", "resolved"]
AlertUpdate = Literal["opened", "escalated", "deescalated", "updated", "reopened", "resolved"]


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class computed_once(cached_property):  # noqa: N801 (a decorator, named like cached_property)
    """``functools.cached_property`` without its lock (Python 3.11 takes an RLock per first
    read): the value is computed on first read and stored in the instance, later reads are
    plain attribute look-ups. Not part of the model's fields, dumps or JSON Schema."""

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.attrname] = self.func(obj)
        return value


class _Wire(BaseModel):
    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=False, ignored_types=(computed_once,)
    )


class Author(_Wire):
    """The account that wrote a mention."""

    id: str = Field(min_length=1)
    handle: str = Field(min_length=1, description="Without the leading @.")
    name: str = ""
    followers: int = Field(default=0, ge=0)
    verified: bool = False
    created_at: AwareDatetime | None = Field(default=None, description="Account creation time.")

    @computed_once
    def created_ts(self) -> float | None:
        """Account creation time in epoch seconds (None if unknown), computed once."""
        return None if self.created_at is None else self.created_at.timestamp()


class Mention(_Wire):
    """A post that mentions a brand (or the brand's own post, kind ``own_post``)."""

    id: str = Field(min_length=1)
    created_at: AwareDatetime = Field(description="Event time: when the post was written.")
    brand: str = Field(min_length=1, description="Brand key; the Kafka message key.")
    kind: MentionKind = "mention"
    text: str
    lang: str | None = Field(default=None, description="ISO 639-1 code if the source knows it.")
    author: Author
    in_reply_to: str | None = Field(default=None, description="Id of the post answered.")
    source: str | None = Field(default=None, description="Client app that posted it.")
    url: str | None = None

    _normalize_time = field_validator("created_at")(_utc)

    @computed_once
    def ts(self) -> float:
        """Event time in epoch seconds.

        Computed once per mention (every detector asks for it): a mention is not modified after
        validation, so ``created_at`` must not be reassigned once ``ts`` has been read.
        """
        return self.created_at.timestamp()


_UTC = timezone.utc
_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
_Aware = Annotated[datetime, msgspec.Meta(tz=True)]


class AuthorRecord(msgspec.Struct, kw_only=True, gc=False):
    """The engine's form of a validated :class:`Author`: same fields and values, slots, plus
    ``created_ts`` (account creation in epoch seconds, None if unknown), set on construction.

    Untracked by the garbage collector (``gc=False``): it holds only strings, numbers and
    datetimes, so it can be in no reference cycle.
    """

    id: _NonEmpty
    handle: _NonEmpty
    name: str = ""
    followers: Annotated[int, msgspec.Meta(ge=0)] = 0
    verified: bool = False
    created_at: _Aware | None = None
    created_ts: float | None = None

    def __post_init__(self) -> None:
        created = self.created_at
        self.created_ts = None if created is None else created.timestamp()


class MentionRecord(msgspec.Struct, kw_only=True, gc=False):
    """The engine's form of a validated :class:`Mention` (what the watch and the detectors
    read): the same fields with the same values (``created_at`` in UTC), as slots, plus ``ts``
    (the event time in epoch seconds), set on construction.

    :func:`pipeline.codec.validate_mention` builds it straight from the decoded record
    (``msgspec.convert``, about 1 µs; pydantic decides whatever that fast path does not
    accept, so both accept and reject alike). A unit test keeps its fields those of
    :class:`Mention`. Untracked by the garbage collector, like :class:`AuthorRecord`.

    >>> m = MentionRecord(id="1", created_at=datetime.fromisoformat("2026-01-05T11:00:00+01:00"),
    ...                   brand="acme", text="hi", author=AuthorRecord(id="u", handle="bob"))
    >>> m.ts, m.created_at.isoformat(), m.author.created_ts
    (1767607200.0, '2026-01-05T10:00:00+00:00', None)
    """

    id: _NonEmpty
    created_at: _Aware
    brand: _NonEmpty
    kind: MentionKind = "mention"
    text: str
    lang: str | None = None
    author: AuthorRecord
    in_reply_to: str | None = None
    source: str | None = None
    url: str | None = None
    ts: float = 0.0

    def __post_init__(self) -> None:
        created = self.created_at
        if created.tzinfo is not _UTC:  # normalised as Mention's validator does
            self.created_at = created = created.astimezone(_UTC)
        self.ts = created.timestamp()

    @classmethod
    def from_model(cls, m: Mention) -> MentionRecord:
        """The record of a pydantic :class:`Mention` (same values)."""
        a = m.author
        return cls(
            id=m.id, created_at=m.created_at, brand=m.brand, kind=m.kind, text=m.text,
            lang=m.lang, in_reply_to=m.in_reply_to, source=m.source, url=m.url,
            author=AuthorRecord(id=a.id, handle=a.handle, name=a.name, followers=a.followers,
                                verified=a.verified, created_at=a.created_at),
        )


#: Fields of the records that are not wire fields (computed on construction).
RECORD_ONLY_FIELDS = frozenset({"ts", "created_ts"})


class SentimentOut(_Wire):
    """Per-mention sentiment: label (None when the language is unsupported) and score."""

    label: SentimentLabel | None
    score: float = Field(ge=-1.0, le=1.0, description="P(positive) - P(negative).")
    probs: tuple[float, float, float] = Field(description="negative, neutral, positive.")


class ScoredMention(_Wire):
    """A mention with what veille learned about it (topic ``veille.mentions.scored``)."""

    schema_version: int = SCHEMA_VERSION
    mention: Mention
    lang: str = Field(description="Language used for scoring: en, fr or und (unsupported).")
    sentiment: SentimentOut
    late: bool = Field(default=False, description="Arrived after its bucket closed.")


class Alert(_Wire):
    """An update of an incident (topic ``veille.alerts``).

    ``id`` is stable for the incident: consumers key on it and keep the update with the highest
    ``version``; ``(id, version)`` is unique, so a re-delivered update is a duplicate to drop.
    """

    schema_version: int = SCHEMA_VERSION
    id: str = Field(description="Stable incident id.")
    version: int = Field(ge=1, description="Increments with each update of the incident.")
    brand: str
    kind: AlertKind
    severity: Severity
    state: IncidentState
    update: AlertUpdate
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    observed: float
    expected: float
    lower: float | None = None
    upper: float | None = None
    score: float
    summary: str = Field(description="One line a person reads first.")
    evidence: dict[str, Any] = Field(default_factory=dict)
    sample_mention_ids: list[str] = Field(default_factory=list)

    _normalize_opened = field_validator("opened_at")(_utc)
    _normalize_updated = field_validator("updated_at")(_utc)


class Label(_Wire):
    """An analyst's sentiment correction (topic ``veille.labels``)."""

    mention_id: str = Field(min_length=1)
    label: SentimentLabel
    text: str | None = Field(default=None, description="The text, if the labeller has it.")
    lang: str | None = None
    brand: str | None = None


class OutgoingPost(_Wire):
    """A post the brand is about to publish, to review (topic ``veille.posts.outgoing``)."""

    id: str = Field(min_length=1)
    brand: str = Field(min_length=1, description="Brand key; the Kafka message key.")
    text: str
    lang: str | None = Field(default=None, description="ISO 639-1 code if known.")


class ReviewReason(_Wire):
    """One finding of the own-post review, pointing at a span of the text."""

    check: str = Field(description="Dotted check name, family first: secret.aws_key, pii.email...")
    span: tuple[int, int] = Field(description="Character offsets [start, end) in the text.")
    message: str
    severity: Literal["warn", "block"]


class PostReview(_Wire):
    """The verdict on one of the brand's posts (topic ``veille.posts.reviewed``)."""

    schema_version: int = SCHEMA_VERSION
    post_id: str
    brand: str
    created_at: float | None = Field(
        default=None, description="Event time of a published post (epoch seconds); null for "
        "a post reviewed before publication.")
    verdict: Literal["approve", "warn", "block"]
    reasons: list[ReviewReason] = Field(default_factory=list)


class TrendTerm(_Wire):
    """One emerging term or hashtag of a trend window."""

    term: str
    count: int = Field(ge=0, description="Occurrences in the window's sample (a lower bound).")
    lift: float = Field(description="How many times more frequent than in the brand's baseline.")
    usual_per_window: float = Field(ge=0, description="The baseline's count per window.")


class Trend(_Wire):
    """Emerging terms and hashtags of one brand in one window (topic ``veille.trends``)."""

    schema_version: int = SCHEMA_VERSION
    brand: str
    competitor: bool = Field(default=False, description="The brand is watched as a competitor.")
    window_start: AwareDatetime
    window_end: AwareDatetime
    mentions: int = Field(ge=0, description="Mentions of the brand in the window.")
    sampled: int = Field(ge=0, description="Mentions whose terms were counted.")
    terms: list[TrendTerm] = Field(default_factory=list)
    hashtags: list[TrendTerm] = Field(default_factory=list)


WIRE_MODELS: dict[str, type[BaseModel]] = {
    "mention": Mention,
    "scored_mention": ScoredMention,
    "alert": Alert,
    "label": Label,
    "outgoing_post": OutgoingPost,
    "post_review": PostReview,
    "trend": Trend,
}


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a wire model, with a stable ``$id``."""
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://veille.dev/schemas/{model.__name__}.json"
    return schema


def main(argv: list[str] | None = None) -> int:
    """Write (``--write``) or check the JSON Schema files in ``schemas/``."""
    import sys
    from pathlib import Path

    import orjson

    args = sys.argv[1:] if argv is None else argv
    out = Path(__file__).resolve().parent.parent / "schemas"
    out.mkdir(exist_ok=True)
    stale = []
    for name, model in WIRE_MODELS.items():
        path = out / f"{name}.schema.json"
        text = orjson.dumps(json_schema(model), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        if "--write" in args:
            path.write_bytes(text + b"\n")
        elif not path.exists() or path.read_bytes() != text + b"\n":
            stale.append(str(path))
    if stale:
        print("stale schema files (run python -m pipeline.schemas --write):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
