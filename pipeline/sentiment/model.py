"""Bilingual (EN/FR) tweet sentiment: hashed linear softmax with a shipped prior, learnt online.

Model
-----
``P(class | tweet) = softmax(s(x) * sum_j W[j])`` over the hashed binary features ``j`` of the
tweet (:mod:`pipeline.sentiment.features`), ``s(x) = 1/sqrt(#features)`` (L2-normalised binary
vector). ``W`` (``2**bits x 3``) starts from the shipped cold-start weights (the *prior*, see
``README.md``) and is refined online by :meth:`SentimentModel.learn_one`.

Why not river's estimators directly
-----------------------------------
The project's online-model library is river, and this class keeps river's protocol
(``learn_one``/``predict_one``/``predict_proba_one``, ``to_state``/``from_state``). Its learner is
a small numpy AdaGrad softmax rather than a river estimator because of the per-event scoring
budget (~25 µs/mention) and the shipped prior. Measured with ``bench/sentiment.py --compare``
(prequential macro-F1 airline / TweetEval / French, all from scratch, 2-core box under load):

* river ``TFIDF | SoftmaxRegression`` (default SGD): 0.33 / 0.30 / 0.51;
* river ``BagOfWords | MultinomialNB``: 0.64 / 0.54 / 0.55;
* river ``SoftmaxRegression(optimizer=AdaGrad(0.1))`` on *these* hashed features (dict input):
  0.751 / 0.627 / 0.608, i.e. as good as this learner from scratch (0.753 / 0.635 / 0.612 with
  the state-version-3 learner; 0.739 / 0.630 / 0.635 with version 2's, see "Online update"), but
  predict+learn costs 370-2000 µs per tweet and there is no batch scoring path;
* this model: batch scoring is one numpy gather + ``reduceat`` (``bench/sentiment.py`` reports
  texts/s), and the prior lives in the same weight array that learning refines.

So river's own AdaGrad softmax validates the learner; the departure is for speed and for the
prior, not for accuracy.

Online update (AdaGrad, class-balanced)
---------------------------------------
For a labelled tweet with features ``x`` (value ``s(x)`` each), probabilities ``p`` and one-hot
``y``: ``g = w_y * (p - y)``; for each feature row ``j`` and class ``c``:
``G[j, c] += (s g_c)^2`` and ``W[j, c] -= lr_j * s * g_c / sqrt(G[j, c] + eps)``, with
``lr_j = lr`` (0.35) for text rows and ``meta_lr`` (0.05) for the meta rows (bias, language
bias, lexicon buckets). ``w_y`` re-weights classes to balance them (inverse frequency of the
labels learnt so far, clipped to [0.5, 4]) when ``class_balance`` is on; it is off by default
because prequential macro-F1 measured slightly better without it (airline 0.73 vs 0.72).
Accumulators of the prior's *meta* rows start at ``prior_strength``, so a first analyst label
nudges, and does not erase, what the lexicons give (all French has at cold start); the prior's
*text* rows (words, bigrams, stems learnt on TweetEval) start at ``prior_text_strength`` (0 by
default: they learn at full speed, like rows unknown to the prior), because on a new domain the
stream's labels should overrule the TweetEval vocabulary quickly. Measured (prequential macro-F1
airline / French / TweetEval 40 % with a prior built on its first 60 %, per-row accumulators,
one rate 0.4): text rows at 0.1 (the earlier default, same as the meta rows) 0.734 / 0.636 /
0.638; 0.03: 0.738 / 0.637 / 0.635; 0.01: 0.741 / 0.636 / 0.637; 0.001: 0.745 / 0.634 / 0.640;
0: 0.746 / 0.635 / 0.637.

State versions 1 and 2 had one accumulator per feature row (``G[j] += s^2 |g|^2``, shared by
the three classes) and one rate for all rows (``accumulator="row"``, ``meta_lr = lr`` = 0.4);
they still load so, and learn on exactly as they did. Version 3's per-weight accumulators and
slower meta rows are what makes river's ``SoftmaxRegression(AdaGrad)`` on these features better
than the version-2 learner from scratch (airline 0.751 vs 0.739): river keeps one accumulator per
weight, and its unnormalised text features (raw counts, rate 0.1) learn several times faster
than its bias feature, where ours (``s = 1/sqrt(n)``) learnt them slower than the meta rows.
Measured with the prior (same streams): per-weight alone 0.752 / 0.625 / 0.628; meta rows at
0.05 alone 0.749 / 0.647 / 0.648; **both, text rate 0.35: 0.759 / 0.645 / 0.644** (base 0.746
/ 0.635 / 0.637). ``G`` is ``2**bits x 3`` float64 (24 MB at 20 bits, 8 MB before), plus a 1 MB mask of the
meta rows.

Languages
---------
``lang`` given on the mention wins (region subtags dropped); Twitter's no-language codes and
``None`` fall back to :func:`pipeline.lang.detect`; a text with no linguistic evidence at all
(emoji only) is scored as ``default_lang`` ("en"), because emojis and emoticons are
language-neutral features. Any other language is **not scored**: the result has ``lang="und"``,
``label=None``, ``score=0.0`` and uniform ``probs`` (1/3 each), and ``learn_one`` ignores it.
"""

