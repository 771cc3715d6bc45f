"""NAB benchmark of the per-brand volume surge detector (``pipeline.volume``).

Runs :class:`pipeline.volume.VolumeModel` + :class:`pipeline.volume.SurgeAlarm` with their
default parameters (the same for every series) over every series of a folder of
NAB-format data (``timestamp,value`` CSVs + a labels JSON with NAB's windows), writes the
detections, scores them with the project's independent NAB scorer
(``../shared/tools/nab_score.py``, standard profile) and prints the normalised score beside
the published detectors on NAB realTweets AAPL/GOOG/IBM/KO.

``--sweep`` also prints a leave-one-file-out figure (parameters chosen on the other files,
scored on the held-out one) and a sensitivity sweep around the defaults.

Examples
--------
    .venv/bin/python bench/nab.py
    .venv/bin/python bench/nab.py --out /tmp/dets.jsonl --json
    .venv/bin/python bench/nab.py --sweep
"""
from __future__ import annotations

import argparse
import calendar
import csv
import importlib.util
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.volume import DEFAULT_SURGE, SurgeAlarm, SurgeThresholds, VolumeModel  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nab_realtweets"
DEFAULT_SCORER = ROOT.parent / "shared" / "tools" / "nab_score.py"
#: Published NAB v1.1 standard-profile results on realTweets AAPL, GOOG, IBM, KO.
PUBLISHED = {
    "ARTime": 80.5, "knncad": 69.9, "contextOSE": 65.5, "numenta HTM": 64.0,
    "twitterADVec": 56.2, "windowedGaussian": 48.6,
}
PUBLISHED_FILES = {"Twitter_volume_AAPL", "Twitter_volume_GOOG", "Twitter_volume_IBM",
                   "Twitter_volume_KO"}


