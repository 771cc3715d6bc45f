"""Brand snapshot bench: size of each brand's snapshot and the cost of encoding it.

Usage::

    .venv/bin/python bench/snapshots.py [--hours 36] [--rate-scale 1] [--json]

The README's simulated stream (``veille simulate --hours 36 --scenario crisis:acme@30h``, the
demo brands as in ``docs/simulated-brands.toml``) runs offline through
:class:`pipeline.engine.Engine` in batches of 500; every 20,000 records each brand's snapshot
JSON (:func:`agents.snapshots.snapshot_json`, what the worker writes to the ``brand-state``
changelog) is measured. At each brand's peak: the JSON size, its size compressed by zlib at
levels 1 (the worker's, :data:`agents.snapshots.ZLIB_LEVEL`), 6 and 9, and the CPU
milliseconds (thread time, median of 20) of ``to_state`` + JSON, of each compression and of
decoding. ``--rate-scale 2`` makes every brand twice as busy.

With ``--json`` the last line is ``{"records": n, "brands": {brand: {"json_bytes",
"peak_at_record", "zlib": {level: {"bytes", "ratio", "ms"}}, "encode_ms", "decode_ms"}}}``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.snapshots import decode_snapshot, pack, snapshot_json  # noqa: E402
from pipeline.engine import Engine  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.simulate import DEMO_BRANDS, SimConfig, generate  # noqa: E402

EVERY = 20_000
LEVELS = (1, 6, 9)


def cpu_ms(fn: Any, n: int = 20) -> float:
    """Median thread time of ``fn()`` in milliseconds."""
    times = []
    for _ in range(n):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return statistics.median(times) * 1e3


def run(hours: float, rate_scale: float) -> dict[str, Any]:
    """Peak snapshot of each brand over the simulated stream, and its costs."""
    cfg = SimConfig(start=datetime(2026, 1, 6, tzinfo=timezone.utc), duration_s=hours * 3600,
                    scenarios=["crisis:acme@30h"], rate_scale=rate_scale)
    mentions, _truth = generate(cfg)
    engine = Engine(Settings(brands=list(DEMO_BRANDS)))
    it = (orjson.dumps(m) for m in mentions)
    n, peak = 0, {}
    while batch := list(islice(it, 500)):
        engine.process(batch)
        n += len(batch)
        if n % EVERY < len(batch):
            for brand, watch in engine.watches.items():
                state = watch.to_state()
                raw = snapshot_json(0, n, state)
                if len(raw) > len(peak.get(brand, (b"",))[0]):
                    peak[brand] = (raw, n, state)
    out: dict[str, Any] = {}
    for brand, (raw, at, state) in sorted(peak.items()):
        levels = {}
        for level in LEVELS:
            z = zlib.compress(raw, level)
            levels[str(level)] = {"bytes": len(z), "ratio": round(len(raw) / len(z), 2),
                             "ms": round(cpu_ms(lambda: zlib.compress(raw, level)), 2)}
        value = pack(raw)
        out[brand] = {
            "json_bytes": len(raw), "peak_at_record": at, "zlib": levels,
            "encode_ms": round(cpu_ms(lambda: snapshot_json(0, at, state)), 2),
            "decode_ms": round(cpu_ms(lambda: decode_snapshot(value)), 2),
        }
    return {"records": n, "hours": hours, "rate_scale": rate_scale, "brands": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=36.0)
    ap.add_argument("--rate-scale", type=float, default=1.0)
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    a = ap.parse_args()
    res = run(a.hours, a.rate_scale)
    print(f"{res['records']:,} records, {a.hours:g} h, rate x{a.rate_scale:g}")
    for brand, r in res["brands"].items():
        z = "  ".join(f"zlib{lv} {v['bytes']:,} B (x{v['ratio']}, {v['ms']} ms)"
                      for lv, v in r["zlib"].items())
        print(f"{brand:10s} JSON {r['json_bytes']:,} B at record {r['peak_at_record']:,} "
              f"(to_state+JSON {r['encode_ms']} ms, decode {r['decode_ms']} ms)  {z}")
    if a.json:
        print(orjson.dumps(res).decode())


if __name__ == "__main__":
    main()