from __future__ import annotations

import base64
import gzip
import math
from dataclasses import dataclass
from importlib import resources
from typing import Mapping, Sequence

import numpy as np
import orjson

from pipeline.lang import UNDETERMINED, resolve
from pipeline.sentiment.features import N_META, FeatureConfig, Featurizer

__all__ = ["LABELS", "Sentiment", "SentimentModel", "UNSCORED"]

LABELS = ("negative", "neutral", "positive")
_LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}
# 2: ``params.prior_text_strength``; a version-1 state loads with it equal to
# ``prior_strength`` (what version 1 did), so it learns on exactly as it would have.
# 3: ``params.meta_lr`` and ``params.accumulator`` ("weight": ``G`` is per weight, n x 3); a
# version-1 or -2 state loads with ``meta_lr = lr`` and ``accumulator="row"`` (what they did).
_STATE_VERSION = 3
_ACCUMULATORS = ("row", "weight")
_DEFAULT_ARTIFACT = "model_default.json.gz"
_CLASSES = np.arange(3)
# Mention languages that :func:`pipeline.lang.resolve` maps to themselves (fast path).
_KNOWN_LANG = {"en": "en", "fr": "fr"}


@dataclass(frozen=True, slots=True)
class Sentiment:
    """Sentiment of one mention.

    Attributes
    ----------
    label
        ``"negative"``, ``"neutral"`` or ``"positive"``; ``None`` when not scored (``lang="und"``).
    score
        ``P(positive) - P(negative)``, in [-1, 1]; 0.0 when not scored.
    probs
        ``(P(negative), P(neutral), P(positive))``; ``(1/3, 1/3, 1/3)`` when not scored.
    lang
        ``"en"``, ``"fr"``, or ``"und"`` (another language: not scored).
    """

    label: str | None
    score: float
    probs: tuple[float, float, float]
    lang: str

    @property
    def scored(self) -> bool:
        """False for texts in an unsupported language."""
        return self.label is not None


UNSCORED = Sentiment(label=None, score=0.0, probs=(1 / 3, 1 / 3, 1 / 3), lang=UNDETERMINED)

_new = object.__new__
_set_label, _set_score, _set_probs, _set_lang = (
    Sentiment.__dict__[f].__set__ for f in ("label", "score", "probs", "lang"))


def _sentiment(label: str | None, score: float, probs: tuple[float, float, float],
               lang: str) -> Sentiment:
    """``Sentiment(label, score, probs, lang)`` with its slots set directly, for one per mention:
    the frozen dataclass's ``__init__`` goes through ``object.__setattr__`` for each field and
    costs about 1.6 times more. The same object (it has no ``__post_init__``).

    >>> _sentiment("positive", 0.5, (0.1, 0.3, 0.6), "en") == Sentiment(
    ...     "positive", 0.5, (0.1, 0.3, 0.6), "en")
    True
    """
    s = _new(Sentiment)
    _set_label(s, label)
    _set_score(s, score)
    _set_probs(s, probs)
    _set_lang(s, lang)
    return s


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _unb64(s: str, dtype: str, shape: tuple[int, ...] = (-1,)) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype=dtype).reshape(shape).copy()