def load_scorer(path: Path):
    """Import the NAB scorer module from its file."""
    spec = importlib.util.spec_from_file_location("nab_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the NAB scorer from {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nab_score"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def read_series(path: Path) -> tuple[list[str], list[float], list[float]]:
    """(timestamps as written, epoch seconds (naive = UTC), values) of a NAB CSV."""
    raw, ep, val = [], [], []
    with open(path, newline="", encoding="utf-8") as fh:
        rdr = csv.reader(fh)
        header = next(rdr)
        ti = header.index("timestamp") if "timestamp" in header else 0
        vi = header.index("value") if "value" in header else 1
        for row in rdr:
            if not row:
                continue
            dt = datetime.fromisoformat(row[ti].strip().rstrip("Z"))
            raw.append(row[ti])
            ep.append(calendar.timegm(dt.timetuple()) + dt.microsecond / 1e6)
            val.append(float(row[vi]))
    return raw, ep, val


def infer_bucket(ep: list[float]) -> int:
    """Median spacing of the rows, in whole seconds."""
    d = sorted(b - a for a, b in zip(ep, ep[1:]))
    return max(1, int(round(d[len(d) // 2]))) if d else 60


def run_model(ep: list[float], val: list[float], bucket_s: int, **params: Any) -> list:
    """Scores of every row (score before learn: no look-ahead)."""
    m = VolumeModel(bucket_s, **params)
    out = []
    for t, x in zip(ep, val):
        out.append(m.score_one(t, x))
        m.learn_one(t, x)
    return out


def detect(scores: list, th: SurgeThresholds = DEFAULT_SURGE) -> list[int]:
    """Row indices where the alarm fires."""
    alarm = SurgeAlarm(th)
    return [i for i, s in enumerate(scores) if alarm.update(s)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                    help="folder of NAB-format CSVs (default: ../shared/data/nab_realtweets)")
    ap.add_argument("--labels", type=Path, default=None,
                    help="labels JSON (default: <data-dir>/labels.json)")
    ap.add_argument("--scorer", type=Path, default=DEFAULT_SCORER, help="nab_score.py")
    ap.add_argument("--out", type=Path, default=None, help="write detections as JSONL")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object of figures")
    ap.add_argument("--sweep", action="store_true",
                    help="also leave-one-file-out and sensitivity sweep (~20 s)")
    args = ap.parse_args(argv)
    data_dir = args.data_dir.expanduser().resolve()
    labels = (args.labels or data_dir / "labels.json").expanduser().resolve()
    nab = load_scorer(args.scorer.expanduser().resolve())

    windows = nab.load_windows(str(labels))
    stems = sorted(k[:-4] for k in windows if (data_dir / k).is_file())
    missing = sorted(k for k in windows if not (data_dir / k).is_file())
    if not stems:
        raise SystemExit(f"no labelled CSV of {labels} found in {data_dir}")
    series = {s: read_series(data_dir / f"{s}.csv") for s in stems}
    ts = {f"{s}.csv": [nab.parse_ts(t) for t in series[s][0]] for s in stems}

    def nab_eval(dets: dict[str, list[int]]) -> dict:
        d = {f"{s}.csv": [ts[f"{s}.csv"][i] for i in dets[s]] for s in dets}
        return nab.score(windows, ts, d, "standard", [f"{s}.csv" for s in dets])

    # ---- the detector with its defaults
    t0 = time.perf_counter()
    n_rows = 0
    scores, dets = {}, {}
    for s in stems:
        _, ep, val = series[s]
        scores[s] = run_model(ep, val, infer_bucket(ep))
        dets[s] = detect(scores[s])
        n_rows += len(ep)
    us = (time.perf_counter() - t0) / max(n_rows, 1) * 1e6
    res = nab_eval(dets)
    summ = res["summary"]
    per_file = {p["file"][:-4]: p for p in res["per_file"]}
    if args.out:
        with open(args.out, "wb") as fh:
            for s in stems:
                for i in dets[s]:
                    fh.write(orjson.dumps({"file": s, "timestamp": series[s][0][i]}) + b"\n")

    figures: dict[str, Any] = {
        "nab_standard": round(summ["normalized"], 2),
        "per_file": {s: round(100.0 * (p["raw"] + p["n_windows"]) / (2 * p["n_windows"]), 2)
                     for s, p in per_file.items()},
        "detections": sum(len(v) for v in dets.values()),
        "tp": summ["tp"], "fp": summ["fp"], "fn": summ["fn"], "windows": summ["windows"],
        "files": len(stems), "us_per_bucket": round(us, 2),
    }
    if args.sweep:
        figures.update(sweep(series, stems, nab_eval))

    if args.json:
        print(orjson.dumps(figures).decode())
        return 0
    from rich.console import Console
    from rich.table import Table

    con = Console()
    if missing:
        con.print(f"[yellow]labelled but not found in {data_dir}: {missing}[/]")
    tf = Table(title=f"veille volume detector on {data_dir.name} (NAB standard profile)")
    for c in ("file", "rows", "windows", "TP", "FP", "FN", "raw", "normalised"):
        tf.add_column(c, justify="right" if c != "file" else "left")
    for s in stems:
        p = per_file[s]
        tf.add_row(s, str(p["n_rows"]), str(p["n_windows"]), str(p["tp"]), str(p["fp"]),
                   str(p["fn"]), f"{p['raw']:.3f}", f"{figures['per_file'][s]:.1f}")
    con.print(tf)
    tb = Table(title="normalised NAB score, standard profile")
    tb.add_column("detector")
    tb.add_column("score", justify="right")
    rows = [("veille volume (this run, defaults)", summ["normalized"])]
    if set(stems) == PUBLISHED_FILES:
        rows += [(f"{k} (published)", v) for k, v in PUBLISHED.items()]
    else:
        con.print("[dim]published figures are for AAPL/GOOG/IBM/KO only; not shown[/]")
    for name, v in sorted(rows, key=lambda r: -r[1]):
        tb.add_row(name, f"{v:.1f}")
    con.print(tb)
    con.print(f"detections={figures['detections']} TP={summ['tp']} FP={summ['fp']} "
              f"FN={summ['fn']}  model+alarm {us:.1f} us/bucket")
    if args.sweep:
        con.print(f"leave-one-file-out: {figures['loo']['normalized']:.1f}  "
                  f"(per held-out file: {figures['loo']['per_file']})")
        for name, tab in figures["sensitivity"].items():
            con.print(f"sensitivity {name}: " + "  ".join(f"{k}={v:.1f}" for k, v in tab.items()))
    return 0


# ---------------------------------------------------------------------- honest protocol
LOO_GRID = {
    "level_halflife_s": [2 * 3600.0, 6 * 3600.0, 24 * 3600.0],
    "tail_u": [4.0, 5.0, 6.0, 8.0],
    "on": [0.5, 0.75, 1.0, 1.25, 1.5, 2.0],
    "cooldown_s": [6 * 3600.0, 12 * 3600.0, 24 * 3600.0],
}


def sweep(series: dict, stems: list[str], nab_eval) -> dict[str, Any]:
    """Leave-one-file-out over LOO_GRID, and one-at-a-time sensitivity around defaults."""
    raw: dict[tuple, dict[str, float]] = {}
    nwin: dict[str, int] = {}
    for lh in LOO_GRID["level_halflife_s"]:
        for u in LOO_GRID["tail_u"]:
            sc = {s: run_model(series[s][1], series[s][2], infer_bucket(series[s][1]),
                               level_halflife_s=lh, tail_u=u) for s in stems}
            for on in LOO_GRID["on"]:
                for cd in LOO_GRID["cooldown_s"]:
                    th = replace(DEFAULT_SURGE, on=on, cooldown_s=cd)
                    r = nab_eval({s: detect(sc[s], th) for s in stems})
                    raw[(lh, u, on, cd)] = {p["file"][:-4]: p["raw"] for p in r["per_file"]}
                    nwin = {p["file"][:-4]: p["n_windows"] for p in r["per_file"]}

    def norm(total: float, files: list[str]) -> float:
        n = sum(nwin[f] for f in files)
        return 100.0 * (total + n) / (2 * n)

    loo_total, loo_per, chosen = 0.0, {}, {}
    for f in stems:
        others = [g for g in stems if g != f]
        if not others:
            break
        key = max(raw, key=lambda k: sum(raw[k][g] for g in others))
        loo_total += raw[key][f]
        loo_per[f] = round(norm(raw[key][f], [f]), 1)
        chosen[f] = {"level_halflife_h": key[0] / 3600, "tail_u": key[1], "on": key[2],
                     "cooldown_h": key[3] / 3600}
    best = max(raw, key=lambda k: sum(raw[k].values()))
    d = VolumeModel()
    d_key = (d.level_halflife_s, d.tail_u, DEFAULT_SURGE.on, DEFAULT_SURGE.cooldown_s)

    def at(**kw: float) -> float:
        k = dict(zip(("level_halflife_s", "tail_u", "on", "cooldown_s"), d_key))
        k.update(kw)
        key = (k["level_halflife_s"], k["tail_u"], k["on"], k["cooldown_s"])
        return round(norm(sum(raw[key].values()), stems), 1)

    sens = {
        "on": {str(v): at(on=v) for v in LOO_GRID["on"]},
        "tail_u": {str(v): at(tail_u=v) for v in LOO_GRID["tail_u"]},
        "cooldown_h": {str(v / 3600): at(cooldown_s=v) for v in LOO_GRID["cooldown_s"]},
        "level_halflife_h": {str(v / 3600): at(level_halflife_s=v)
                             for v in LOO_GRID["level_halflife_s"]},
    }
    allv = sorted(norm(sum(v.values()), stems) for v in raw.values())
    return {
        "loo": {"normalized": round(norm(loo_total, stems), 2), "per_file": loo_per,
                "chosen": chosen},
        "in_sample_best": {"normalized": round(norm(sum(raw[best].values()), stems), 2),
                           "params": list(best)},
        "grid_median": round(allv[len(allv) // 2], 2),
        "sensitivity": sens,
    }


if __name__ == "__main__":
    sys.exit(main())
