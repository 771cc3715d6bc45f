"""Archives of mentions as raw wire records: JSONL (optionally gzip) and CSV, with adapters.

Replay feeds the engine the same thing the worker gets from Kafka: one raw record (bytes) per
mention. A JSONL archive already in veille's ``Mention`` shape is passed through line by line,
untouched (fast path, and a bad line is dead-lettered with the same reason as in the worker).
Other shapes go through an *adapter*, a function from the archive's dict to a ``Mention`` dict.

Adapters
--------
``mention``
    veille's own shape (``veille simulate --out``, an export of ``veille.mentions``). In CSV,
    author fields are flat columns ``author.id`` / ``author_id``, ``author.handle``, ...
``airline``
    The Twitter US Airline Sentiment set (CrowdFlower, Feb 2015): the JSONL of
    ``../shared/data/sentiment/airline_us`` (``id, text, created_at, airline, ...``) or the
    original Kaggle ``Tweets.csv`` (``tweet_id, airline, name, text, tweet_created, ...``).
    The brand is the ``airline`` column with the source's quirk fixed (``Delta`` is really
    JetBlue); the set has no authors, so each tweet gets a synthetic one (its ``name`` column
    as handle when the CSV has it); kind ``mention``, language ``en``; ``created_at`` keeps
    its UTC offset. The crowd's sentiment label is ignored (veille scores its own).
``auto``
    ``airline`` when the first record has an ``airline`` column and no ``author``, else
    ``mention``.

Examples
--------
>>> airline({"id": "5675", "text": "@JetBlue late again", "airline": "Delta",
...          "created_at": "2015-02-16T23:43:02-08:00"})["brand"]
'JetBlue'
>>> airline({"tweet_id": 1, "text": "x", "airline": "United", "name": "bob",
...          "tweet_created": "2015-02-24 11:35:52 -0800"})["created_at"]
'2015-02-24T11:35:52-08:00'
>>> detect_adapter({"id": "1", "airline": "United", "text": "x"})
'airline'
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

#: The airline set's known brand mix-up: its "Delta" rows mention @JetBlue (see its README).
AIRLINE_BRAND_FIX = {"Delta": "JetBlue"}


def mention(obj: dict[str, Any]) -> dict[str, Any]:
    """veille's own shape: unchanged (flat CSV author columns are nested)."""
    if "author" in obj:
        return obj
    author: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for k, v in obj.items():
        if k.startswith(("author.", "author_")):
            author[k[7:]] = v
        else:
            rest[k] = v
    if author:
        rest["author"] = author
    return rest


def _airline_time(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 20 and value[10] == " ":
        try:  # Kaggle CSV: "2015-02-24 11:35:52 -0800"
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z").isoformat()
        except ValueError:
            return value
    return value


def airline(obj: dict[str, Any]) -> dict[str, Any]:
    """Twitter US Airline Sentiment record -> ``Mention`` dict (see the module docstring).

    Missing fields stay missing, so the engine dead-letters the record with the usual reason.
    """
    tid = obj.get("id", obj.get("tweet_id"))
    src = obj.get("airline") or obj.get("brand")
    out: dict[str, Any] = {"kind": "mention", "lang": obj.get("lang") or "en"}
    if tid is not None:
        tid = str(tid)
        out["id"] = tid
        handle = obj.get("name") or f"airline_customer_{tid}"
        out["author"] = {"id": f"airline:{tid}", "handle": str(handle)}
    if src:
        out["brand"] = AIRLINE_BRAND_FIX.get(src, src)
    created = obj.get("created_at", obj.get("tweet_created"))
    if created is not None:
        out["created_at"] = _airline_time(created)
    if "text" in obj:
        out["text"] = obj["text"]
    return out


ADAPTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "mention": mention,
    "airline": airline,
}


def detect_adapter(obj: Any) -> str:
    """Adapter name for an archive whose first record is ``obj``."""
    if isinstance(obj, dict) and "airline" in obj and "author" not in obj:
        return "airline"
    return "mention"


def archive_format(path: str | Path) -> str:
    """``jsonl`` or ``csv`` from the file name (``.gz`` allowed)."""
    name = str(path).lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise ValueError(f"{path}: unknown archive format (expected .jsonl, .ndjson or .csv, "
                     "optionally .gz)")


class ArchiveError(ValueError):
    """An archive that cannot be read as a whole (not gzip, truncated, corrupt): the message
    names the file and how far it was read. A bad *record* is not one: it is dead-lettered."""


