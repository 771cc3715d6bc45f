"""Chaos bench: the short form of every fault scenario, on real Apache Kafka.

Usage::

    .venv/bin/python bench/chaos.py [--json] [--only NAME ...] [--soak-seconds S]
                                    [--sequential] [--keep DIR]

Scenarios (see ``tests/chaos/harness.py``): a worker SIGKILLed, restarted, SIGTERMed in the
middle of its backlog and restarted; a second worker joining mid-stream, then SIGKILLed; the
broker restarted, then killed and kept down 20 s; the broker frozen (SIGSTOP) while alerts are
due; ``exactly_once`` with a SIGKILL, read back read-committed; a steady-load soak (RSS, lag,
commits). Each runs ~7k sequence-numbered mentions through ``veille worker`` processes; each
fault waits for the worker's own progress and must leave work undone (``faults``: processed,
lag). Verified against the topics: mentions lost, incidents opened twice, alert updates
conflicting or missing, brand state vs an offline recount.

The two private-broker scenarios run alongside the others (``--sequential``: one at a time).
``--soak-seconds 1800`` is the long soak (``make soak``). With ``--json`` the last line is
``{"scenarios": [{"name", "events", "lost", "duplicated_incidents", "passed", ...}]}``.
Exit status 1 when a scenario fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.brokers import LocalKafka  # noqa: E402
from tests.chaos.harness import SCENARIOS, run_scenario, scenario_soak  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    ap.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="run these only")
    ap.add_argument("--soak-seconds", type=float, default=45.0, help="soak length (long: 1800)")
    ap.add_argument("--soak-rate", type=float, default=400.0, help="soak mentions per second")
    ap.add_argument("--sequential", action="store_true",
                    help="one scenario at a time (default: the private-broker scenarios, "
                    "which mostly wait on a broker down or frozen, run alongside the others)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="keep the workers' logs under DIR (default: a temporary directory)")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run the scenarios N times (a rare failure shows as passed_runs < N; "
                    "the logs of run i are under DIR/run<i> with --keep)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    names = args.only or list(SCENARIOS)
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else print
    if args.soak_seconds != 45.0 or args.soak_rate != 400.0:
        fn, kind, kw = SCENARIOS["soak"]
        SCENARIOS["soak"] = (lambda run: scenario_soak(run, args.soak_seconds, args.soak_rate),
                             kind, kw)
    own = [n for n in names if SCENARIOS[n][1] != "shared"]
    shared = [n for n in names if SCENARIOS[n][1] == "shared"]
    runs: list[dict[str, dict]] = []
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="veille-chaos-") as tmp:
        for i in range(args.repeat):
            rows: dict[str, dict] = {}
            work = (args.keep or Path(tmp)) / (f"run{i}" if args.repeat > 1 else "")
            if args.sequential:
                _run_all(names, work, log, rows)
            else:  # the private-broker scenarios mostly wait (broker down, frozen): alongside
                with ThreadPoolExecutor(1) as pool:
                    pending = pool.submit(_run_all, own, work, log, rows)
                    _run_all(shared, work, log, rows)
                    pending.result()
            runs.append(rows)
    log(f"total {time.monotonic() - t_all:.0f}s")
    table = [runs[-1][n] for n in names]
    passed_runs = {n: sum(r[n]["passed"] for r in runs) for n in names}
    if args.repeat > 1:
        log("passed runs: " + ", ".join(f"{n} {k}/{args.repeat}" for n, k in passed_runs.items()))
    if args.json:
        out: dict = {"scenarios": table}
        if args.repeat > 1:
            out.update(repeat=args.repeat, passed_runs=passed_runs,
                       failures=[r[n] for r in runs for n in names if not r[n]["passed"]])
        print(orjson.dumps(out).decode())
    return 0 if all(k == args.repeat for k in passed_runs.values()) else 1


def _run_all(names: list[str], work: Path, log: Callable[[str], None],
             rows: dict[str, dict]) -> None:
    """Run ``names`` one after the other: the "shared" ones on one Apache Kafka, the others
    each on a private one; a row per scenario into ``rows``."""
    shared = None
    try:
        for name in names:
            if SCENARIOS[name][1] == "shared":
                if shared is None:
                    shared = LocalKafka().start(timeout=120)
                broker = shared
            else:
                broker = LocalKafka().start(timeout=120)
            t0 = time.monotonic()
            log(f"{name} ...")
            try:
                rep = run_scenario(name, broker, work, log=lambda s, n=name: log(f"[{n}] {s}"))
            finally:
                if broker is not shared:
                    broker.cleanup()
            row = rep.row()
            row["seconds"] = round(time.monotonic() - t0, 1)
            rows[name] = row
            log(f"{name}: events={row['events']} lost={row['lost']} "
                f"duplicated_incidents={row['duplicated_incidents']} "
                f"dup_outputs={row['duplicated_outputs']} missing={row['missing_updates']} "
                f"state_mismatch={row['state_mismatch']} passed={row['passed']} "
                f"({row['seconds']}s)" + (f"\n  FAILURE: {row['failure']}"
                                          if row.get("failure") else ""))
    finally:
        if shared is not None:
            shared.cleanup()


if __name__ == "__main__":
    sys.exit(main())
