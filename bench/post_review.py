"""Own-post review bench: precision/recall per check and family, verdict confusion, speed.

Usage::

    .venv/bin/python bench/post_review.py [CORPUS.jsonl] [--brands BRANDS.json] [--json]

The corpus is one JSON object per line: ``{"id", "lang", "text", "brand", "expected_verdict",
"expected_checks"}``; ``brand`` names an entry of the brands file (a list of BrandConfig objects,
each with an optional extra ``public_contacts`` list). Check metrics are per post: a check is
predicted when at least one reason of that name is reported. With ``--json`` the last line is
one JSON object::

    {"n": ..., "verdict": {"block": {"precision", "recall", "support"}, "warn": {...}},
     "accuracy": ..., "confusion": {expected: {predicted: count}},
     "families": {family: {"precision", "recall", "support"}},
     "checks": {check: {"precision", "recall", "support"}}, "us_per_post": ..., "us_p99": ...,
     "us_per_280_chars": ..., "mismatches": [ids]}

Times are per-post medians over ``--repeat`` runs (robust to pre-emption on a shared machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.risks import PostReviewer  # noqa: E402
from pipeline.settings import BrandConfig  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "data" / "posts" / "corpus.jsonl"
VERDICTS = ("approve", "warn", "block")


def load_reviewers(path: Path) -> dict[str, PostReviewer]:
    """One reviewer per brand of a brands file (``public_contacts`` popped before validation)."""
    out: dict[str, PostReviewer] = {}
    for raw in orjson.loads(path.read_bytes()):
        raw = dict(raw)
        contacts = raw.pop("public_contacts", [])
        brand = BrandConfig.model_validate(raw)
        out[brand.name] = PostReviewer(brand, public_contacts=contacts)
    return out


def load_corpus(path: Path) -> list[dict[str, Any]]:
    """The corpus records, in file order."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _pr(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "support": tp + fn,
    }


def evaluate(corpus: list[dict[str, Any]], reviewers: dict[str, PostReviewer],
             repeat: int = 20) -> dict[str, Any]:
    """Figures of the reviewers over the corpus (see the module docstring)."""
    generic = PostReviewer()
    confusion: dict[str, Counter[str]] = {v: Counter() for v in VERDICTS}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn per check
    fam: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    errors: list[dict[str, Any]] = []
    for rec in corpus:
        rv = reviewers.get(rec.get("brand") or "", generic)
        review = rv.review(rec["text"], rec.get("lang"))
        exp_v, got_v = rec["expected_verdict"], review.verdict
        confusion[exp_v][got_v] += 1
        exp, got = set(rec["expected_checks"]), set(review.checks)
        for c in exp | got:
            counts[c][0 if c in exp and c in got else 1 if c in got else 2] += 1
        ef, gf = {c.split(".")[0] for c in exp}, {c.split(".")[0] for c in got}
        for f in ef | gf:
            fam[f][0 if f in ef and f in gf else 1 if f in gf else 2] += 1
        if exp_v != got_v or exp != got:
            errors.append({"id": rec["id"], "expected": [exp_v, sorted(exp)],
                           "got": [got_v, sorted(got)], "text": rec["text"]})
    verdict = {}
    for v in ("block", "warn"):
        tp = confusion[v][v]
        fp = sum(confusion[e][v] for e in VERDICTS if e != v)
        fn = sum(confusion[v][g] for g in VERDICTS if g != v)
        verdict[v] = _pr(tp, fp, fn)
    # Speed. Each post is reviewed `repeat` times and its *median* time kept: on a shared
    # machine, pre-emption puts multi-millisecond outliers in single timings. Then the same
    # over 280-character posts (consecutive corpus texts of one brand, joined and cut).
    items = [(reviewers.get(r.get("brand") or "", generic), r["text"], r.get("lang")) for r in corpus]
    clean = [it for it, r in zip(items, corpus) if r["expected_verdict"] == "approve"]
    per_post = _timings(items, repeat)
    per_long = _timings(_joined(items), repeat)
    per_long_clean = _timings(_joined(clean), repeat)
    n = len(corpus)
    return {
        "n": n,
        "accuracy": round(sum(confusion[v][v] for v in VERDICTS) / n, 4) if n else 1.0,
        "verdict": verdict,
        "confusion": {e: {g: confusion[e][g] for g in VERDICTS} for e in VERDICTS},
        "families": {f: _pr(*fam[f]) for f in sorted(fam)},
        "checks": {c: _pr(*counts[c]) for c in sorted(counts)},
        "us_per_post": _mean(per_post),
        "us_p50": _quantile(per_post, 0.5),
        "us_p99": _quantile(per_post, 0.99),
        "us_per_280_chars": _mean(per_long),
        "us_280_p99": _quantile(per_long, 0.99),
        "us_per_280_chars_clean": _mean(per_long_clean),
        "ref_loop_us": _ref_loop() if repeat > 0 else 0.0,
        "mean_chars": round(sum(len(r["text"]) for r in corpus) / n, 1) if n else 0.0,
        "errors": errors,
    }


