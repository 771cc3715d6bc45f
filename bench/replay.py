"""Offline replay speed: mentions per second through the worker's engine, and peak RSS.

Generates a simulated archive (``pipeline.simulate``, every scenario kind, so every detector
has work) into a temp JSONL file first, then times ``veille replay``'s offline loop over that
file alone (reading, batches of 500, the engine, alerts/series/summary outputs).
Goal (issue 8): >= 30,000 mentions/s on one core.

    .venv/bin/python bench/replay.py [--mentions 500000] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.replay import Archive, OfflineReplay  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.simulate import SimConfig, generate, write_jsonl  # noqa: E402

SCENARIOS = ["crisis:acme@30h*6", "launch:globex@20h", "raid:nordair@40h", "impostor:acme@12h",
             "hijack:globex@44h", "slow_response:nordair@8h", "noise_plateau:acme@50h"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mentions", type=int, default=500_000)
    ap.add_argument("--rate-scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="Keep the archive and outputs in this directory.")
    ap.add_argument("--json", action="store_true", help="Last line: one JSON object.")
    a = ap.parse_args()

    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="veille-bench-replay-"))
    work.mkdir(parents=True, exist_ok=True)
    archive = work / "archive.jsonl"
    t = time.perf_counter()
    cfg = SimConfig(start=datetime(2026, 1, 5, tzinfo=timezone.utc), duration_s=30 * 86400,
                    scenarios=SCENARIOS, seed=a.seed, rate_scale=a.rate_scale)
    mentions, _ = generate(cfg)
    n = write_jsonl(archive, itertools.islice(mentions, a.mentions))
    gen_s = time.perf_counter() - t
    print(f"archive: {n:,} mentions, {archive.stat().st_size / 1e6:.0f} MB, generated in "
          f"{gen_s:.0f} s ({archive})", file=sys.stderr)

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    settings = Settings(detection={"warmup_s": 6 * 3600})
    t = time.perf_counter()
    rep = OfflineReplay(settings, work / "out", source=str(archive))
    summary = rep.run(Archive(archive).records())
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = summary["records"] / dt
    print(f"replayed {summary['records']:,} mentions in {dt:.1f} s: {rate:,.0f} mentions/s; "
          f"peak RSS {rss:.0f} MB (before replay {rss0:.0f} MB, includes the generator); "
          f"{len(summary['incidents'])} incidents, {summary['alert_updates']} alert updates")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        print(orjson.dumps({"mentions_per_s": round(rate, 1), "peak_rss_mb": round(rss, 1),
                            "mentions": summary["records"], "seconds": round(dt, 2),
                            "incidents": len(summary["incidents"])}).decode())


if __name__ == "__main__":
    main()
