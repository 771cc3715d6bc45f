"""Files and pacing: JSONL (optionally gzip) writing/reading, ground truth JSON, wall-clock pacing.

:class:`Pacer` is the one place of ``pipeline/`` allowed to look at the wall clock.

Examples
--------
>>> import tempfile, os
>>> rows = [{"id": "1", "created_at": "2026-01-05T10:00:00.000Z"}]
>>> d = tempfile.mkdtemp()
>>> write_jsonl(os.path.join(d, "m.jsonl.gz"), rows)
1
>>> list(read_jsonl(os.path.join(d, "m.jsonl.gz"))) == rows
True
>>> p = Pacer(speedup=None)          # as fast as possible
>>> list(p.pace(rows)) == rows
True
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from pipeline.simulate.clock import parse_ts


def _open(path: str | Path, mode: str) -> IO[bytes]:
    p = str(path)
    if p.endswith(".gz"):
        return gzip.open(p, mode + "b", compresslevel=5)  # type: ignore[return-value]
    return open(p, mode + "b")


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    """Write one orjson line per record (gzip when ``path`` ends with ``.gz``); return the count."""
    n = 0
    dumps = orjson.dumps
    with _open(path, "w") as fh:
        buf: list[bytes] = []
        for rec in records:
            buf.append(dumps(rec))
            n += 1
            if len(buf) >= 4096:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")
    return n


def read_jsonl(path: str | Path) -> Iterator[dict]:
    """Records of a JSONL file (gzip when ``path`` ends with ``.gz``); blank lines skipped."""
    with _open(path, "r") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def write_ground_truth(path: str | Path, truth: list[dict[str, Any]]) -> None:
    """Write the ground truth list as indented JSON."""
    Path(path).write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")


def read_ground_truth(path: str | Path) -> list[dict[str, Any]]:
    """Read a ground truth file written by :func:`write_ground_truth`."""
    return orjson.loads(Path(path).read_bytes())


def to_models(records: Iterable[dict]) -> Iterator[Any]:
    """Validate wire dicts into :class:`pipeline.schemas.Mention` models (slow path)."""
    from pipeline.schemas import Mention

    for rec in records:
        yield Mention.model_validate(rec)


class Pacer:
    """Release records at a wall-clock pace.

    Parameters
    ----------
    speedup
        Event seconds per wall second (60 = one event minute per second); None = no time
        pacing.
    rate
        Cap on records per wall second; None = no cap. Both may be combined.
    live_from
        Event time (epoch seconds, ISO string or datetime) before which records are released
        as fast as possible (the warm-up history); default: pace from the first record.
    clock, sleep
        Injected for tests (default ``time.monotonic``/``time.sleep``).
    """

    def __init__(
        self,
        speedup: float | None = 60.0,
        rate: float | None = None,
        live_from: float | str | datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if speedup is not None and speedup <= 0:
            raise ValueError("speedup must be > 0 (or None)")
        if rate is not None and rate <= 0:
            raise ValueError("rate must be > 0 (or None)")
        self.speedup = speedup
        self.rate = rate
        self.live_from = None if live_from is None else parse_ts(live_from)
        self.clock = clock
        self.sleep = sleep
        self._wall0: float | None = None
        self._ev0 = 0.0
        self._next = 0.0

    def delay(self, ts: float) -> float:
        """Seconds to wait before releasing the record at event time ``ts`` (0 = now).

        Advances the pacer as if the record were released when due; async callers sleep
        this long with ``asyncio.sleep``.
        """
        if self.live_from is not None and ts < self.live_from:
            return 0.0
        now = self.clock()
        due = now
        if self.speedup is not None:
            if self._wall0 is None:
                self._wall0 = now
                self._ev0 = self.live_from if self.live_from is not None else ts
            due = self._wall0 + (ts - self._ev0) / self.speedup
        if self.rate is not None:
            due = max(due, self._next)
            self._next = max(due, now) + 1.0 / self.rate
        return due - now if due - now > 0.002 else 0.0

    def wait(self, ts: float) -> None:
        """Block until the record at event time ``ts`` is due."""
        pause = self.delay(ts)
        if pause:
            self.sleep(pause)

    def pace(self, records: Iterable[dict]) -> Iterator[dict]:
        """Yield ``records`` (wire dicts with ``created_at``) when due."""
        if self.speedup is None and self.rate is None:
            yield from records
            return
        for rec in records:
            self.wait(parse_ts(rec["created_at"]))
            yield rec
