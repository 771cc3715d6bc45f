"""Offline replay: batches of raw records through the worker's engine, outputs to a directory.

:class:`OfflineReplay` runs the same :class:`~pipeline.engine.Engine` as the Faust worker, on
batches of raw records (500 by default, like the worker's agent), so the incidents are the ones
a live run would publish. It writes, into ``outdir``:

``alerts.jsonl``
    Every incident update, in order (the ``veille.alerts`` payloads).
``deadletters.jsonl``
    Every rejected record: reason, detail, the record (decoded, cut at 2,000 characters).
``scored.jsonl.gz``
    The scored mentions (``veille.mentions.scored`` payloads), only with ``scored=True``.
``series.json``
    Per brand, one row per closed bucket: ``t, observed, expected, lower, upper, score,
    negative_share, negative_baseline, crisis_score, level`` (columnar), from the watches'
    ``on_bucket`` observer.
``terms.json``
    Per brand, the most frequent evidence terms over the whole replay (the evidence's sample
    of up to 200 texts per bucket).
``samples.json``
    Texts of the mentions the alerts cite (``sample_mention_ids``), for the report.
``summary.json``
    Counts (``records`` = ``mentions`` + ``duplicates`` + dead letters; an archive's blank
    lines are not records: ``blank_lines``), dead letters by reason, per-brand figures, the
    incidents
    (:func:`pipeline.replay.summary.incidents`), the settings used and the speed.

Examples
--------
>>> import orjson, tempfile
>>> from pipeline.settings import Settings
>>> r = OfflineReplay(Settings(), tempfile.mkdtemp())
>>> r.process([orjson.dumps({"id": "1", "created_at": "2026-01-05T10:00:00Z", "brand": "acme",
...            "text": "@acme hi", "author": {"id": "u", "handle": "bob"}}), b"{oops"])
>>> s = r.finish()
>>> s["mentions"], s["deadletters"], s["incidents"]
(1, {'invalid_json': 1}, [])
"""

from __future__ import annotations

import gzip
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import islice, repeat
from operator import add
from pathlib import Path
from typing import IO, Any

import orjson

from pipeline.engine import Engine, batch_gc
from pipeline.replay.outdir import clear_outputs
from pipeline.replay.summary import incidents
from pipeline.settings import Settings
from pipeline.watch import BucketReport

_dict_update = dict.update  # a Counter's own update would count the pairs

SERIES_COLUMNS = ("t", "observed", "expected", "lower", "upper", "score", "negative_share",
                  "negative_baseline", "crisis_score", "level")
BATCH = 500
#: Distinct terms kept per brand for terms.json (pruned to half when exceeded).
MAX_TERMS = 20_000


