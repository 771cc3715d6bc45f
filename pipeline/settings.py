"""The one typed settings object of veille: environment variables plus an optional TOML file.

Everything veille can be told lives here, with its default and a line of documentation. The
Faust worker maps these onto Faust's own settings in exactly one place
(:func:`agents.app.faust_settings`); offline replay reads the same object, so both run the same
detectors with the same thresholds.

Sources, highest priority first: keyword arguments, environment variables (``VEILLE_*``, nested
with ``__``, e.g. ``VEILLE_DETECTION__BUCKET_S=30``; ``KAFKA_BOOTSTRAP`` is accepted as an alias of
``VEILLE_KAFKA_BOOTSTRAP``), the TOML file named by ``VEILLE_SETTINGS_FILE`` (or passed as
``--settings`` on the command line), then the defaults below.

Examples
--------
>>> s = Settings(brands=[BrandConfig(name="acme", handles=["acme"])])
>>> s.topics.alerts
'veille.alerts'
>>> s.brand("acme").handles
['acme']
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pipeline.volume.alarm import SILENCE_ON, SURGE_ON

SETTINGS_FILE_ENV = "VEILLE_SETTINGS_FILE"


class BrandConfig(BaseModel):
    """One watched brand (or competitor): who it is, how it speaks, what it must never say."""

    name: str = Field(description="Brand key: the `brand` field of mentions and the Kafka key.")
    handles: list[str] = Field(
        default_factory=list,
        description="The brand's own accounts (without @). Posts from them are own posts; "
        "look-alike handles outside this list are impostor candidates.",
    )
    display_names: list[str] = Field(
        default_factory=list,
        description="Names the brand goes by (display names, product names): impostor and "
        "misspelling checks compare against them.",
    )
    keywords: list[str] = Field(default_factory=list, description="Terms that mean the brand.")
    languages: list[str] = Field(default_factory=lambda: ["en", "fr"])
    competitor: bool = Field(default=False, description="Watched as a competitor, side by side.")
    confidential_terms: list[str] = Field(
        default_factory=list, description="Internal code names and confidential terms: block."
    )
    forbidden_terms: list[str] = Field(
        default_factory=list, description="Compliance: claims and words the brand must not post."
    )
    allowed_link_domains: list[str] = Field(
        default_factory=list, description="Domains the brand links to; others warn in post review."
    )
    public_contacts: list[str] = Field(
        default_factory=list,
        description="Public phone numbers and addresses the brand may post (support lines).",
    )
    voice: Literal["formal", "neutral", "casual"] = Field(
        default="neutral", description="Brand voice for the tone check."
    )
    known_sources: list[str] = Field(
        default_factory=list,
        description="Client apps the brand account posts from (seed for hijack detection).",
    )
    known_accounts: list[str] = Field(
        default_factory=list,
        description="Other accounts (without @) that resemble the brand legitimately: fan clubs, "
        "employees, partners, tolerated parodies. Never flagged as impostors; not own posts.",
    )


class RiskSettings(BaseModel):
    """Limits of the per-brand risk detectors (issue 6; event time, seconds).

    See ``pipeline/risks/`` for what each detector does with them.
    """

    hijack_warmup_posts: int = Field(
        default=50, ge=1,
        description="Own posts the brand account must have published before its hours, "
        "languages and post/reply mix count as signals (sources and link domains seeded from "
        "the brand's known_sources / allowed_link_domains count from the start).",
    )
    hijack_score: float = Field(
        default=16.0, gt=0,
        description="Hijack score (bits of surprise, summed over the anomalous own posts of the "
        "last hijack_window_s) that opens a hijack alert. A post is anomalous only when at "
        "least two signals (new client, unknown link domain, unusual hour, language, kind) fire.",
    )
    hijack_window_s: int = Field(
        default=3600, ge=60, description="Window over which anomalous own posts add up."
    )
    impostor_max_distance: int = Field(
        default=2, ge=0,
        description="Largest edit distance (after homoglyph folding and stripping decorations "
        "such as _official/support/help) between a handle or display name and one of the "
        "brand's names for it to count as an imitation (1 for names of 4-7 letters).",
    )
    impostor_min_chars: int = Field(
        default=4, ge=1, description="Brand names shorter than this are not imitation targets."
    )
    impostor_quiet_s: int = Field(
        default=7 * 86_400, ge=60,
        description="An impostor incident resolves after this long without a mention from it.",
    )
    raid_window_s: int = Field(
        default=600, ge=60, description="Sliding event-time window of the raid detector."
    )
    raid_min_accounts: int = Field(
        default=15, ge=2,
        description="Distinct suspicious accounts posting near-duplicate texts within "
        "raid_window_s that make a raid.",
    )
    raid_young_days: float = Field(
        default=30.0, ge=0,
        description="Accounts younger than this (or without a creation date and with fewer "
        "than raid_low_followers followers) are raid candidates; others are not hashed.",
    )
    raid_low_followers: int = Field(default=50, ge=0, description="See raid_young_days.")
    raid_similarity: float = Field(
        default=0.5, gt=0, le=1,
        description="Jaccard similarity of word-shingle sets above which two texts are "
        "near-duplicates (MinHash estimate, LSH candidates).",
    )
    raid_max_items: int = Field(
        default=20_000, ge=100, description="Bound on texts held in the raid window."
    )
    slow_grace_s: int = Field(
        default=1800, ge=0,
        description="A negative mention counts in the answer backlog once it has waited this long.",
    )
    slow_active_s: int = Field(
        default=3600, ge=0,
        description="Only mentions posted while the brand account was active (it posted within "
        "this long before) are awaited: nights and week-ends off do not count as slow answers.",
    )
    slow_window_s: int = Field(
        default=3600, ge=60,
        description="Window of the backlog (mentions posted in it) and of the p90 wait (answers "
        "given in it).",
    )
    slow_max_backlog: int = Field(
        default=40, ge=1,
        description="Backlog (awaited negative mentions unanswered after slow_grace_s) that "
        "opens a slow_response alert, when the unanswered share is also unusual.",
    )
    slow_answered_ratio: float = Field(
        default=0.35, ge=0, le=1,
        description="The backlog alerts only when the brand answers (within slow_grace_s) at "
        "most this fraction of the awaited negative mentions it usually answers.",
    )
    slow_max_p90_s: int = Field(
        default=3 * 3600, ge=60,
        description="p90 time to first answer (answers in the window) that opens a "
        "slow_response alert, in windows where the brand usually answers at least 20 of the "
        "negative mentions posted (not after closing time, when only stragglers are answered).",
    )
    slow_max_age_s: int = Field(
        default=6 * 3600, ge=60, description="Awaited mentions are dropped after this long."
    )
    slow_max_waiting: int = Field(
        default=5000, ge=10,
        description="Bound on awaited mentions kept per brand (about 0.7 kB of memory and 43 "
        "bytes of the brand's snapshot each); beyond it the oldest are dropped from the "
        "measure, counted (veille_response_waiting_dropped_total).",
    )
    trends_window_s: int = Field(
        default=900, ge=60, description="Window of the emerging-terms detector (veille.trends)."
    )
    trends_sample_per_bucket: int = Field(
        default=20, ge=1,
        description="Mentions per bucket whose terms are counted (the first ones: a cheap, "
        "deterministic sample).",
    )
    trends_top_k: int = Field(default=10, ge=1, description="Terms per trend record.")
    trends_min_count: int = Field(
        default=5, ge=1, description="Least count of a term in the window to be emerging."
    )


class DetectionSettings(BaseModel):
    """Thresholds and time constants of the crisis detectors (event time, seconds)."""

    bucket_s: int = Field(default=60, ge=1, description="Event-time bucket length.")
    allowed_lateness_s: int = Field(
        default=30,
        ge=0,
        description="A bucket closes once the brand's event clock passes its end by this much; "
        "later mentions are counted as late (scored, not bucketed).",
    )
    max_future_s: int = Field(
        default=300,
        ge=0,
        description="Mentions stamped further than this after their Kafka record was produced "
        "are dead-lettered (a bad clock must not fast-forward a brand).",
    )
    max_gap_buckets: int = Field(
        default=10_080,
        ge=1,
        description="At most this many empty buckets are filled when a brand's clock jumps.",
    )
    warmup_s: int = Field(
        default=86_400,
        ge=0,
        description="Event time a brand's volume model learns before it may alert (a day by "
        "default, so the daily cycle is seen once; the demo uses an hour).",
    )
    watch_score: float = Field(
        default=SURGE_ON,
        description="Volume surge score that opens a watch. The score is log10 of the return "
        "period in days of a surge this size for this brand: 1 = rarer than once in 10 days.",
    )
    crisis_score: float = Field(
        default=SURGE_ON,
        description="Fused crisis score (negative-volume surge score x reach, when the burst "
        "is angrier than usual) that makes a crisis.",
    )
    silence_score: float = Field(
        default=SILENCE_ON, description="Silence CUSUM that opens a low-severity silence watch."
    )
    exit_ratio: float = Field(
        default=0.5, description="Hysteresis: a state is left below threshold x exit_ratio."
    )
    resolve_after_buckets: int = Field(
        default=10, ge=1, description="Quiet buckets in recovering before an incident resolves."
    )
    cooldown_buckets: int = Field(
        default=30,
        ge=0,
        description="After resolving, a new episode within this many buckets reopens the same "
        "incident instead of paging again.",
    )
    negative_shift_min: float = Field(
        default=0.15,
        description="A burst counts as angry when its negative share exceeds the brand's "
        "baseline share by at least this much.",
    )
    freeze_max_s: int = Field(
        default=6 * 3600,
        ge=0,
        description="While an incident is open the brand's baselines stop learning, so the "
        "crisis is measured against the brand before it; after this long they learn again "
        "(a lasting change of level becomes the new normal).",
    )
    high_reach_followers: int = Field(
        default=10_000, description="Authors with at least this many followers weigh as high reach."
    )
    risks: RiskSettings = Field(
        default_factory=RiskSettings,
        description="Limits of the risk detectors (hijack, impostor, raid, slow answers, trends).",
    )


class TopicSettings(BaseModel):
    """Kafka topic names: the contracts with producers and downstream services."""

    mentions: str = "veille.mentions"
    scored: str = "veille.mentions.scored"
    alerts: str = "veille.alerts"
    deadletter: str = "veille.deadletter"
    labels: str = "veille.labels"
    posts_outgoing: str = "veille.posts.outgoing"
    posts_reviewed: str = "veille.posts.reviewed"
    trends: str = "veille.trends"
    partitions: int = Field(default=8, ge=1, description="Partitions for topics veille creates.")
    replicas: int = Field(default=1, ge=1, description="Replication factor for created topics.")


class KafkaSecurity(BaseModel):
    """Client security, passed through to aiokafka/Faust unchanged. Secrets never get logged."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None


