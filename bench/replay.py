"""Offline replay speed: mentions per second through the worker's engine, and peak RSS.

Generates a simulated archive (``pipeline.simulate``, every scenario kind, so every detector
has work) into a temp JSONL file first, then times ``veille replay``'s offline loop over that
file alone (reading, batches of 500, the engine, alerts/series/summary outputs).
Goal (issue 8): >= 30,000 mentions/s on one core.

Prints wall-clock and CPU-time rates (on a shared machine the CPU-time one is the steadier),
and peak RSS. ``--cpu N`` pins the process to core N; ``--archive FILE`` replays an existing
JSONL archive instead of generating one; ``--profile FILE`` writes a cProfile of the replay.

    .venv/bin/python bench/replay.py [--mentions 500000] [--cpu 1] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
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
    ap.add_argument("--cpu", type=int, help="Pin the process to this core.")
    ap.add_argument("--archive", help="Replay this JSONL archive instead of generating one.")
    ap.add_argument("--profile", help="Write a cProfile of the replay to this file.")
    ap.add_argument("--json", action="store_true", help="Last line: one JSON object.")
    a = ap.parse_args()
    if a.cpu is not None:
        os.sched_setaffinity(0, {a.cpu})

    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="veille-bench-replay-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.archive:
        archive = Path(a.archive)
    else:
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
    profiler = cProfile.Profile() if a.profile else None
    t, cpu = time.perf_counter(), time.process_time()
    rep = OfflineReplay(settings, work / "out", source=str(archive))
    if profiler is not None:
        profiler.enable()
    summary = rep.run(Archive(archive).records())
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(a.profile)
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate, cpu_rate = summary["records"] / dt, summary["records"] / cpu
    print(f"replayed {summary['records']:,} mentions in {dt:.1f} s: {rate:,.0f} mentions/s "
          f"({cpu_rate:,.0f} per CPU second); peak RSS {rss:.0f} MB (before replay "
          f"{rss0:.0f} MB{'' if a.archive else ', the generator included'}); "
          f"{len(summary['incidents'])} incidents, "
          f"{summary['alert_updates']} alert updates")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        print(orjson.dumps({"mentions_per_s": round(rate, 1),
                            "mentions_per_cpu_s": round(cpu_rate, 1),
                            "peak_rss_mb": round(rss, 1), "rss_before_mb": round(rss0, 1),
                            "mentions": summary["records"], "seconds": round(dt, 2),
                            "cpu_seconds": round(cpu, 2),
                            "incidents": len(summary["incidents"])}).decode())


if __name__ == "__main__":
    main()
