"""Hashed sparse features for tweet sentiment, computed per batch with numpy.

A batch of tweets (one language) is tokenised by one regex pass over the joined texts
(:func:`pipeline.text.batch_pieces`); each distinct raw piece (``"GÉNIAL"``, ``"l'"``, ``"😡"``)
is mapped once to a vocabulary id whose static properties (hashed unigram, negated unigram, word
hash, stem/hashtag/caps/elongation features, lexicon valence, negator/intensifier flags) are
stored in numpy columns. Per batch only three C-level passes over the pieces remain in Python
(``findall``, one ``dict.get`` per piece via ``map``, an array conversion); negation scopes,
bigrams, lexicon sums and feature rows are numpy operations over the whole batch. The vocabulary
is bounded (``cache_size`` pieces; cleared when full, between batches).

Features (binary, hashed with CRC-32 into ``2**bits`` buckets, so stable across processes):

* word unigrams; a word inside a negation scope is a different feature (``"¬good"``);
* word bigrams (consecutive words; a link, handle, emoji or punctuation breaks them);
* a 5-character stem of each longer word; hashtags give the tag and its text as a word;
* emojis and emoticons as unigrams; ``<allcaps>``, ``<elong>`` (``"noooo"``), ``!!``/``??`` marks;
* lexicon evidence, bucketed into a few binary *meta* features shared by both languages: summed
  positive and negative valence (VADER scale; negation flips and damps a valence by -0.74, an
  intensifier before a word scales its valence by 1.3), and their difference, so weights learnt
  on the EN lexicon transfer to the FR lexicon;
* a bias and a per-language bias (meta).

A negation scope opens at a negator (EN/FR, ``n'``, any ``n't``) and covers the next
``neg_width`` tokens, closed early by punctuation, a link or "but"/"mais".

>>> f = Featurizer(FeatureConfig(bits=18), lexicons={"en": {"good": 1.9}, "fr": {}})
>>> rows = f.transform(["not good", "good"], ["en", "en"])
>>> len(rows) == 2 and rows[0] != rows[1]
True
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

from itertools import chain

from pipeline.text import CLAUSE_END, clean_token, is_negator, pieces, strip_accents

__all__ = ["Batch", "FeatureConfig", "Featurizer", "NEG_SCALAR", "N_META", "INTENSIFIERS"]

#: Number of meta features per tweet (bias, language bias, three lexicon buckets).
N_META = 5

#: VADER's damping of a negated valence.
NEG_SCALAR = -0.74

#: Valence multiplier of a word right after an intensifier.
BOOST = 1.3

#: Words that intensify the next word's valence (EN/FR); they carry no valence themselves.
INTENSIFIERS = frozenset(
    """very so really too extremely super totally absolutely incredibly most such soo
    très trop vraiment tellement hyper vachement carrément totalement absolument""".split()
)

# Valence applied to a word under negation when plain flipping is wrong ("pas terrible" means
# "not great", i.e. negative; "pas mal" means "rather good").
_NEGATED_OVERRIDE = {"terrible": -1.2, "terribles": -1.2, "fameux": -1.0, "folichon": -1.0}

_MULT = 0x9E3779B1
_MARKS = ("!!", "??", "!?", "!", "?")
_POS_EDGES = np.array([0.0, 1.0, 2.0, 3.5, 6.0])
_DIFF_EDGES = np.array([-4.0, -2.5, -1.2, -0.3, 0.3, 1.2, 2.5, 4.0])

# vocabulary entry kinds
_DROP, _WORD, _OTHER, _CLAUSE, _SEP = 0, 1, 2, 3, 4
# Sentinel chunk between the texts of a batch (not whitespace for str.split, not in tweets).
_SEP_CHUNK = "\x00"
_N_EXTRA = 3


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Featurisation settings; part of the model state (changing them invalidates weights)."""

    bits: int = 20
    bigrams: bool = True
    lang_prefix: bool = True
    neg_width: int = 3
    stem: int = 5
    cache_size: int = 200_000

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> "FeatureConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(slots=True)
class Batch:
    """Features of ``n`` tweets.

    Attributes
    ----------
    rows, feats
        Text features: ``feats[k]`` belongs to tweet ``rows[k]`` (repeats count once each).
    n_text
        Number of text features per tweet.
    meta
        ``(n, N_META)`` meta feature indices.
    pos, neg
        Summed positive / negative lexicon valence per tweet.
    """

    rows: np.ndarray
    feats: np.ndarray
    n_text: np.ndarray
    meta: np.ndarray
    pos: np.ndarray
    neg: np.ndarray