class Settings(BaseSettings):
    """Everything veille can be told. See the module docstring for the sources."""

    model_config = SettingsConfigDict(
        env_prefix="VEILLE_",
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
    )

    kafka_bootstrap: str = Field(
        default="",
        validation_alias=AliasChoices("kafka_bootstrap", "KAFKA_BOOTSTRAP", "VEILLE_KAFKA_BOOTSTRAP"),
        description="host:port[,host:port]. Empty: `veille demo` starts the embedded broker.",
    )
    broker_kind: Literal["auto", "tansu", "kafka"] = Field(
        default="auto",
        description="`tansu` applies the embedded broker's workarounds (fast group join, "
        "one record per producer batch); `auto` = tansu when veille started the broker itself.",
    )
    app_id: str = Field(default="veille", description="Faust app id = consumer group id.")
    data_dir: Path = Field(default=Path("var/worker"), description="Faust table/state directory.")
    metrics_host: str = Field(default="127.0.0.1", description="Bind address of /metrics.")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="0 = pick a free port.")
    web_port: int = Field(default=6066, ge=0, le=65535, description="Faust web port (0 = off).")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    batch_size: int = Field(default=500, ge=1, description="Mentions taken per agent batch.")
    snapshot_every_s: float = Field(
        default=10.0, gt=0, description="Model/state snapshot period (wall clock, I/O only)."
    )
    snapshot_max_bytes: int = Field(
        default=1_000_000, ge=10_000,
        description="Largest brand snapshot (compressed value and key) written to the "
        "brand-state changelog. The producer's max request size and the changelog topic's "
        "max.message.bytes (set when Faust creates it) are this plus 16 KiB. A larger "
        "snapshot is not written and its input partition is not committed until it fits "
        "(veille_brand_state_oversize_total). Raising it above ~1 MB on an existing Kafka "
        "topic needs its max.message.bytes raised too.",
    )
    max_text_chars: int = Field(default=10_000, ge=1, description="Longer texts are dead-lettered.")
    max_brands: int = Field(
        default=1_000, ge=1, description="Bound on tracked brands when `brands` is empty."
    )
    accept_unknown_brands: bool = Field(
        default=False,
        description="When brands are configured, mentions of other brands are dead-lettered "
        "unless this is true (then they are tracked up to max_brands).",
    )
    brands: list[BrandConfig] = Field(default_factory=list)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    security: KafkaSecurity = Field(default_factory=KafkaSecurity)

    @field_validator("brands")
    @classmethod
    def _unique_brand_names(cls, brands: list[BrandConfig]) -> list[BrandConfig]:
        names = [b.name for b in brands]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate brand names in {names}")
        return brands

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    def brand(self, name: str) -> BrandConfig | None:
        """The configured brand called ``name``, or None."""
        for b in self.brands:
            if b.name == name:
                return b
        return None

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict safe to log (secrets masked by pydantic's SecretStr)."""
        return self.model_dump(mode="json")


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ``VEILLE_SETTINGS_FILE`` (absent variable: no file)."""

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(SETTINGS_FILE_ENV)
        if not path:
            return {}
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"{SETTINGS_FILE_ENV}={path}: no such settings file")
        with p.open("rb") as fh:
            return tomllib.load(fh)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from env, an optional TOML file and keyword overrides.

    Parameters
    ----------
    path
        A TOML settings file; takes the place of ``VEILLE_SETTINGS_FILE`` for this call.
    overrides
        Field values that win over every other source.
    """
    if path is None:
        return Settings(**overrides)
    old = os.environ.get(SETTINGS_FILE_ENV)
    os.environ[SETTINGS_FILE_ENV] = str(path)
    try:
        return Settings(**overrides)
    finally:
        if old is None:
            del os.environ[SETTINGS_FILE_ENV]
        else:
            os.environ[SETTINGS_FILE_ENV] = old
