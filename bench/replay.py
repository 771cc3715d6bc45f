"""Offline replay speed: mentions per second through the worker's engine, and peak RSS.

Generates a simulated archive (``pipeline.simulate``, every scenario kind, so every detector
has work) into a temp JSONL file first, then times ``veille replay``'s offline loop over that
file alone (reading, batches of 500, the engine, alerts/series/summary outputs).
Goal (issue 8): >= 30,000 mentions/s on one core.

The brands are configured as a deployment would configure them (``brands`` in the settings):
the simulator's own :data:`~pipeline.simulate.brands.DEMO_BRANDS`, as ``veille demo`` does, so
the brands' own accounts (acmehelp, nordair_help, globexcares...) are theirs, not impostors,
and their replies are answers (the slow-answer detector measures them: it costs CPU).
``--no-brands`` replays with no brand configured (every brand accepted, no own handles), as
this bench did before: brand accounts flagged as impostors of their own brand, no answers.

Prints wall-clock and CPU-time rates (on a shared machine the CPU-time one is the steadier),
and peak RSS. ``--cpu N`` pins the process to core N; ``--archive FILE`` replays an existing
JSONL archive instead of generating one; ``--profile FILE`` writes a cProfile of the replay;
``--rss-every N`` prints the current RSS every N mentions (is memory flat once warm?);
``--keep A --parity`` in one worktree then ``--keep B --compare A`` in another checks that both
give the same outputs (parity of a change that must not change results).

    .venv/bin/python bench/replay.py [--mentions 500000] [--cpu 1] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from typing import Any
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.replay import Archive, OfflineReplay  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.simulate import SimConfig, generate, write_jsonl  # noqa: E402
from pipeline.simulate.brands import DEMO_BRANDS  # noqa: E402

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
    ap.add_argument("--parity", action="store_true",
                    help="Also write the scored mentions and the engine's snapshot (slower), "
                    "for a later --compare.")
    ap.add_argument("--compare", metavar="DIR",
                    help="Parity: also write the scored mentions and the engine's snapshot, "
                    "then compare every output with those of a run kept in DIR (--keep DIR "
                    "--parity, same archive; e.g. from a worktree without the change). Exit 1 if any "
                    "differs.")
    ap.add_argument("--rss-every", type=int, metavar="N",
                    help="Print the current RSS (MB) every N mentions (to stderr; --json also "
                    "lists them).")
    ap.add_argument("--no-brands", action="store_true",
                    help="Configure no brand (the simulated brands' own handles then look like "
                    "impostors), as before the brands were configured.")
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
    settings = Settings(brands=[] if a.no_brands else DEMO_BRANDS,
                        detection={"warmup_s": 6 * 3600})
    profiler = cProfile.Profile() if a.profile else None
    t, cpu = time.perf_counter(), time.process_time()
    parity = bool(a.compare) or a.parity
    rep = OfflineReplay(settings, work / "out", source=str(archive), scored=parity)
    rss_at: list[tuple[int, float]] = []

    def on_batch(done: int) -> None:
        if rss_at and done - rss_at[-1][0] < a.rss_every:
            return
        rss_at.append((done, current_rss_mb()))
        print(f"  {done:>10,} mentions: RSS {rss_at[-1][1]:.0f} MB", file=sys.stderr)

    if profiler is not None:
        profiler.enable()
    summary = rep.run(Archive(archive).records(), on_batch=on_batch if a.rss_every else None)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(a.profile)
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if parity:
        (work / "out" / "state.json").write_bytes(
            orjson.dumps(rep.engine.to_state(), option=orjson.OPT_SERIALIZE_NUMPY))
    rate, cpu_rate = summary["records"] / dt, summary["records"] / cpu
    print(f"replayed {summary['records']:,} mentions in {dt:.1f} s: {rate:,.0f} mentions/s "
          f"({cpu_rate:,.0f} per CPU second); peak RSS {rss:.0f} MB (before replay "
          f"{rss0:.0f} MB{'' if a.archive else ', the generator included'}); "
          f"{len(summary['incidents'])} incidents, "
          f"{summary['alert_updates']} alert updates")
    found = compare(work / "out", Path(a.compare) / "out") if a.compare else []
    differ = [name for name in found if not name.endswith("(added fields)")]
    if a.compare:
        print(f"parity with {a.compare}: " + (f"DIFFERENT {differ}" if differ else
              "alerts, dead letters, scored mentions, series, terms, samples, summary "
              "(timings aside) and engine snapshot identical")
              + "".join(f"; {name}" for name in found if name not in differ))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        print(orjson.dumps({"mentions_per_s": round(rate, 1),
                            "mentions_per_cpu_s": round(cpu_rate, 1),
                            "peak_rss_mb": round(rss, 1), "rss_before_mb": round(rss0, 1),
                            "mentions": summary["records"], "seconds": round(dt, 2),
                            "cpu_seconds": round(cpu, 2),
                            "incidents": len(summary["incidents"]),
                            "rss_mb_at": [[n, round(r, 1)] for n, r in rss_at],
                            "parity": None if not a.compare else not differ}).decode())
    if differ:
        sys.exit(1)


def current_rss_mb() -> float:
    """This process's resident set size now, in MB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def compare(new: Path, old: Path) -> list[str]:
    """Names of the replay outputs that differ between two output directories.

    An output whose records only gained fields (every old value the same, new keys beside
    them) is listed as ``"name (added fields)"``; it does not break parity.
    """
    differ = []
    for name in ("alerts.jsonl", "deadletters.jsonl", "series.json", "terms.json",
                 "samples.json", "state.json", "scored.jsonl.gz", "summary.json"):
        a, b = new / name, old / name
        if not (a.is_file() and b.is_file()):
            differ.append(f"{name} (missing)")
            continue
        x, y = a.read_bytes(), b.read_bytes()
        if name.endswith(".gz"):
            x, y = gzip.decompress(x), gzip.decompress(y)
        if x == y:
            continue
        if ".jsonl" in name:  # one JSON record per line (gzip or not)
            xs, ys = ([orjson.loads(line) for line in z.splitlines() if line.strip()]
                      for z in (x, y))
        else:
            xs, ys = orjson.loads(x), orjson.loads(y)
        if name == "summary.json":  # its timings differ from run to run
            xs, ys = ({k: v for k, v in z.items()
                       if k not in ("elapsed_s", "mentions_per_s", "source")} for z in (xs, ys))
        relation = json_relation(xs, ys)
        if relation != "same":
            differ.append(name if relation == "different" else f"{name} (added fields)")
    return differ


def json_relation(new: Any, old: Any) -> str:
    """``"same"``, ``"added"`` (``new`` has every value of ``old``, and more keys) or
    ``"different"``.

    >>> json_relation({"a": 1, "b": [{"c": 2, "d": 3}]}, {"a": 1, "b": [{"c": 2}]})
    'added'
    >>> json_relation({"a": 1}, {"a": 1, "b": 2}), json_relation([1, 2], [1, 2])
    ('different', 'same')
    """
    if isinstance(new, dict) and isinstance(old, dict):
        if not old.keys() <= new.keys():
            return "different"
        parts = [json_relation(new[k], old[k]) for k in old]
        added = len(new) > len(old)
    elif isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            return "different"
        parts = [json_relation(a, b) for a, b in zip(new, old)]
        added = False
    else:
        return "same" if new == old else "different"
    if "different" in parts:
        return "different"
    return "added" if added or "added" in parts else "same"


if __name__ == "__main__":
    main()
