"""Risk detectors bench: precision, recall and detection delay per detector, on simulated streams.

Usage::

    .venv/bin/python bench/risks.py [--seeds 1 2 3] [--jobs 2] [--json]

Each scenario of the simulator (``hijack``, ``impostor``, ``raid``, ``slow_response``, ``crisis``,
``launch``, ``noise_plateau``) and one stream without any scenario (``none``, three days) are simulated for
brands acme and nordair, per seed, and run offline through :class:`pipeline.engine.Engine` (the
worker's code) in batches of 500. Streams start on a Tuesday at 06:00 UTC; scenarios start 26 h
later (a weekday morning), the hijack at 3 a.m. local (20 h). The crisis volume model warms up
for 6 h (``detection.warmup_s``); everything else runs with the default settings.

Harder streams (:mod:`pipeline.simulate.hard_scenarios`), 11 h long, scenario at 8 h:
``lookalike_benign`` (no_impostor), ``impostor_subtle`` (impostor), ``contest`` and
``viral_quote`` (no_raid), ``client_switch`` (no_hijack, 3 h); ``night_crisis`` is a crisis at
2 a.m. local (19 h) handled by the social team from a new phone app (``night_statement``:
no_hijack; the crisis itself expects a crisis).

Scoring, per detector kind K (ground truth of :mod:`pipeline.simulate.scenarios`):

* an incident (alert id) of kind K is a **true positive** when its first update falls in a
  window ``[start, end + SLACK_S]`` of a truth record expecting K for the same brand, and a
  **false positive** when it falls in no such window; incidents inside the window of another
  kind of scenario that does not say ``no_K`` are not counted either way (a troll raid may
  rightly look like an angry surge); ``launch`` and ``noise_plateau`` expect ``no_crisis``, so a
  crisis there is a false positive;
* **recall**: truth records expecting K detected at least once (for ``impostor``: the injected
  look-alike accounts that got their own incident);
* **delay_s**: median of (first matching update time - truth start), event seconds;
* ``fp_none``: incidents of kind K on the stream without scenarios;
* an incident of kind K inside the window of a truth record saying ``no_K`` (same brand) is a
  false positive even when another scenario runs at the same time.

Also printed (and in the JSON): ``core_detectors``, the same figures on the core streams only
(comparable with the figures before the harder streams existed), and ``scenarios``: per stream
and truth record, the runs in which an incident of the record's kind fired in its window.

Own-post review comes from the corpus bench (``bench/post_review.py``): a post is "flagged"
when its verdict is warn or block; delay_s is the median review time per post.

With ``--json`` the last line is ``{"detectors": {name: {"precision", "recall", "delay_s",
...}}, "core_detectors": {...}, "scenarios": {stream: {"kind", "expect", "runs", "fired",
"incidents"}}}``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.engine import Engine  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.simulate import DEMO_BRANDS, ScenarioSpec, SimConfig, generate  # noqa: E402

KINDS = ("hijack", "impostor", "raid", "slow_response", "crisis")
CORE = ("hijack", "impostor", "raid", "slow_response", "crisis", "launch", "noise_plateau", "none")
#: Harder variants (pipeline/simulate/hard_scenarios.py): legitimate look-alikes of attacks and
#: subtler attacks, on shorter streams (8 h of history: they need no daily model).
HARD = ("lookalike_benign", "impostor_subtle", "contest", "viral_quote", "night_crisis",
        "client_switch")
SCENARIOS = CORE + HARD
HARD_AT_S = 8 * 3600.0
NIGHT_AT_S = 19 * 3600.0  # 2 a.m. local (UTC+1) after a first day of history
START = datetime(2026, 1, 6, 6, tzinfo=timezone.utc)
AT_S = 26 * 3600.0
HIJACK_AT_S = 18 * 3600.0  # moved by the scenario to the next 3 a.m. local (20 h)
TAIL_S = 2 * 3600.0
SLACK_S = 15 * 60.0
NONE_S = 3 * 86_400.0  # the stream without scenarios: three closing times, two judged days
BRANDS = DEMO_BRANDS[:2]


def run_one(scenario: str, seed: int) -> dict[str, Any]:
    """Simulate one scenario (or none) for one seed and run it through the engine."""
    if scenario == "none":
        specs: list[ScenarioSpec] = []
        duration = NONE_S
    elif scenario == "night_crisis":  # a real crisis at night, handled by the team from a phone
        specs = [ScenarioSpec("crisis", brand="acme", at_s=NIGHT_AT_S),
                 ScenarioSpec("night_statement", brand="acme", at_s=NIGHT_AT_S,
                              params={"local_hour": None})]
        duration = NIGHT_AT_S + TAIL_S
    elif scenario in HARD:
        specs = [ScenarioSpec(scenario, brand="acme", at_s=HARD_AT_S,
                              duration_s=3 * 3600.0 if scenario == "client_switch" else None)]
        duration = HARD_AT_S + 3 * 3600.0
    else:
        at = HIJACK_AT_S if scenario == "hijack" else AT_S
        specs = [ScenarioSpec(scenario, brand="acme", at_s=at)]
        duration = AT_S + 2 * 3600.0 + TAIL_S
    cfg = SimConfig(start=START, duration_s=duration, scenarios=specs, seed=seed, brands=BRANDS)
    mentions, truth = generate(cfg)
    engine = Engine(Settings(brands=BRANDS, detection={"warmup_s": 6 * 3600}))
    alerts: list[dict[str, Any]] = []
    batch: list[bytes] = []
    n = 0
    t0 = time.perf_counter()

    def flush() -> None:
        out = engine.process(batch)
        for a in out.alerts:
            alerts.append({"id": a.id, "kind": a.kind, "brand": a.brand, "update": a.update,
                           "at": a.updated_at.timestamp(), "evidence": a.evidence})
        batch.clear()

    for m in mentions:
        batch.append(orjson.dumps(m))
        n += 1
        if len(batch) >= 500:
            flush()
    if batch:
        flush()
    return {"scenario": scenario, "seed": seed, "truth": truth, "alerts": alerts,
            "mentions": n, "seconds": time.perf_counter() - t0, "duration_s": duration}


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def score(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Precision, recall, delays and false positives per kind (see the module docstring)."""
    res: dict[str, dict[str, Any]] = {k: {"tp": 0, "fp": 0, "hit": 0, "truth": 0, "delays": [],
                                          "fp_none": 0, "none_days": 0.0} for k in KINDS}
    for run in runs:
        first: dict[str, dict[str, Any]] = {}
        for a in run["alerts"]:
            first.setdefault(a["id"], a)
        truth = [{**t, "t0": _ts(t["start"]), "t1": _ts(t["end"]) + SLACK_S} for t in run["truth"]]
        for k in KINDS:
            r = res[k]
            if run["scenario"] == "none":
                r["none_days"] += run["duration_s"] / 86_400
            incidents = [a for a in first.values() if a["kind"] == k]
            for a in incidents:
                match = [t for t in truth if t["expect"] == k and t["brand"] == a["brand"]
                         and t["t0"] <= a["at"] <= t["t1"]]
                if match:
                    r["tp"] += 1
                    continue
                denied = [t for t in truth if t["expect"] == "no_" + k
                          and t["brand"] == a["brand"] and t["t0"] <= a["at"] <= t["t1"]]
                other = [t for t in truth if t["t0"] <= a["at"] <= t["t1"] and t["kind"] != k
                         and t["expect"] != "no_" + k]
                if other and not denied:
                    continue
                r["fp"] += 1
                if run["scenario"] == "none":
                    r["fp_none"] += 1
            for t in truth:
                if t["expect"] != k:
                    continue
                hits = sorted(a["at"] for a in incidents
                              if a["brand"] == t["brand"] and t["t0"] <= a["at"] <= t["t1"])
                if k == "impostor":
                    handles = t["details"].get("handles", [])
                    found = {a["id"].rsplit(":", 1)[-1] for a in incidents if a["brand"] == t["brand"]
                             and t["t0"] <= a["at"] <= t["t1"]}
                    r["truth"] += len(handles)
                    r["hit"] += sum(h.lower() in found for h in handles)
                else:
                    r["truth"] += 1
                    r["hit"] += bool(hits)
                if hits:
                    r["delays"].append(hits[0] - t["t0"])
    out = {}
    for k, r in res.items():
        tp, fp = r["tp"], r["fp"]
        out[k] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(r["hit"] / r["truth"], 4) if r["truth"] else 1.0,
            "delay_s": round(statistics.median(r["delays"]), 1) if r["delays"] else None,
            "tp": tp, "fp": fp, "truth": r["truth"],
            "fp_none_per_day": round(r["fp_none"] / r["none_days"], 3) if r["none_days"] else None,
        }
    return out