class Archive:
    """A file of mentions, read as raw wire records in file order.

    Parameters
    ----------
    path
        ``.jsonl`` / ``.ndjson`` / ``.csv``, optionally ``.gz``.
    adapter
        ``auto``, ``mention`` or ``airline`` (see the module docstring).

    Attributes
    ----------
    size
        Bytes on disk; :meth:`position` says how many have been read (for progress and ETA).
    blank_lines
        Blank (or whitespace-only) lines met by the last :meth:`records`: not records, so
        neither processed nor dead-lettered, but counted (the replay summary reports them).
    """

    def __init__(self, path: str | Path, adapter: str = "auto") -> None:
        self.path = Path(path)
        self.format = archive_format(self.path)
        if adapter != "auto" and adapter not in ADAPTERS:
            raise ValueError(f"unknown adapter {adapter!r}: auto, {', '.join(ADAPTERS)}")
        self.adapter = adapter
        self.size = self.path.stat().st_size
        self.blank_lines = 0
        self._raw: IO[bytes] | None = None

    def position(self) -> int:
        """Bytes of the file read so far."""
        try:
            return self._raw.tell() if self._raw is not None else 0
        except (ValueError, OSError):
            return self.size

    def _resolve(self, first: Any) -> str:
        if self.adapter == "auto":
            self.adapter = detect_adapter(first)
        return self.adapter

    def records(self) -> Iterator[bytes]:
        """Raw wire records (bytes), in file order; blank lines skipped, counted in
        :attr:`blank_lines`.

        Raises
        ------
        ArchiveError
            When the file itself cannot be read on (not gzip, truncated, corrupt).
        """
        raw = self._raw = open(self.path, "rb")
        self.blank_lines = 0
        try:
            fh: IO[bytes] = gzip.GzipFile(fileobj=raw) if self.path.name.endswith(".gz") else raw
            if self.format == "jsonl":
                yield from self._jsonl(fh)
            else:
                yield from self._csv(fh)
        except (OSError, EOFError, zlib.error, csv.Error) as exc:  # BadGzipFile is an OSError
            raise ArchiveError(f"{self.path}: unreadable at byte {self.position():,} of "
                               f"{self.size:,}, truncated or corrupt ({type(exc).__name__}: "
                               f"{exc})") from exc
        finally:
            raw.close()

    def dicts(self) -> Iterator[dict[str, Any] | bytes]:
        """Records as ``Mention`` dicts (bytes when a line is not a JSON object)."""
        loads = orjson.loads
        for rec in self.records():
            try:
                obj = loads(rec)
            except orjson.JSONDecodeError:
                yield rec
                continue
            yield obj if isinstance(obj, dict) else rec

    def _lines(self, fh: IO[bytes]) -> Iterator[bytes]:
        """The file's lines, stripped; blank ones counted in :attr:`blank_lines`, not yielded."""
        for line in fh:
            line = line.strip()
            if line:
                yield line
            else:
                self.blank_lines += 1

    def _jsonl(self, fh: IO[bytes]) -> Iterator[bytes]:
        lines = self._lines(fh)
        first = next(lines, None)
        if first is None:
            return
        try:
            head = orjson.loads(first)
        except orjson.JSONDecodeError:
            head = None
        name = self._resolve(head)
        if name == "mention":  # fast path: the engine decodes the line itself
            yield first
            yield from lines
            return
        adapt, loads, dumps = ADAPTERS[name], orjson.loads, orjson.dumps
        for ln in itertools.chain((first,), lines):
            try:
                obj = loads(ln)
            except orjson.JSONDecodeError:
                yield ln  # dead-lettered as invalid_json, as the worker would
                continue
            yield dumps(adapt(obj)) if isinstance(obj, dict) else ln

    def _csv(self, fh: IO[bytes]) -> Iterator[bytes]:
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline="")
        dumps = orjson.dumps
        header: list[str] | None = None
        adapt = None
        for row in csv.reader(text):  # csv.DictReader's reading, blank lines counted
            if not row:
                self.blank_lines += 1
                continue
            if header is None:
                header = row
                continue
            obj = {k: v for k, v in zip(header, row) if k and v != ""}
            if adapt is None:
                adapt = ADAPTERS[self._resolve(obj)]
            yield dumps(_typed(adapt(obj)))


def _typed(obj: dict[str, Any]) -> dict[str, Any]:
    """CSV cells are strings: give author counts and flags their JSON types."""
    author = obj.get("author")
    if isinstance(author, dict):
        f = author.get("followers")
        if isinstance(f, str):
            try:
                author["followers"] = int(float(f))
            except ValueError:
                pass
        v = author.get("verified")
        if isinstance(v, str):
            author["verified"] = v.strip().lower() in ("1", "true", "yes")
    return obj