class OfflineReplay:
    """Replay raw records through a fresh engine; see the module docstring.

    Parameters
    ----------
    settings
        The settings (thresholds, brands) the engine runs with.
    outdir
        Output directory (created); a previous run's files there are removed first
        (:func:`pipeline.replay.outdir.clear_outputs`), so no output of it outlives this run.
    scored
        Also write the scored mentions (slower: one more JSON line per mention).
    source
        A description of the input, kept in the summary.
    """

    def __init__(self, settings: Settings, outdir: str | Path, *, scored: bool = False,
                 source: str = "") -> None:
        self.settings = settings
        self.outdir = Path(outdir)
        self.outdir.mkdir(parents=True, exist_ok=True)
        clear_outputs(self.outdir)
        self.source = source
        self.engine = Engine(settings)
        self.engine.on_bucket = self._on_bucket
        self.engine.scored_output = scored  # not built when not written
        self.series: dict[str, dict[str, list]] = {}
        self.terms: dict[str, Counter[str]] = {}
        self.alerts: list[dict[str, Any]] = []
        self.samples: dict[str, dict[str, Any]] = {}
        self.deadletters: Counter[str] = Counter()
        self.per_brand: Counter[str] = Counter()
        self.negative: Counter[str] = Counter()
        self.late: Counter[str] = Counter()
        self.records = 0
        #: Blank lines of the input file (not records: set by the caller, reported in the
        #: summary so that its lines add up)
        self.blank_lines = 0
        self.duplicates = 0
        self.reviews = 0
        self._alerts_fh: IO[bytes] = open(self.outdir / "alerts.jsonl", "wb")
        self._dead_fh: IO[bytes] = open(self.outdir / "deadletters.jsonl", "wb")
        self._scored_fh: IO[bytes] | None = (
            gzip.open(self.outdir / "scored.jsonl.gz", "wb", compresslevel=3) if scored else None
        )
        self._started = time.perf_counter()

    # ------------------------------------------------------------------ hooks
    def _on_bucket(self, r: BucketReport) -> None:
        s = self.series.get(r.brand)
        if s is None:
            s = self.series[r.brand] = {c: [] for c in SERIES_COLUMNS}
        v = r.volume
        s["t"].append(v.t)
        s["observed"].append(v.observed)
        s["expected"].append(round(v.expected, 3))
        s["lower"].append(round(v.lower, 3))
        s["upper"].append(round(v.upper, 3))
        s["score"].append(round(v.score, 3))
        s["negative_share"].append(round(r.negative_share, 4))
        s["negative_baseline"].append(round(r.negative_baseline, 4))
        s["crisis_score"].append(round(r.crisis_score, 3))
        s["level"].append(r.level)
        watch = self.engine.watches.get(r.brand)
        if watch is not None and watch.recent:
            terms = watch.recent[-1].terms  # the bucket just closed
            if terms:
                c = self.terms.get(r.brand)
                if c is None:
                    c = self.terms[r.brand] = Counter()
                # c.update(terms) without its Python loop: each term's new count (old + the
                # bucket's), summed and stored in C; new terms go last in the bucket's order
                keys = terms.keys()
                _dict_update(c, zip(keys, map(add, map(c.get, keys, repeat(0)), terms.values())))
                if len(c) > MAX_TERMS:
                    self.terms[r.brand] = Counter(dict(c.most_common(MAX_TERMS // 2)))

    # ------------------------------------------------------------------ intake
    def process(self, records: Sequence[bytes], record_ts: Sequence[float] | None = None) -> None:
        """One batch of raw records (with their Kafka timestamps when read from a topic)."""
        out = self.engine.process(records, record_ts)
        self.records += len(records)
        self.duplicates += out.duplicates
        self.reviews += len(out.reviews)
        for (brand, _lang, label), n in out.counts.items():
            self.per_brand[brand] += n
            if label == "negative":
                self.negative[brand] += n
        self.late.update(out.late)
        if out.rejected:
            dumps = orjson.dumps
            for i, rej in out.rejected:
                self.deadletters[rej.reason] += 1
                raw = records[i]
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else repr(raw)
                self._dead_fh.write(dumps({"reason": rej.reason, "detail": rej.detail,
                                           "record": text[:2000]}) + b"\n")
        if out.alerts:
            recent_text = self.engine.recent_text
            for a in out.alerts:
                d = a.model_dump(mode="json")
                self.alerts.append(d)
                self._alerts_fh.write(orjson.dumps(d) + b"\n")
                for mid in a.sample_mention_ids:
                    known = None if mid in self.samples else recent_text(mid)
                    if known is not None:
                        self.samples[mid] = {"id": mid, "brand": a.brand, "text": known[0],
                                             "lang": known[1]}
        if self._scored_fh is not None and out.scored:
            dumps = orjson.dumps
            self._scored_fh.write(b"".join(dumps(s) + b"\n" for s in out.scored))

    def feed(self, records: Iterable[bytes], batch: int = BATCH,
             on_batch: Callable[[int], None] | None = None) -> None:
        """Process an iterable of raw records in batches.

        ``on_batch`` is called with the records processed so far after each batch.
        """
        it = iter(records)
        with batch_gc():
            while buf := list(islice(it, batch)):
                self.process(buf)
                if on_batch is not None:
                    on_batch(self.records)

    def run(self, records: Iterable[bytes], batch: int = BATCH,
            on_batch: Callable[[int], None] | None = None) -> dict[str, Any]:
        """:meth:`feed`, then :meth:`finish`."""
        self.feed(records, batch, on_batch)
        return self.finish()

    # ------------------------------------------------------------------ outputs
    def finish(self) -> dict[str, Any]:
        """Close the files, write series, terms, samples and the summary; return the summary."""
        elapsed = time.perf_counter() - self._started
        self._alerts_fh.close()
        self._dead_fh.close()
        if self._scored_fh is not None:
            self._scored_fh.close()
        opt = orjson.OPT_SERIALIZE_NUMPY
        (self.outdir / "series.json").write_bytes(orjson.dumps(
            {"bucket_s": self.settings.detection.bucket_s, "columns": list(SERIES_COLUMNS),
             "brands": self.series}, option=opt))
        (self.outdir / "terms.json").write_bytes(orjson.dumps(
            {b: [{"term": t, "count": n} for t, n in c.most_common(40)]
             for b, c in self.terms.items()}))
        (self.outdir / "samples.json").write_bytes(orjson.dumps(self.samples))
        mentions = sum(self.per_brand.values())
        incs = incidents(self.alerts, self.series)
        brands = {}
        for b in sorted(set(self.per_brand) | set(self.series)):
            s = self.series.get(b, {"t": []})
            brands[b] = {
                "mentions": self.per_brand[b],
                "negative": self.negative[b],
                "late": self.late[b],
                "first_bucket": s["t"][0] if s["t"] else None,
                "last_bucket": s["t"][-1] if s["t"] else None,
                "incidents": sum(1 for i in incs if i["brand"] == b),
                "slow_waiting_dropped": _waiting_dropped(self.engine.watches.get(b)),
            }
        summary = {
            "source": self.source,
            "records": self.records,
            "blank_lines": self.blank_lines,
            "mentions": mentions,
            "duplicates": self.duplicates,
            "own_post_reviews": self.reviews,
            "deadletters": dict(sorted(self.deadletters.items())),
            "late": sum(self.late.values()),
            "alert_updates": len(self.alerts),
            "brands": brands,
            "incidents": incs,
            "elapsed_s": round(elapsed, 3),
            "mentions_per_s": round(self.records / elapsed, 1) if elapsed > 0 else None,
            "settings": _settings_doc(self.settings),
        }
        (self.outdir / "summary.json").write_bytes(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
        return summary


def _waiting_dropped(watch: Any) -> int:
    """Awaited mentions the brand's slow-answer detector dropped (``slow_max_waiting`` full)."""
    dets = watch.detectors if watch is not None else ()
    return sum(getattr(det, "waiting_dropped", 0) for det in dets)


def _settings_doc(settings: Settings) -> dict[str, Any]:
    """The settings that change what replay finds (no connection details)."""
    d = settings.redacted()
    return {k: d[k] for k in ("detection", "brands", "accept_unknown_brands", "max_brands",
                              "max_text_chars")}


def load_run(outdir: str | Path) -> dict[str, Any]:
    """Read a replay's output directory: summary, alerts, series, terms, samples."""
    p = Path(outdir)
    if not (p / "summary.json").is_file():
        raise FileNotFoundError(f"{p}: not a replay output directory (no summary.json; a "
                                "replay writes it last, so an interrupted one has none)")
    f = p / "summary.json"
    try:
        run = {"summary": orjson.loads(f.read_bytes())}
        f = p / "alerts.jsonl"
        run["alerts"] = ([orjson.loads(x) for x in f.read_bytes().splitlines() if x.strip()]
                         if f.is_file() else [])
        for name in ("series", "terms", "samples"):
            f = p / f"{name}.json"
            run[name] = orjson.loads(f.read_bytes()) if f.is_file() else {}
    except orjson.JSONDecodeError as exc:  # an interrupted or edited run: say which file
        raise ValueError(f"{f}: not valid JSON ({exc}); replay again to rebuild {p}") from exc
    return run