def per_scenario(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per stream and truth record: how many runs had an incident of the record's kind in its
    window (``fired``; wanted when ``expect`` is the kind, a false alarm when it is ``no_*``)."""
    out: dict[str, dict[str, Any]] = {}
    for run in runs:
        first: dict[str, dict[str, Any]] = {}
        for a in run["alerts"]:
            first.setdefault(a["id"], a)
        for t in run["truth"]:
            t0, t1 = _ts(t["start"]), _ts(t["end"]) + SLACK_S
            ids = sorted({a["id"] for a in first.values() if a["kind"] == t["kind"]
                          and a["brand"] == t["brand"] and t0 <= a["at"] <= t1})
            key = run["scenario"] if run["scenario"] == t["scenario"] else \
                f"{run['scenario']}/{t['scenario']}"
            row = out.setdefault(key, {"kind": t["kind"], "expect": t["expect"], "runs": 0,
                                       "fired": 0, "incidents": []})
            row["runs"] += 1
            row["fired"] += bool(ids)
            row["incidents"] += [i.split(":", 2)[-1] for i in ids]
    return out


def post_review_figures() -> dict[str, Any]:
    """Own-post review from the corpus bench: flagged (warn/block) vs approve."""
    sys.path.insert(0, str(ROOT / "bench"))
    import post_review as pr  # noqa: PLC0415

    corpus = pr.load_corpus(pr.DEFAULT_CORPUS)
    reviewers = pr.load_reviewers(ROOT / "tests" / "data" / "posts" / "brands.json")
    figs = pr.evaluate(corpus, reviewers, repeat=3)
    conf = figs["confusion"]
    flagged = ("warn", "block")
    tp = sum(conf[e][g] for e in flagged for g in flagged)
    fp = sum(conf["approve"][g] for g in flagged)
    fn = sum(conf[e]["approve"] for e in flagged)
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
            "delay_s": round(figs["us_p50"] / 1e6, 6), "tp": tp, "fp": fp, "truth": tp + fn,
            "block_precision": figs["verdict"]["block"]["precision"],
            "block_recall": figs["verdict"]["block"]["recall"], "posts": figs["n"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--jobs", type=int, default=2, help="processes (the machine is shared)")
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    jobs = [(s, seed) for seed in args.seeds for s in args.scenarios]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            runs = list(ex.map(run_one, *zip(*jobs)))
    else:
        runs = [run_one(s, seed) for s, seed in jobs]
    figures = score(runs)
    figures["post_review"] = post_review_figures()
    core = score([r for r in runs if r["scenario"] in CORE])
    scenarios = per_scenario(runs)
    mentions = sum(r["mentions"] for r in runs)
    busy = sum(r["seconds"] for r in runs)
    print(f"{len(runs)} runs ({len(args.seeds)} seeds x {len(args.scenarios)} streams), "
          f"{mentions} mentions, engine {mentions / busy:.0f} mentions/s per process, "
          f"wall {time.perf_counter() - t0:.0f}s")
    print(f"{'detector':<14}{'precision':>10}{'recall':>8}{'delay_s':>9}{'tp':>5}{'fp':>5}"
          f"{'truth':>7}{'fp/day (no scenario)':>22}")
    for name, f in figures.items():
        fpd = f.get("fp_none_per_day")
        print(f"{name:<14}{f['precision']:>10.3f}{f['recall']:>8.3f}"
              f"{(f['delay_s'] if f['delay_s'] is not None else float('nan')):>9.1f}"
              f"{f['tp']:>5}{f['fp']:>5}{f['truth']:>7}{('-' if fpd is None else fpd):>22}")
    print(f"core streams only ({', '.join(CORE)}):")
    for name, f in core.items():
        print(f"  {name:<14}precision {f['precision']:.3f} recall {f['recall']:.3f} "
              f"delay_s {f['delay_s']} tp {f['tp']} fp {f['fp']}")
    print(f"{'stream / truth':<34}{'kind':<15}{'expect':<17}{'fired/runs':>10}  incidents")
    for name, row in scenarios.items():
        print(f"{name:<34}{row['kind']:<15}{row['expect']:<17}{row['fired']:>5}/{row['runs']:<4}  "
              f"{', '.join(sorted(set(row['incidents'])))[:60]}")
    per_run = defaultdict(list)
    for r in runs:
        per_run[r["scenario"]].append(sorted({(a["kind"], a["id"]) for a in r["alerts"]
                                              if a["kind"] != "surge"}))
    if not args.json:
        for s, lists in per_run.items():
            print(f"  {s}: " + " | ".join(", ".join(f"{k}" for k, _ in lst) or "-" for lst in lists))
    if args.json:
        print(orjson.dumps({"detectors": figures, "core_detectors": core,
                            "scenarios": scenarios}).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