def _joined(items: list[tuple[PostReviewer, str, str | None]]
            ) -> list[tuple[PostReviewer, str, str | None]]:
    """280-character posts: each text followed by the next texts of the same brand, cut."""
    out = []
    for i, (rv, text, _) in enumerate(items):
        j = i + 1
        while len(text) < 280 and j < len(items):
            if items[j][0] is rv:
                text += " " + items[j][1]
            j += 1
        out.append((rv, text[:280], None))
    return out


def _ref_loop() -> float:
    """µs for a pure-Python 1,000-iteration addition loop (best of 50): the machine's speed,
    to compare figures taken on different or loaded machines."""
    best = float("inf")
    for _ in range(50):
        t0 = time.perf_counter()
        x = 0
        for i in range(1000):
            x += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1e6, 1)


def _timings(items: list[tuple[PostReviewer, str, str | None]], repeat: int) -> list[float]:
    """Median review time (µs) of each item over ``repeat`` runs."""
    if repeat <= 0:
        return []
    for rv, text, lang in items:  # warm-up (per-reviewer word caches)
        rv.review(text, lang)
    out = []
    for rv, text, lang in items:
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            rv.review(text, lang)
            ts.append(time.perf_counter() - t0)
        out.append(statistics.median(ts) * 1e6)
    return out


def _mean(xs: list[float]) -> float:
    return round(sum(xs) / len(xs), 1) if xs else 0.0


def _quantile(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    ys = sorted(xs)
    return round(ys[min(len(ys) - 1, int(len(ys) * q))], 1)


def _print(res: dict[str, Any], show_errors: bool) -> None:
    print(f"posts: {res['n']}  (mean {res['mean_chars']} chars)  verdict accuracy: {res['accuracy']}")
    print("\nverdict     precision  recall  support")
    for v, m in res["verdict"].items():
        print(f"  {v:9} {m['precision']:9.3f} {m['recall']:7.3f} {m['support']:8}")
    print("\nconfusion (rows: expected, columns: predicted)")
    print("            " + "".join(f"{g:>9}" for g in VERDICTS))
    for e in VERDICTS:
        print(f"  {e:9} " + "".join(f"{res['confusion'][e][g]:9}" for g in VERDICTS))
    for title, key in (("family", "families"), ("check", "checks")):
        print(f"\n{title:30} precision  recall  support")
        for c, m in res[key].items():
            print(f"  {c:28} {m['precision']:9.3f} {m['recall']:7.3f} {m['support']:8}")
    print(f"\nspeed (median of repeats per post): {res['us_per_post']} us/review mean, "
          f"p50 {res['us_p50']}, p99 {res['us_p99']}; 280-char posts: "
          f"{res['us_per_280_chars']} us mean, p99 {res['us_280_p99']} (clean only: "
          f"{res['us_per_280_chars_clean']} us); reference loop {res['ref_loop_us']} us")
    if show_errors and res["errors"]:
        print(f"\n{len(res['errors'])} posts differ from expectations:")
        for e in res["errors"]:
            print(f"  {e['id']}: expected {e['expected']} got {e['got']}\n      {e['text']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--brands", type=Path, default=None,
                    help="brands file (default: brands.json next to the corpus)")
    ap.add_argument("--repeat", type=int, default=20, help="timing passes over the corpus")
    ap.add_argument("--errors", action="store_true", help="list posts that differ")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = ap.parse_args(argv)
    brands = args.brands or args.corpus.with_name("brands.json")
    reviewers = load_reviewers(brands) if brands.exists() else {}
    res = evaluate(load_corpus(args.corpus), reviewers, repeat=args.repeat)
    _print(res, args.errors)
    if args.json:
        out = {k: v for k, v in res.items() if k != "errors"}
        out["mismatches"] = [e["id"] for e in res["errors"]]
        print(orjson.dumps(out).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
