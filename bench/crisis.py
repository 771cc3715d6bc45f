"""Simulated crisis scenarios through the worker's own code (``pipeline.engine.Engine``).

Used by ``bench/nab.py --scenarios`` (the figures are printed by the same bench as the NAB
score) and by ``tests/unit/test_crisis_scenarios.py``. Each run simulates the demo brands
(``pipeline.simulate``) for ``days`` of event time with ``DetectionSettings(warmup_s=1 day)``,
scripting after the warm-up a ``crisis`` (acme), a ``launch`` (nordair) and a
``noise_plateau`` (globex) at seeded random hours, and compares the alerts with the ground
truth:

* detection delay: first alert of the crisis incident *in state crisis* for the right brand,
  minus the scenario start (missed if none before the scenario ends);
* false crisis: a crisis-state alert outside every crisis scenario (the launch and the noise
  plateau must never be one);
* false incidents: surge/crisis incidents opened outside every scenario window (plus one hour
  after its end), per brand-day after the warm-up.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.engine import Engine  # noqa: E402
from pipeline.settings import DetectionSettings, Settings  # noqa: E402
from pipeline.simulate import SimConfig, generate  # noqa: E402
from pipeline.simulate.clock import parse_ts  # noqa: E402

DAY = 86_400.0
START = datetime(2026, 1, 5, 0, tzinfo=timezone.utc)  # a Monday


@dataclass
class RunResult:
    """Figures of one simulated run."""

    seed: int
    days: float
    brand_days: float
    delays_s: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_crises: list[dict[str, Any]] = field(default_factory=list)
    false_incidents: list[dict[str, Any]] = field(default_factory=list)
    incidents: int = 0
    mentions: int = 0


def scenario_specs(seed: int, days: float, warmup_s: float) -> list[str]:
    """Crisis, launch and noise plateau at seeded hours after the warm-up, a few hours apart."""
    r = random.Random(seed)
    live = days * DAY - warmup_s
    out = []
    for name, brand in (("crisis", "acme"), ("launch", "nordair"), ("noise_plateau", "globex")):
        at = warmup_s + 3600.0 + r.random() * max(live - 4 * 3600.0, 0.0)
        out.append(f"{name}:{brand}@{at / 60:.0f}m")
    return out


def run(seed: int = 0, days: float = 2.0, *, warmup_s: float = DAY, rate_scale: float = 1.0,
        scenarios: list[str] | None = None, detection: DetectionSettings | None = None,
        batch: int = 500, start: datetime = START) -> RunResult:
    """Simulate, run the engine, score the alerts against the ground truth."""
    specs = scenarios if scenarios is not None else scenario_specs(seed, days, warmup_s)
    cfg = SimConfig(start=start, duration_s=days * DAY, history_s=warmup_s, scenarios=specs,
                    seed=seed, rate_scale=rate_scale)
    mentions, truth = generate(cfg)
    d = detection or DetectionSettings(warmup_s=int(warmup_s))
    engine = Engine(Settings(detection=d))
    alerts = []
    buf: list[bytes] = []
    n = 0
    for m in mentions:
        buf.append(orjson.dumps(m))
        if len(buf) >= batch:
            alerts.extend(engine.process(buf).alerts)
            n += len(buf)
            buf = []
    if buf:
        alerts.extend(engine.process(buf).alerts)
        n += len(buf)
    brands = sorted(engine.watches)
    res = RunResult(seed, days, len(brands) * (days * DAY - warmup_s) / DAY, mentions=n)
    wins = [(t["brand"], t["scenario"], parse_ts(t["start"]), parse_ts(t["end"]),
             t["expect"]) for t in truth]
    crisis_wins = [w for w in wins if w[4] == "crisis"]
    fam = [a for a in alerts if a.kind in ("surge", "crisis")]
    for brand, label, t0, t1, _ in crisis_wins:
        hits = [a.updated_at.timestamp() for a in fam
                if a.brand == brand and a.state == "crisis" and t0 <= a.updated_at.timestamp() <= t1]
        if hits:
            res.delays_s.append(min(hits) - t0)
        else:
            res.missed.append(label)
    for a in fam:
        ts = a.updated_at.timestamp()
        if a.state == "crisis" and not any(
            a.brand == b and t0 <= ts <= t1 + 3600.0 for b, _, t0, t1, _ in crisis_wins
        ):
            res.false_crises.append({"brand": a.brand, "at": a.updated_at.isoformat(),
                                     "id": a.id, "during": [lab for b, lab, t0, t1, _ in wins
                                                            if b == a.brand and t0 <= ts <= t1 + 3600.0]})
        if a.update == "opened":
            res.incidents += 1
            opened = a.opened_at.timestamp()
            if not any(a.brand == b and t0 - 600.0 <= opened <= t1 + 3600.0
                       for b, _, t0, t1, _ in wins):
                res.false_incidents.append({"brand": a.brand, "kind": a.kind,
                                            "at": a.opened_at.isoformat(), "score": a.score})
    return res


def summarize(results: list[RunResult]) -> dict[str, Any]:
    """Figures over several runs."""
    delays = sorted(d for r in results for d in r.delays_s)
    n_crisis = sum(len(r.delays_s) + len(r.missed) for r in results)
    brand_days = sum(r.brand_days for r in results)
    return {
        "runs": len(results),
        "crises": n_crisis,
        "detected": len(delays),
        "missed": sum(len(r.missed) for r in results),
        "delay_min_median": round(delays[len(delays) // 2] / 60, 1) if delays else None,
        "delay_min_max": round(delays[-1] / 60, 1) if delays else None,
        "false_crises": sum(len(r.false_crises) for r in results),
        "false_crisis_detail": [x for r in results for x in r.false_crises],
        "false_incidents": sum(len(r.false_incidents) for r in results),
        "false_incidents_per_brand_day": round(
            sum(len(r.false_incidents) for r in results) / brand_days, 3) if brand_days else None,
        "false_incident_detail": [x for r in results for x in r.false_incidents],
        "brand_days": round(brand_days, 1),
        "mentions": sum(r.mentions for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    ap.add_argument("--days", type=float, default=3.0,
                    help="event days per run, the first is warm-up (default 3)")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object of figures")
    args = ap.parse_args(argv)
    figures = summarize([run(seed=s, days=args.days) for s in range(args.seeds)])
    if args.json:
        print(orjson.dumps(figures).decode())
    else:
        for k, v in figures.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