class SentimentModel:
    """Per-mention EN/FR sentiment, cold-start ready and learning from analysts' labels.

    Parameters
    ----------
    config
        Feature settings (:class:`~pipeline.sentiment.features.FeatureConfig`).
    lexicons
        ``{"en": {token: valence}, "fr": {...}}`` (VADER scale).
    lr
        AdaGrad base learning rate of :meth:`learn_one`.
    prior_strength
        Initial AdaGrad accumulator of the prior's meta rows (higher: the prior resists).
    prior_text_strength
        Initial AdaGrad accumulator of the prior's text rows (see module docstring).
    meta_lr
        AdaGrad base learning rate of the meta rows (bias, language bias, lexicon buckets);
        ``None``: ``lr``.
    accumulator
        ``"weight"``: one AdaGrad accumulator per weight (feature row x class); ``"row"``: one
        per feature row, shared by the three classes (state versions 1 and 2).
    class_balance
        Re-weight learnt labels by inverse class frequency.
    default_lang
        Language assumed for texts with no linguistic evidence (see module docstring).

    Examples
    --------
    >>> m = SentimentModel(FeatureConfig(bits=16), lexicons={"en": {}, "fr": {}})
    >>> m.predict_one("the app crashed again", lang="en").probs
    (0.3333333333333333, 0.3333333333333333, 0.3333333333333333)
    >>> for _ in range(3):
    ...     m.learn_one("the app crashed again", "negative", lang="en")
    >>> m.predict_one("the app crashed again", lang="en").label
    'negative'
    >>> m.predict_one("la app a encore planté").lang, m.predict_one("el vuelo fue muy malo").label
    ('fr', None)
    """

    def __init__(
        self,
        config: FeatureConfig | None = None,
        lexicons: Mapping[str, Mapping[str, float]] | None = None,
        lr: float = 0.35,
        prior_strength: float = 0.1,
        prior_text_strength: float = 0.0,
        class_balance: bool = False,
        default_lang: str = "en",
        normalize: bool = True,
        meta_lr: float | None = 0.05,
        accumulator: str = "weight",
    ):
        self.config = config or FeatureConfig()
        self.lexicons = {k: dict(v) for k, v in (lexicons or {"en": {}, "fr": {}}).items()}
        self.featurizer = Featurizer(self.config, self.lexicons)
        self.lr = float(lr)
        self.prior_strength = float(prior_strength)
        self.prior_text_strength = float(prior_text_strength)
        self.class_balance = bool(class_balance)
        self.default_lang = default_lang
        self.normalize = bool(normalize)
        self.meta_lr = self.lr if meta_lr is None else float(meta_lr)
        if accumulator not in _ACCUMULATORS:
            raise ValueError(f"accumulator must be one of {_ACCUMULATORS}, not {accumulator!r}")
        self.accumulator = accumulator
        dim = self.featurizer.dim
        self.W = np.zeros((dim, 3), dtype=np.float64)
        self.G = np.zeros(dim if accumulator == "row" else (dim, 3), dtype=np.float64)
        self._is_meta = np.zeros(dim, dtype=bool)  # meta rows learn at ``meta_lr``
        self._is_meta[self.featurizer.meta_indices()] = True
        self._prior_idx = np.zeros(0, dtype=np.int64)
        self._prior_val = np.zeros((0, 3), dtype=np.float64)
        self._touched: set[int] = set()
        self.class_counts = [0, 0, 0]
        self.n_learned = 0

    # ------------------------------------------------------------------ prior
    def set_prior(self, idx: np.ndarray, val: np.ndarray) -> None:
        """Install cold-start weights ``W[idx] = val`` (forgets anything learnt since)."""
        idx = np.asarray(idx, dtype=np.int64)
        # float32 precision, so that the state stores it exactly in half the bytes
        val = np.asarray(val, dtype=np.float32).astype(np.float64).reshape(-1, 3)
        self.W[:] = 0.0
        self.G[:] = 0.0
        self.W[idx] = val
        meta = np.isin(idx, self.featurizer.meta_indices())
        g0 = np.where(meta, self.prior_strength, self.prior_text_strength)
        self.G[idx] = g0 if self.accumulator == "row" else g0[:, None]
        self._prior_idx, self._prior_val = idx, val
        self._touched = set()
        self.class_counts = [0, 0, 0]
        self.n_learned = 0

    @classmethod
    def default(cls) -> "SentimentModel":
        """The shipped cold-start model (see ``pipeline/sentiment/README.md``).

        >>> SentimentModel.default().predict_one("I love it, thank you!", lang="en").label
        'positive'
        """
        raw = resources.files("pipeline.sentiment").joinpath(_DEFAULT_ARTIFACT).read_bytes()
        return cls.from_state(orjson.loads(gzip.decompress(raw)))

    @classmethod
    def from_file(cls, path: str) -> "SentimentModel":
        """A model from an artifact written by ``python -m pipeline.sentiment.build --out``
        (gzip'd JSON of :meth:`to_state`)."""
        with open(path, "rb") as fh:
            return cls.from_state(orjson.loads(gzip.decompress(fh.read())))

    # ---------------------------------------------------------------- language
    def resolve_lang(self, text: str, lang: str | None = None) -> str:
        """``"en"``/``"fr"`` to score ``text`` in, or ``"und"`` (see module docstring)."""
        return resolve(lang, text, default=self.default_lang)

    # ---------------------------------------------------------------- scoring
    def _logits(self, texts: Sequence[str], lang: str) -> np.ndarray:
        # Per class, one bincount of the gathered weights over the feature rows: each tweet's
        # sum runs over its own features in the same order whatever the batch, so predict_one
        # and predict_many give bit-identical probabilities.
        b = self.featurizer.batch(texts, lang)
        n = len(texts)
        Wf = np.take(self.W, b.feats, axis=0)  # np.take: ~3x faster than fancy indexing here
        rows3 = (b.rows * 3)[:, None] + _CLASSES
        text = np.bincount(rows3.ravel(), weights=Wf.ravel(), minlength=3 * n).reshape(n, 3)
        text = text.astype(np.float64, copy=False)  # (int64 when there are no features)
        if self.normalize:
            text *= (1.0 / np.sqrt(np.maximum(b.n_text, 1)))[:, None]
        Wm = np.take(self.W, b.meta, axis=0)
        return text + Wm[:, 0] + Wm[:, 1] + Wm[:, 2] + Wm[:, 3] + Wm[:, 4]

    @staticmethod
    def _softmax(z: np.ndarray) -> np.ndarray:
        z = z - z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict_proba_many(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """Class probabilities (n x 3: neg, neu, pos) for texts whose language is resolved
        already ("en"/"fr"); no ``und`` handling."""
        n = len(texts)
        if not n:
            return np.zeros((0, 3))
        first = langs[0]
        if all(g == first for g in langs):
            return self._softmax(self._logits(texts, first))
        z = np.empty((n, 3))
        for lang in sorted(set(langs)):
            sel = [i for i, g in enumerate(langs) if g == lang]
            z[sel] = self._logits([texts[i] for i in sel], lang)
        return self._softmax(z)

    def predict_many(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> list[Sentiment]:
        """Score a batch (vectorised); element-wise equal to :meth:`predict_one`.

        >>> m = SentimentModel(FeatureConfig(bits=12), {"en": {}, "fr": {}})
        >>> [s.lang for s in m.predict_many(["hello there", "hola amigos", "merci"], [None, "es", "fr"])]
        ['en', 'und', 'fr']
        """
        if langs is None:
            langs = [None] * len(texts)
        if len(langs) != len(texts):
            raise ValueError("texts and langs differ in length")
        resolved = list(map(_KNOWN_LANG.get, langs))  # most mentions: "en"/"fr" given
        if None in resolved:
            dl = self.default_lang
            resolved = [g or resolve(lang, t, dl) for t, lang, g in zip(texts, langs, resolved)]
        keep = [i for i, g in enumerate(resolved) if g != UNDETERMINED]
        n = len(texts)
        if not keep:
            return [UNSCORED] * n
        if len(keep) == n:
            probs = self.predict_proba_many(texts, resolved)
        else:
            probs = self.predict_proba_many([texts[i] for i in keep], [resolved[i] for i in keep])
        # per mention, in C: its label, P(pos) - P(neg) (the same float subtraction as on the
        # Python floats), its probabilities as a tuple
        made = map(_sentiment, map(LABELS.__getitem__, probs.argmax(axis=1).tolist()),
                   (probs[:, 2] - probs[:, 0]).tolist(), map(tuple, probs.tolist()),
                   resolved if len(keep) == n else [resolved[i] for i in keep])
        if len(keep) == n:
            return list(made)
        out: list[Sentiment] = [UNSCORED] * n
        for i, s in zip(keep, made):
            out[i] = s
        return out

    def predict_one(self, text: str, lang: str | None = None) -> Sentiment:
        """Score one mention (same numbers as :meth:`predict_many`, without batch overhead).

        >>> m = SentimentModel(FeatureConfig(bits=12), {"en": {}, "fr": {}})
        >>> m.predict_one("great", lang="de")
        Sentiment(label=None, score=0.0, probs=(0.3333333333333333, 0.3333333333333333, 0.3333333333333333), lang='und')
        """
        g = resolve(lang, text, self.default_lang)
        if g == UNDETERMINED:
            return UNSCORED
        p = self._softmax(self._logits([text], g))[0].tolist()
        best = 0 if p[0] >= p[1] and p[0] >= p[2] else (1 if p[1] >= p[2] else 2)
        return Sentiment(LABELS[best], p[2] - p[0], (p[0], p[1], p[2]), g)

    def predict_proba_one(self, text: str, lang: str | None = None) -> dict[str, float]:
        """river-style ``{label: probability}`` (empty for an unscored language)."""
        s = self.predict_one(text, lang)
        return dict(zip(LABELS, s.probs)) if s.scored else {}

    # --------------------------------------------------------------- learning
    def _class_weight(self, y: int) -> float:
        if not self.class_balance:
            return 1.0
        c = self.class_counts
        total = c[0] + c[1] + c[2]
        w = (total + 3.0) / (3.0 * (c[y] + 1.0))
        return min(4.0, max(0.5, w))

    def learn_one(self, text: str, label: str, lang: str | None = None) -> None:
        """Learn an analyst's label for one mention (ignored for unsupported languages).

        Parameters
        ----------
        text
            The mention's text.
        label
            ``"negative"``, ``"neutral"`` or ``"positive"``.
        lang
            The mention's ``lang`` if known.
        """
        y = _LABEL_INDEX[label]
        g_lang = resolve(lang, text, self.default_lang)
        if g_lang == UNDETERMINED:
            return
        idx, x = self._example(text, g_lang)
        self.class_counts[y] += 1
        self._step(idx, x, y)
        self._touched.update(idx.tolist())
        self.n_learned += 1

    def _example(self, text: str, lang: str) -> tuple[np.ndarray, np.ndarray]:
        """Distinct feature rows of ``text`` and their values (length-normalised text part)."""
        b = self.featurizer.batch([text], lang)
        n_text = int(b.n_text[0])
        s = 1.0 / math.sqrt(max(n_text, 1)) if self.normalize else 1.0
        both = np.concatenate((b.feats, b.meta[0]))
        idx, inv = np.unique(both, return_inverse=True)
        x = np.bincount(inv, weights=np.concatenate((np.full(n_text, s), np.ones(N_META))))
        return idx, x

    def _step(self, idx: np.ndarray, x: np.ndarray, y: int) -> None:
        """One AdaGrad step on one labelled example (see module docstring)."""
        w_y = self._class_weight(y)
        Wr = self.W[idx]
        z = x @ Wr
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        p[y] -= 1.0
        g = w_y * p  # dLoss/dlogits
        self._update(idx, Wr, x[:, None] * g[None, :])

    def _update(self, idx: np.ndarray, Wr: np.ndarray, grad: np.ndarray) -> None:
        """AdaGrad on rows ``idx`` (distinct) of ``W`` (their current values ``Wr``), given the
        loss gradient ``grad`` (``len(idx) x 3``) with respect to them."""
        lr = np.where(self._is_meta[idx], self.meta_lr, self.lr)[:, None]
        if self.accumulator == "weight":
            G = self.G[idx] + grad * grad
            self.G[idx] = G
            self.W[idx] = Wr - lr * grad / np.sqrt(G + 1e-8)
        else:
            G = self.G[idx] + (grad * grad).sum(axis=1)
            self.G[idx] = G
            self.W[idx] = Wr - lr * grad / np.sqrt(G + 1e-8)[:, None]

    # ------------------------------------------------------------ persistence
    def to_state(self) -> dict:
        """JSON-able snapshot (only str/int/float/bool/None/list/dict; arrays as base64).

        >>> m = SentimentModel(FeatureConfig(bits=12), {"en": {"good": 1.9}, "fr": {}})
        >>> m.learn_one("good stuff", "positive", "en")
        >>> m2 = SentimentModel.from_state(orjson.loads(orjson.dumps(m.to_state())))
        >>> m2.predict_one("good stuff", "en") == m.predict_one("good stuff", "en")
        True
        """
        touched = np.array(sorted(self._touched), dtype=np.int64)
        return {
            "version": _STATE_VERSION,
            "labels": list(LABELS),
            "config": self.config.to_dict(),
            "params": {
                "lr": self.lr,
                "prior_strength": self.prior_strength,
                "prior_text_strength": self.prior_text_strength,
                "class_balance": self.class_balance,
                "default_lang": self.default_lang,
                "normalize": self.normalize,
                "meta_lr": self.meta_lr,
                "accumulator": self.accumulator,
            },
            "lexicons": self.lexicons,
            "prior": {"idx": _b64(self._prior_idx.astype("<i4")), "val": _b64(self._prior_val.astype("<f4"))},
            "learned": {
                "idx": _b64(touched.astype("<i4")),
                "W": _b64(self.W[touched].astype("<f8")),
                "G": _b64(self.G[touched].astype("<f8")),
                "class_counts": list(self.class_counts),
                "n_learned": self.n_learned,
            },
        }

    @classmethod
    def from_state(cls, state: Mapping) -> "SentimentModel":
        """Rebuild a model from :meth:`to_state`; predictions are identical.

        A version-1 state (before ``prior_text_strength``) loads with the prior's text rows at
        ``prior_strength``, as version 1 had them; a version-1 or -2 state (before ``meta_lr``
        and ``accumulator``) with ``meta_lr = lr`` and per-row accumulators. So an old snapshot
        scores and learns on exactly as it did."""
        version = state.get("version")
        if version not in (1, 2, _STATE_VERSION):
            raise ValueError(f"unsupported sentiment state version {version!r}")
        p = state["params"]
        m = cls(
            FeatureConfig.from_dict(state["config"]),
            state["lexicons"],
            lr=p["lr"],
            prior_strength=p["prior_strength"],
            prior_text_strength=p["prior_text_strength"] if version > 1 else p["prior_strength"],
            class_balance=p["class_balance"],
            default_lang=p["default_lang"],
            normalize=p["normalize"],
            meta_lr=p["meta_lr"] if version > 2 else None,
            accumulator=p["accumulator"] if version > 2 else "row",
        )
        pr = state["prior"]
        pv = pr["val"]
        m.set_prior(_unb64(pr["idx"], "<i4").astype(np.int64), _unb64(pv, "<f4", (-1, 3)))
        ln = state["learned"]
        idx = _unb64(ln["idx"], "<i4").astype(np.int64)
        if len(idx):
            m.W[idx] = _unb64(ln["W"], "<f8", (-1, 3))
            m.G[idx] = _unb64(ln["G"], "<f8", (-1,) if m.accumulator == "row" else (-1, 3))
            m._touched = set(idx.tolist())
        m.class_counts = [int(c) for c in ln["class_counts"]]
        m.n_learned = int(ln["n_learned"])
        return m