def _h(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


class _Vocab:
    """Raw piece -> id, with the piece's static properties as numpy columns; and the cache of
    whitespace chunk -> piece ids."""

    def __init__(self, size: int = 1024):
        self.ids: dict[str, int] = {}
        self.chunks: dict[str, tuple[int, ...]] = {_SEP_CHUNK: (0,)}
        self.kind = np.zeros(size, np.int8)
        self.negator = np.zeros(size, bool)
        self.intens = np.zeros(size, bool)
        self.uni = np.full(size, -1, np.int64)
        self.uni_neg = np.full(size, -1, np.int64)
        self.wid = np.zeros(size, np.uint64)
        self.extra = np.full((size, _N_EXTRA), -1, np.int64)
        self.val = np.zeros(size)
        self.val_neg = np.zeros(size)

    def _grow(self, need: int) -> None:
        size = len(self.kind)
        if need <= size:
            return
        new = max(need, 2 * size)
        for name in ("kind", "negator", "intens", "uni", "uni_neg", "wid", "val", "val_neg"):
            old = getattr(self, name)
            arr = np.full(new, -1 if name in ("uni", "uni_neg") else 0, old.dtype)
            arr[:size] = old
            setattr(self, name, arr)
        ex = np.full((new, _N_EXTRA), -1, np.int64)
        ex[:size] = self.extra
        self.extra = ex


class Featurizer:
    """Turn tweets into hashed feature indices (see module docstring).

    Parameters
    ----------
    config
        :class:`FeatureConfig`.
    lexicons
        ``{"en": {token: valence}, "fr": {token: valence}}``; emoji and emoticon entries are
        looked up in both languages' tables.
    """

    def __init__(self, config: FeatureConfig, lexicons: Mapping[str, Mapping[str, float]]):
        self.config = config
        self.dim = 1 << config.bits
        self.mask = self.dim - 1
        self.lexicons = {k: dict(v) for k, v in lexicons.items()}
        self._vocab: dict[str, _Vocab] = {}
        # accent-free spellings of lexicon entries, for tweets typed without accents ("genial")
        self._bare = {
            lang: {b: v for k, v in sorted(lex.items(), reverse=True)
                   if (b := strip_accents(k)) != k and b not in lex}
            for lang, lex in self.lexicons.items()
        }
        self._bias = self._idx("<bias>")
        self._lang_bias = {lang: self._idx("<lang>" + lang) for lang in ("en", "fr")}
        self._lex_pos = np.array([self._idx(f"<lexpos{i}>") for i in range(6)], np.int64)
        self._lex_neg = np.array([self._idx(f"<lexneg{i}>") for i in range(6)], np.int64)
        self._lex_diff = np.array([self._idx(f"<lexdiff{i}>") for i in range(9)], np.int64)
        self._allcaps = self._idx("<allcaps>")
        self._elong = self._idx("<elong>")

    def meta_indices(self) -> list[int]:
        """Indices of every meta feature (bias, language biases, lexicon buckets)."""
        return sorted({self._bias, *self._lang_bias.values(), *self._lex_pos.tolist(),
                       *self._lex_neg.tolist(), *self._lex_diff.tolist()})

    # -- hashing ---------------------------------------------------------------------------
    def _idx(self, name: str) -> int:
        return _h(name) & self.mask

    def _lookup(self, lang: str, tok: str) -> float | None:
        lex = self.lexicons.get(lang, {})
        v = lex.get(tok)
        if v is None and len(tok) > 3 and _DOUBLE_RE.search(tok):
            v = lex.get(_squeeze1(tok))
        if v is None:
            bare = strip_accents(tok)
            v = lex.get(bare) if bare != tok else None
            if v is None:
                v = self._bare.get(lang, {}).get(bare)
        return v

    # -- vocabulary ------------------------------------------------------------------------
    def _row(self, piece: str, lang: str) -> tuple:
        """Static properties of a raw ``piece``:
        ``(kind, negator, intens, uni, uni_neg, wid, val, val_neg, extras)``."""
        if piece == _SEP_CHUNK:
            return (_SEP, False, False, -1, -1, 0, 0.0, 0.0, ())
        toks = clean_token(piece)
        if not toks:
            return (_DROP, False, False, -1, -1, 0, 0.0, 0.0, ())
        tok = toks[-1]
        negator = is_negator(tok) if len(toks) == 1 else any(map(is_negator, toks))
        if tok in CLAUSE_END:
            u = self._idx(tok) if tok in _MARKS else -1
            return (_CLAUSE, negator, False, u, u, 0, 0.0, 0.0, ())
        cfg = self.config
        pre = lang + ":" if cfg.lang_prefix else ""
        extra: list[int] = []
        if tok[0] == "#" and len(tok) > 1:  # hashtag: the tag itself plus its text as a word
            extra.append(self._idx(pre + tok))
            tok = tok[1:]
        elif tok[0] == "@":
            tok = "<user>"
        v = self._lookup(lang, tok)
        if v is None:
            val = val_neg = 0.0
        else:
            val, val_neg = v, _NEGATED_OVERRIDE.get(tok, v * NEG_SCALAR)
        intens = tok in INTENSIFIERS
        if not tok[0].isalnum():
            u = self._idx(tok)
            return (_OTHER, negator, intens, u, u, 0, val, val_neg, tuple(extra))
        wid = _h(pre + tok)
        if cfg.stem and len(tok) > cfg.stem:
            extra.append(self._idx("s" + pre + tok[: cfg.stem]))
        if piece.isupper() and sum(map(str.isalpha, piece)) >= 3:
            extra.append(self._allcaps)
        if len(tok) > 2 and _TRIPLE_RE.search(piece):
            extra.append(self._elong)
        return (_WORD, negator, intens, wid & self.mask, self._idx("¬" + pre + tok), wid, val,
                val_neg, tuple(extra[:_N_EXTRA]))

    def _flush(self, voc: _Vocab, rows: list[tuple]) -> None:
        """Write the rows of the pieces added since the last flush into the numpy columns."""
        if not rows:
            return
        start = len(voc.ids) - len(rows)
        voc._grow(len(voc.ids))
        sl = slice(start, start + len(rows))
        cols = list(zip(*rows))
        voc.kind[sl] = cols[0]
        voc.negator[sl] = cols[1]
        voc.intens[sl] = cols[2]
        voc.uni[sl] = cols[3]
        voc.uni_neg[sl] = cols[4]
        voc.wid[sl] = cols[5]
        voc.val[sl] = cols[6]
        voc.val_neg[sl] = cols[7]
        for k, ex in enumerate(cols[8]):
            if ex:
                voc.extra[start + k, : len(ex)] = ex
        rows.clear()

    def _new_vocab(self, lang: str) -> _Vocab:
        voc = self._vocab[lang] = _Vocab()
        voc.ids[_SEP_CHUNK] = 0
        self._flush(voc, [self._row(_SEP_CHUNK, lang)])
        return voc

    def _chunk(self, voc: _Vocab, chunk: str, lang: str, new: list[tuple]) -> tuple[int, ...]:
        ids = voc.ids
        out = []
        for p in ((chunk,) if chunk.isalnum() else pieces(chunk)):
            i = ids.get(p)
            if i is None:
                i = ids[p] = len(ids)
                new.append(self._row(p, lang))
            out.append(i)
        t = voc.chunks[chunk] = tuple(out)
        return t

    def _ids(self, texts: Sequence[str], lang: str) -> tuple[_Vocab, np.ndarray]:
        voc = self._vocab.get(lang)
        if voc is None:
            voc = self._new_vocab(lang)
        n = len(texts)
        big = " \x00 ".join(texts)
        if big.count(_SEP_CHUNK) != n - 1:  # a text carried the sentinel
            big = " \x00 ".join(t.replace(_SEP_CHUNK, " ") for t in texts)
        chunks = big.split()
        tups = list(map(voc.chunks.get, chunks))
        if None in tups:
            if len(voc.chunks) + len(tups) > self.config.cache_size or \
                    len(voc.ids) > 2 * self.config.cache_size:
                voc = self._new_vocab(lang)
                tups = list(map(voc.chunks.get, chunks))
            get = voc.chunks.get
            new: list[tuple] = []
            tups = [t if t is not None else (get(c) or self._chunk(voc, c, lang, new))
                    for c, t in zip(chunks, tups)]
            self._flush(voc, new)
        return voc, np.fromiter(chain.from_iterable(tups), np.int64)

    # -- per batch -------------------------------------------------------------------------
    def batch(self, texts: Sequence[str], lang: str) -> Batch:
        """Features of ``texts``, all in language ``lang`` (see :class:`Batch`)."""
        n = len(texts)
        cfg = self.config
        voc, ids = self._ids(texts, lang)
        kind = voc.kind[ids]
        row = np.cumsum(kind == _SEP)
        keep = (kind != _DROP) & (kind != _SEP)
        ids, row, kind = ids[keep], row[keep], kind[keep]
        T = len(ids)
        pos = np.arange(T)
        # negation scope: the last negator before a token, not beyond the last barrier
        barrier = kind == _CLAUSE
        if T:
            barrier[0] = True
            barrier[1:] |= row[1:] != row[:-1]
        lastneg = np.maximum.accumulate(np.where(voc.negator[ids], pos, -1)) if T else pos
        prevneg = np.empty(T, np.int64)
        if T:
            prevneg[0] = -1
            prevneg[1:] = lastneg[:-1]
        lastbar = np.maximum.accumulate(np.where(barrier, pos, -1)) if T else pos
        negated = (prevneg >= lastbar) & (pos - prevneg <= cfg.neg_width)
        # text features: unigrams, static extras, bigrams
        uni = np.where(negated, voc.uni_neg[ids], voc.uni[ids])
        m = uni >= 0
        f_parts, r_parts = [uni[m]], [row[m]]
        ex = voc.extra[ids]
        m = ex >= 0
        if m.any():
            f_parts.append(ex[m])
            r_parts.append(np.broadcast_to(row[:, None], ex.shape)[m])
        if cfg.bigrams and T > 1:
            w = voc.wid[ids]
            m = (w[:-1] != 0) & (w[1:] != 0) & (row[:-1] == row[1:])
            if m.any():
                big = ((w[:-1][m] * np.uint64(_MULT)) ^ w[1:][m]) & np.uint64(self.mask)
                f_parts.append(big.astype(np.int64))
                r_parts.append(row[1:][m])
        feats = np.concatenate(f_parts)
        rows = np.concatenate(r_parts)
        # lexicon evidence
        val = np.where(negated, voc.val_neg[ids], voc.val[ids])
        if T > 1:
            boost = voc.intens[ids[:-1]] & (row[:-1] == row[1:])
            if boost.any():
                val[1:][boost] *= BOOST
        lpos = np.bincount(row, weights=np.maximum(val, 0.0), minlength=n)
        lneg = np.bincount(row, weights=np.maximum(-val, 0.0), minlength=n)
        meta = np.empty((n, N_META), np.int64)
        meta[:, 0] = self._bias
        meta[:, 1] = self._lang_bias.get(lang, self._bias)
        meta[:, 2] = self._lex_pos[np.searchsorted(_POS_EDGES, lpos, side="left")]
        meta[:, 3] = self._lex_neg[np.searchsorted(_POS_EDGES, lneg, side="left")]
        meta[:, 4] = self._lex_diff[np.searchsorted(_DIFF_EDGES, lpos - lneg, side="right")]
        n_text = np.bincount(rows, minlength=n)
        return Batch(rows, feats, n_text, meta, lpos, lneg)

    def features(self, text: str, lang: str) -> list[int]:
        """Feature indices of one tweet (with repeats): text features, then the
        :data:`N_META` meta features."""
        b = self.batch([text], lang)
        return b.feats.tolist() + b.meta[0].tolist()

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> list[list[int]]:
        """Feature index lists for a batch (see :meth:`features`)."""
        out: list[list[int]] = [[] for _ in texts]
        for lang in sorted(set(langs)):
            sel = [i for i, g in enumerate(langs) if g == lang]
            b = self.batch([texts[i] for i in sel], lang)
            order = np.argsort(b.rows, kind="stable")
            per = np.split(b.feats[order], np.cumsum(b.n_text)[:-1])
            for k, i in enumerate(sel):
                out[i] = per[k].tolist() + b.meta[k].tolist()
        return out

    def lexicon_score(self, text: str, lang: str) -> tuple[float, float]:
        """Summed positive and negative valence of ``text`` (negation applied), for inspection.

        >>> f = Featurizer(FeatureConfig(bits=16), {"en": {"good": 1.9}, "fr": {"bon": 1.9}})
        >>> f.lexicon_score("not good", "en"), f.lexicon_score("pas bon", "fr")
        ((0.0, 1.406), (0.0, 1.406))
        """
        b = self.batch([text], lang)
        return round(float(b.pos[0]), 6), round(float(b.neg[0]), 6)


_SQUEEZE1_RE = re.compile(r"(.)\1+", re.DOTALL)
_DOUBLE_RE = re.compile(r"(.)\1", re.DOTALL)
_TRIPLE_RE = re.compile(r"([^\W\d_])\1\1", re.IGNORECASE)


def _squeeze1(tok: str) -> str:
    return _SQUEEZE1_RE.sub(r"\1", tok)
