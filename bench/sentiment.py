"""Sentiment bench: cold and warm (prequential) macro-F1/accuracy per labelled JSONL file, and
scoring throughput on one core.

Usage::

    .venv/bin/python bench/sentiment.py [FILE.jsonl ...] [--json] [--compare] [--no-speed]
        [--model ARTIFACT]

``--model`` tests another artifact (``python -m pipeline.sentiment.build --out ARTIFACT``)
instead of the shipped model; ``--no-speed`` prints the quality figures only.

Records need ``text`` and ``label`` (negative/neutral/positive), ``lang`` is optional. Default
files: ``../shared/data/sentiment/*/visible.jsonl``.

* cold: the shipped default model, no label of the file learnt; scored with ``predict_many``;
* warm: a fresh default model, test-then-train in file order (``predict_one`` then
  ``learn_one`` per record), the whole stream scored;
* heldout (``60/40 F1``): a fresh default model learns the first 60 % of the file, then scores
  the last 40 % without learning;
* texts/s: ``predict_many`` over all files' texts in batches of 512 (see :func:`speed`):
  ``texts_per_s`` (= ``texts_per_s_unseen``) never-seen texts on a model that has scored other
  texts of the stream, ``texts_per_s_cold`` a fresh model (every chunk new),
  ``texts_per_s_cached`` repeated texts; µs per ``predict_one``. CPU time of the process, so
  that other load on the machine does not count;
* ``--compare``: river baselines on the same streams, prequential (slow: ~1 min).

With ``--json`` the last line is one JSON object:
``{"datasets": {name: {"cold": {...}, "warm": {...}, "heldout": {...}}}, "texts_per_s": r, "texts_per_s_unseen": r,
"texts_per_s_unseen_best": r1, "texts_per_s_cold": r0, "texts_per_s_cached": r2,
"us_per_predict_one": u}``.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import orjson  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.sentiment import LABELS, SentimentModel  # noqa: E402

DEFAULT_GLOB = str(Path(__file__).resolve().parents[2] / "shared/data/sentiment/*/visible.jsonl")
BATCH = 512
REPEAT = 3
fresh = SentimentModel.default  # a fresh model under test (--model: another artifact)


def macro_f1_acc(y: list[int], p: list[int]) -> dict[str, float]:
    f1s = []
    for c in range(3):
        tp = sum(1 for a, b in zip(y, p) if a == c and b == c)
        fp = sum(1 for a, b in zip(y, p) if a != c and b == c)
        fn = sum(1 for a, b in zip(y, p) if a == c and b != c)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    acc = sum(1 for a, b in zip(y, p) if a == b) / max(len(y), 1)
    return {"macro_f1": round(sum(f1s) / 3, 4), "accuracy": round(acc, 4)}


def _label_index(s) -> int:
    # an unscored ("und") prediction counts as neutral
    return LABELS.index(s.label) if s.label is not None else 1


def load(path: str) -> list[dict]:
    with open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def cold(base: SentimentModel, recs: list[dict]) -> dict:
    texts = [r["text"] for r in recs]
    langs = [r.get("lang") for r in recs]
    preds = []
    for i in range(0, len(texts), BATCH):
        preds.extend(base.predict_many(texts[i : i + BATCH], langs[i : i + BATCH]))
    return macro_f1_acc([LABELS.index(r["label"]) for r in recs], [_label_index(s) for s in preds])


def warm(recs: list[dict]) -> dict:
    m = fresh()
    y, p = [], []
    for r in recs:
        s = m.predict_one(r["text"], r.get("lang"))
        p.append(_label_index(s))
        y.append(LABELS.index(r["label"]))
        m.learn_one(r["text"], r["label"], r.get("lang"))
    return macro_f1_acc(y, p)


def heldout(recs: list[dict], share: float = 0.6) -> dict:
    """A fresh default model learns the first ``share`` of the file (stream order), then scores
    the rest without learning: the quality of the warm model on texts it never saw."""
    cut = int(len(recs) * share)
    m = fresh()
    for r in recs[:cut]:
        m.learn_one(r["text"], r["label"], r.get("lang"))
    return cold(m, recs[cut:])


def speed(recs: list[dict]) -> dict[str, float]:
    """Scoring rates (texts/s, CPU time of this process, one core) with ``predict_many``.

    * ``texts_per_s_unseen``: texts never scored before, with the vocabulary of a running
      stream: a fresh default model scores the even-numbered texts, then the odd-numbered ones
      are timed (new texts, partly new chunks and words: the steady state of a live stream);
      median of ``REPEAT`` runs (``texts_per_s_unseen_best``: the fastest);
    * ``texts_per_s_cold``: every text on a fresh model (every chunk and word new to the caches:
      the first seconds after a start);
    * ``texts_per_s_cached``: the same texts again (every chunk cached);
    * ``us_per_predict_one``: one ``predict_one`` (cached).
    """
    texts = [r["text"] for r in recs]
    langs = [r.get("lang") for r in recs]

    def rate(m: SentimentModel, tx: list[str], lg: list) -> float:
        t0 = time.process_time()
        for i in range(0, len(tx), BATCH):
            m.predict_many(tx[i : i + BATCH], lg[i : i + BATCH])
        return len(tx) / (time.process_time() - t0)

    runs = []
    for _ in range(REPEAT):  # a fresh model each time; median and best (the box is shared)
        m = fresh()
        rate(m, texts[0::2], langs[0::2])
        runs.append(rate(m, texts[1::2], langs[1::2]))
    unseen = statistics.median(runs)
    m = fresh()
    cold_rate = rate(m, texts, langs)
    cached = max(rate(m, texts, langs) for _ in range(2))
    n1 = min(len(texts), 3000)
    t0 = time.process_time()
    for t, g in zip(texts[:n1], langs[:n1]):
        m.predict_one(t, g)
    us_one = (time.process_time() - t0) / n1 * 1e6
    return {"texts_per_s_unseen": round(unseen, 1),
            "texts_per_s_unseen_best": round(max(runs), 1), "texts_per_s_cold": round(cold_rate, 1),
            "texts_per_s_cached": round(cached, 1), "us_per_predict_one": round(us_one, 2)}


def compare(name: str, recs: list[dict]) -> None:
    """river baselines, prequential from scratch, against this model from scratch and warm."""
    from river import compose, feature_extraction, linear_model, naive_bayes, optim

    base = fresh()
    fz = base.featurizer

    def hashed(text: str, lang: str | None) -> dict:
        g = base.resolve_lang(text, lang)
        g = "en" if g == "und" else g
        x: dict[int, float] = {}
        for j in fz.features(text, g):
            x[j] = x.get(j, 0.0) + 1.0
        return x

    scratch = SentimentModel(base.config, base.lexicons)
    contenders = {
        "river TFIDF+SoftmaxRegression(SGD)": (
            compose.Pipeline(feature_extraction.TFIDF(), linear_model.SoftmaxRegression()), str),
        "river BagOfWords+MultinomialNB": (
            compose.Pipeline(feature_extraction.BagOfWords(), naive_bayes.MultinomialNB()), str),
        "river SoftmaxRegression(AdaGrad) on our features": (
            linear_model.SoftmaxRegression(optimizer=optim.AdaGrad(0.1)), hashed),
        "ours from scratch (no prior)": (scratch, None),
        "ours warm (shipped prior)": (fresh(), None),
    }
    for label, (model, xf) in contenders.items():
        y, p = [], []
        t0 = time.perf_counter()
        for r in recs:
            t, g = r["text"], r.get("lang")
            if xf is None:
                s = model.predict_one(t, g)
                p.append(_label_index(s))
                model.learn_one(t, r["label"], g)
            else:
                x = xf(t, g) if xf is hashed else t
                pr = model.predict_one(x)
                p.append(LABELS.index(pr) if pr in LABELS else 1)
                model.learn_one(x, r["label"])
            y.append(LABELS.index(r["label"]))
        us = (time.perf_counter() - t0) / len(recs) * 1e6
        print(f"  compare {name:22s} {label:50s} {macro_f1_acc(y, p)} {us:7.0f} µs/(predict+learn)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--compare", action="store_true", help="also run river baselines")
    ap.add_argument("--no-speed", action="store_true", help="quality only (no texts/s)")
    ap.add_argument("--model", help="artifact to test instead of the shipped model "
                    "(python -m pipeline.sentiment.build --out PATH)")
    args = ap.parse_args(argv)
    global fresh
    if args.model:
        fresh = lambda model=args.model: SentimentModel.from_file(model)  # noqa: E731
    files = args.files or sorted(glob.glob(DEFAULT_GLOB))
    if not files:
        raise SystemExit("no input files")
    base = fresh()
    out: dict = {"datasets": {}}
    everything: list[dict] = []
    print(f"{'dataset':22s} {'n':>6s}  {'cold F1':>7s} {'cold acc':>8s}  {'warm F1':>7s} {'warm acc':>8s}"
          f"  {'60/40 F1':>7s}")
    for path in files:
        name = Path(path).parent.name
        recs = load(path)
        everything.extend(recs)
        c = cold(base, recs)
        w = warm(recs)
        h = heldout(recs)
        out["datasets"][name] = {"cold": c, "warm": w, "heldout": h}
        print(f"{name:22s} {len(recs):6d}  {c['macro_f1']:7.4f} {c['accuracy']:8.4f}  "
              f"{w['macro_f1']:7.4f} {w['accuracy']:8.4f}  {h['macro_f1']:7.4f}", flush=True)
        if args.compare:
            compare(name, recs)
    if args.no_speed:
        if args.json:
            print(orjson.dumps(out).decode())
        return
    sp = speed(everything)
    out.update(sp)
    out["texts_per_s"] = sp["texts_per_s_unseen"]
    print(f"scoring (predict_many, batches of {BATCH}, one core, CPU time): "
          f"{sp['texts_per_s_unseen']:,.0f} never-seen texts/s (warm vocabulary; median of "
          f"{REPEAT}, best {sp['texts_per_s_unseen_best']:,.0f}), "
          f"{sp['texts_per_s_cold']:,.0f} texts/s on a fresh model (every chunk new), "
          f"{sp['texts_per_s_cached']:,.0f} texts/s repeated; predict_one "
          f"{sp['us_per_predict_one']:.1f} µs")
    if args.json:
        print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
