"""Hashed sparse features for tweet sentiment, computed per batch with numpy.

A batch of tweets (one language) is joined into one string whose whitespace chunks are found
and hashed with numpy (:class:`pipeline.sentiment.chunks.ChunkHasher`: no Python object per
chunk); each chunk is found in a cache by that hash with one vectorised probe of a numpy
open-addressing table, and its piece ids are expanded with numpy (a cached chunk costs no Python
work at all). A chunk not cached (its string sliced out of the batch) is cut into regex pieces (:func:`pipeline.text.pieces`; the
common shapes -- word, ``@user``, ``#tag``, elision, link, compound, contraction, punctuation
tail -- without the regex, checked equal to it); each distinct raw piece (``"GÉNIAL"``,
``"l'"``, ``"😡"``) gets a vocabulary id once, whose static properties (hashed unigram, negated
unigram, word hash, stem/hashtag/caps/elongation features, lexicon valence, negator/intensifier
flags) are computed in bulk and stored in numpy columns. Negation scopes, bigrams, lexicon sums
and feature rows are numpy operations over the whole batch. Both caches are bounded
(``cache_size`` chunks, about twice as many pieces; cleared when full, between batches).

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

from itertools import chain, repeat
from operator import ne

from pipeline.sentiment.chunks import ChunkHasher
from pipeline.text import (CLAUSE_END, NEGATORS, clean_token, is_negator, pieces, squeeze,
                           strip_accents)

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
# Initial slots of the chunk table (a power of two; doubled when half full).
_TABLE0 = 1 << 15


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


class _Rows:
    """Vocabulary rows of new pieces, as numpy columns (the fields of :meth:`Featurizer._row`;
    defaults: a dropped piece with no feature)."""

    COLUMNS = ("kind", "negator", "intens", "uni", "uni_neg", "wid", "val", "val_neg", "extra")

    def __init__(self, n: int):
        self.n = n
        self.kind = np.zeros(n, np.int8)
        self.negator = np.zeros(n, bool)
        self.intens = np.zeros(n, bool)
        self.uni = np.full(n, -1, np.int64)
        self.uni_neg = np.full(n, -1, np.int64)
        self.wid = np.zeros(n, np.uint64)
        self.val = np.zeros(n)
        self.val_neg = np.zeros(n)
        self.extra = np.full((n, _N_EXTRA), -1, np.int64)

    def set(self, i: int, row: tuple) -> None:
        """Row ``i`` from a :meth:`Featurizer._row` tuple."""
        (self.kind[i], self.negator[i], self.intens[i], self.uni[i], self.uni_neg[i],
         self.wid[i], self.val[i], self.val_neg[i], ex) = row
        self.extra[i, : len(ex)] = ex[:_N_EXTRA]

    def copy_row(self, src: int, dst: list[int]) -> None:
        """Rows ``dst`` equal to row ``src``."""
        for name in self.COLUMNS:
            col = getattr(self, name)
            col[dst] = col[src]

    def row(self, i: int) -> tuple:
        """Row ``i`` as a :meth:`Featurizer._row` tuple."""
        ex = self.extra[i]
        return (int(self.kind[i]), bool(self.negator[i]), bool(self.intens[i]), int(self.uni[i]),
                int(self.uni_neg[i]), int(self.wid[i]), float(self.val[i]),
                float(self.val_neg[i]), tuple(ex[ex >= 0].tolist()))


def _pack_left(ex: np.ndarray) -> np.ndarray:
    """Each row's non-negative entries moved to its front, in order (the rest -1)."""
    cols = np.arange(ex.shape[1])
    order = np.argsort(np.where(ex >= 0, cols, cols + ex.shape[1]), axis=1)
    return np.take_along_axis(ex, order, axis=1)


def _h(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


class _Vocab:
    """Raw piece -> id, with the piece's static properties as numpy columns; and the cache of
    whitespace chunks, an open-addressing hash table in numpy (``tkey``/``tid``, keyed by the
    chunk's 64-bit :class:`~pipeline.sentiment.chunks.ChunkHasher` hash, random per process; a
    collision would give a chunk another's pieces). Chunk ``c``'s piece
    ids are ``flat[cstart[c] : cstart[c] + clen[c]]``."""

    def __init__(self, size: int = 1024):
        self.ids: dict[str, int] = {}
        self.tkey = np.zeros(_TABLE0, np.int64)
        self.tid = np.full(_TABLE0, -1, np.int64)
        self.ckey = np.zeros(size, np.int64)
        self.n_chunks = 0
        self.cstart = np.zeros(size, np.int64)
        self.clen = np.ones(size, np.int64)
        self.flat = np.zeros(size, np.int64)
        self.n_flat = 0
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

    def add_chunks(self, hashes: np.ndarray, lens: np.ndarray, pids: np.ndarray) -> np.ndarray:
        """Cache new chunks (distinct ``hashes``; chunk ``k`` has ``lens[k]`` pieces, the piece
        ids ``pids`` concatenated); returns their chunk ids."""
        first, m = self.n_chunks, len(lens)
        end = first + m
        if end > len(self.cstart):
            size = max(end, 2 * len(self.cstart))
            self.cstart = np.resize(self.cstart, size)
            self.clen = np.resize(self.clen, size)
            self.ckey = np.resize(self.ckey, size)
        need = self.n_flat + len(pids)
        if need > len(self.flat):
            self.flat = np.resize(self.flat, max(need, 2 * len(self.flat)))
        self.clen[first:end] = lens
        self.cstart[first:end] = self.n_flat + np.cumsum(lens) - lens
        self.flat[self.n_flat:need] = pids
        self.ckey[first:end] = hashes
        self.n_flat, self.n_chunks = need, end
        new_ids = np.arange(first, end, dtype=np.int64)
        if 2 * end > len(self.tid):  # keep the load under 1/2: rebuild twice as large
            cap = len(self.tid)
            while 2 * end > cap:
                cap *= 2
            self.tkey = np.zeros(cap, np.int64)
            self.tid = np.full(cap, -1, np.int64)
            self._place(self.ckey[:end], np.arange(end, dtype=np.int64))
        else:
            self._place(hashes, new_ids)
        return new_ids

    def _place(self, keys: np.ndarray, cids: np.ndarray) -> None:
        mask = len(self.tid) - 1
        slot = keys & mask
        while len(keys):
            cand = np.flatnonzero(np.take(self.tid, slot) < 0)
            at = slot[cand]
            self.tkey[at] = keys[cand]  # several claims on one free slot: one of them lands
            won = cand[np.take(self.tkey, at) == keys[cand]]
            self.tid[slot[won]] = cids[won]
            rest = np.ones(len(keys), bool)
            rest[won] = False
            keys, cids, slot = keys[rest], cids[rest], (slot[rest] + 1) & mask

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Chunk ids of ``hashes``, -1 for chunks not cached (linear probing, vectorised)."""
        mask = len(self.tid) - 1
        slot = hashes & mask
        out = np.take(self.tid, slot)
        todo = np.flatnonzero((out >= 0) & (np.take(self.tkey, slot) != hashes))
        while len(todo):
            slot[todo] = (slot[todo] + 1) & mask
            t = np.take(self.tid, slot[todo])
            out[todo] = t
            todo = todo[(t >= 0) & (np.take(self.tkey, slot[todo]) != hashes[todo])]
        return out


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
        self._hasher = ChunkHasher()
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
            bare = tok if tok.isascii() else strip_accents(tok)
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

    def _rows(self, new: list[str], lang: str) -> "_Rows":
        """Vocabulary rows of the ``new`` pieces as numpy columns (see :meth:`_row`; same
        values, :class:`_Rows`).

        The common shapes take a bulk path: words (one lower-casing and one squeeze over the
        joined words), hashtags (``#`` + word) and numbers (one shared row); CRC-32s by ``map``
        (the language prefix is a running CRC, no string concatenation), lexicon look-ups by
        ``map`` with the fallbacks of :meth:`_lookup` on the misses only. The others go through
        :meth:`_row`."""
        out = _Rows(len(new))
        if not new:
            return out
        pre = lang + ":" if self.config.lang_prefix else ""
        word_i = [i for i, p in enumerate(new) if p.isalnum()]
        words = [new[i] for i in word_i]
        low = "\n".join(words).lower()
        squeezed = squeeze(low).split("\n") if words else []
        low_w = low.split("\n") if words else []
        if len(squeezed) != len(words) or len(low_w) != len(words):  # a lower() made a "\n"
            word_i, words, squeezed, low_w = [], [], [], []
        slow: list[int] = []
        num: list[int] = []
        clause: list[int] = []
        bulk: list[int] = []  # pieces of the bulk path, in order
        toks: list[str] = []
        is_word = dict(zip(word_i, zip(squeezed, low_w)))
        for i, p in enumerate(new):
            sh = is_word.get(i)
            if sh is not None:
                if p.isdigit():
                    num.append(i)
                elif sh[0] in CLAUSE_END:
                    clause.append(i)
                else:
                    bulk.append(i)
                    toks.append(sh[0])
            elif p[0] == "#" and len(p) > 1 and p[1:].isalnum() and p.lower()[1:2].isalnum():
                bulk.append(i)
                toks.append("")  # filled below
            else:
                slow.append(i)
        # hashtags: the tag (lower case, not squeezed) is a feature, its text the word
        tag_k = [k for k, t in enumerate(toks) if not t]
        tags = [new[bulk[k]].lower() for k in tag_k]
        for k, t in zip(tag_k, tags):
            toks[k] = t[1:]
        crc, mask, stem = zlib.crc32, self.mask, self.config.stem
        n = len(bulk)
        if n:
            enc = list(map(str.encode, toks))
            c_pre = crc(pre.encode())
            wid = np.fromiter(map(crc, enc, repeat(c_pre, n)), np.uint64, n)
            c_neg = crc(("¬" + pre).encode())
            wneg = np.fromiter(map(crc, enc, repeat(c_neg, n)), np.int64, n) & mask
            b = np.array(bulk, np.int64)
            out.kind[b] = _WORD
            out.wid[b] = wid
            out.uni[b] = wid.astype(np.int64) & mask
            out.uni_neg[b] = wneg
            pieces_ = [new[i] for i in bulk]
            negs = [k for k, t in enumerate(toks) if t in NEGATORS]
            tagset = set(tag_k)
            out.negator[b[[k for k in negs if k not in tagset]]] = True
            out.intens[b[[k for k, t in enumerate(toks) if t in INTENSIFIERS]]] = True
            # lexicon valence (see _lookup for the order of the fallbacks)
            lex = self.lexicons.get(lang, {})
            vals = list(map(lex.get, toks))
            miss = [k for k, v in enumerate(vals) if v is None]
            if miss:
                mt = [toks[k] for k in miss]
                joined = "\n".join(mt)
                sq1 = _SQUEEZE1_RE.sub(r"\1", joined).split("\n")
                if len(sq1) != len(mt):
                    sq1 = [_squeeze1(t) for t in mt]
                found = list(map(self._bare.get(lang, {}).get, mt))
                for j in np.flatnonzero(np.fromiter(map(ne, mt, sq1), bool, len(mt))).tolist():
                    if len(mt[j]) > 3 and (v := lex.get(sq1[j])) is not None:
                        found[j] = v
                if not joined.isascii():
                    for j, t in enumerate(mt):
                        if not t.isascii():
                            found[j] = self._lookup(lang, t)
                for k, v in zip(miss, found):
                    vals[k] = v
            hit = [k for k, v in enumerate(vals) if v is not None]
            if hit:
                hv = [vals[k] for k in hit]
                out.val[b[hit]] = hv
                out.val_neg[b[hit]] = [_NEGATED_OVERRIDE.get(toks[k], v * NEG_SCALAR)
                                       for k, v in zip(hit, hv)]
            # extras, in this order, the first _N_EXTRA kept: tag, stem, <allcaps>, <elong>
            ex = np.full((n, 4), -1, np.int64)
            if tag_k:
                ex[tag_k, 0] = [crc(t.encode(), c_pre) & mask for t in tags]
            if stem:
                long_k = [k for k, t in enumerate(toks) if len(t) > stem]
                c_stem = crc(("s" + pre).encode())
                ex[long_k, 1] = [crc(toks[k][:stem].encode(), c_stem) & mask for k in long_k]
            caps = [k for k, p in enumerate(pieces_) if p.isupper()]
            ex[[k for k in caps if sum(map(str.isalpha, pieces_[k])) >= 3], 2] = self._allcaps
            # elongation: words whose squeeze changed them, hashtags with a tripled letter
            el = [k for k in tag_k if len(toks[k]) > 2]
            el += [k for k, i in enumerate(bulk)
                   if (sh := is_word.get(i)) is not None and sh[0] != sh[1] and len(sh[0]) > 2]
            ex[[k for k in el if _TRIPLE_RE.search(pieces_[k]) is not None], 3] = self._elong
            out.extra[b] = _pack_left(ex)[:, :_N_EXTRA]
        if num:
            slow.append(num[0])
        for i in clause:
            out.kind[i] = _CLAUSE
            out.negator[i] = is_word[i][0] in NEGATORS
        for i in slow:
            out.set(i, self._row(new[i], lang))
        if len(num) > 1:
            out.copy_row(num[0], num[1:])
        return out

    def _flush(self, voc: _Vocab, rows: "_Rows") -> None:
        """Write the rows (from :meth:`_rows`) of the pieces added last into the vocabulary's
        numpy columns."""
        m = rows.n
        if not m:
            return
        start = len(voc.ids) - m
        voc._grow(len(voc.ids))
        sl = slice(start, start + m)
        for name in _Rows.COLUMNS:
            getattr(voc, name)[sl] = getattr(rows, name)

    def _new_vocab(self, lang: str) -> _Vocab:
        voc = self._vocab[lang] = _Vocab()
        voc.ids[_SEP_CHUNK] = 0
        sep = _Rows(1)
        sep.set(0, self._row(_SEP_CHUNK, lang))
        self._flush(voc, sep)
        one = np.ones(1, np.int64)
        voc.add_chunks(self._hasher.chunks(_SEP_CHUNK)[0], one, one - 1)  # chunk 0: piece 0
        return voc

    def _add_chunks(self, voc: _Vocab, hashes: np.ndarray, missing: list[str],
                    lang: str) -> np.ndarray:
        """Cache the distinct ``missing`` chunks (with their ``hashes``, in the same order) with
        their piece ids; new pieces get vocabulary rows (:meth:`_rows`). Returns the chunk
        ids."""
        per_chunk = _pieces_each(missing)
        lens = np.fromiter(map(len, per_chunk), np.int64, len(per_chunk))
        allp = list(chain.from_iterable(per_chunk))
        ids = voc.ids
        pids = np.fromiter(map(ids.get, allp, repeat(-1, len(allp))), np.int64, len(allp))
        miss = np.flatnonzero(pids < 0).tolist()
        if miss:
            unknown = [allp[i] for i in miss]
            new = list(dict.fromkeys(unknown))
            n0 = len(ids)
            ids.update(zip(new, range(n0, n0 + len(new))))
            self._flush(voc, self._rows(new, lang))
            pids[miss] = np.fromiter(map(ids.__getitem__, unknown), np.int64, len(unknown))
        return voc.add_chunks(hashes, lens, pids)

    def _ids(self, texts: Sequence[str], lang: str) -> tuple[_Vocab, np.ndarray]:
        voc = self._vocab.get(lang)
        if voc is None:
            voc = self._new_vocab(lang)
        n = len(texts)
        big = " \x00 ".join(texts)
        if big.count(_SEP_CHUNK) != n - 1:  # a text carried the sentinel
            big = " \x00 ".join(t.replace(_SEP_CHUNK, " ") for t in texts)
        hashes, starts, ends = self._hasher.chunks(big)
        cids = voc.lookup(hashes)
        miss = np.flatnonzero(cids < 0)
        if len(miss):
            if voc.n_chunks + len(hashes) > self.config.cache_size or \
                    len(voc.ids) > 2 * self.config.cache_size:
                voc = self._new_vocab(lang)
                cids = voc.lookup(hashes)
                miss = np.flatnonzero(cids < 0)
            uh, first, inv = np.unique(hashes[miss], return_index=True, return_inverse=True)
            fm = miss[first]
            missing = [big[a:b] for a, b in zip(starts[fm].tolist(), ends[fm].tolist())]
            cids[miss] = self._add_chunks(voc, uh, missing, lang)[inv]
        lens = np.take(voc.clen, cids)
        cum = np.cumsum(lens)
        offs = np.repeat(np.take(voc.cstart, cids) - (cum - lens), lens)
        offs += np.arange(int(cum[-1]) if len(cum) else 0)
        return voc, np.take(voc.flat, offs)

    # -- per batch -------------------------------------------------------------------------
    def batch(self, texts: Sequence[str], lang: str) -> Batch:
        """Features of ``texts``, all in language ``lang`` (see :class:`Batch`)."""
        n = len(texts)
        cfg = self.config
        voc, ids = self._ids(texts, lang)
        kind = np.take(voc.kind, ids)
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
        lastneg = np.maximum.accumulate(np.where(np.take(voc.negator, ids), pos, -1)) if T else pos
        prevneg = np.empty(T, np.int64)
        if T:
            prevneg[0] = -1
            prevneg[1:] = lastneg[:-1]
        lastbar = np.maximum.accumulate(np.where(barrier, pos, -1)) if T else pos
        negated = (prevneg >= lastbar) & (pos - prevneg <= cfg.neg_width)
        # text features: unigrams, static extras, bigrams
        uni = np.where(negated, np.take(voc.uni_neg, ids), np.take(voc.uni, ids))
        m = uni >= 0
        f_parts, r_parts = [uni[m]], [row[m]]
        ex = np.take(voc.extra, ids, axis=0)
        m = ex >= 0
        if m.any():
            f_parts.append(ex[m])
            r_parts.append(np.broadcast_to(row[:, None], ex.shape)[m])
        if cfg.bigrams and T > 1:
            w = np.take(voc.wid, ids)
            m = (w[:-1] != 0) & (w[1:] != 0) & (row[:-1] == row[1:])
            if m.any():
                big = ((w[:-1][m] * np.uint64(_MULT)) ^ w[1:][m]) & np.uint64(self.mask)
                f_parts.append(big.astype(np.int64))
                r_parts.append(row[1:][m])
        feats = np.concatenate(f_parts)
        rows = np.concatenate(r_parts)
        # lexicon evidence
        val = np.where(negated, np.take(voc.val_neg, ids), np.take(voc.val, ids))
        if T > 1:
            boost = np.take(voc.intens, ids[:-1]) & (row[:-1] == row[1:])
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


# A word piece that separates chunks tokenised together (:func:`_pieces_each`).
_PIECE_SEP = "qqzsentinelzqq"


_TAIL = ".,;:!?"
_QUOTES = '"“”'
_ELIDED1 = frozenset("ldjmnstcLDJMNSTC")
_ELIDED_LONG = ("qu'", "jusqu'", "lorsqu'", "puisqu'", "presqu'", "quoiqu'")


def _simple_pieces(c: str) -> list[str] | None:
    """``pieces(c)`` for the common shapes of chunk, without the regex, or None.

    Shapes: a bare link; else, inside optional double quotes (never part of a piece), an
    optional ``@``/``#``/elision head, then words joined by ``-`` or ``/`` (neither is part of
    a piece next to letters) or one English-style contraction, then an optional punctuation
    tail that is one piece."""
    if c[0] == "h" and (c.startswith("http://") and len(c) > 7 or
                        c.startswith("https://") and len(c) > 8):
        if "&" in c or "’" in c or "<" in c or ">" in c or '"' in c:
            return None
        return ["http://u"]
    if c[0] in _QUOTES or c[-1] in _QUOTES:
        c = c.strip(_QUOTES)
        if not c or '"' in c or "“" in c or "”" in c:
            return None
    w = c.rstrip(_TAIL)
    if not w:
        return None
    tail = c[len(w):]
    if not tail and w[-1] == "…":
        w, tail = w[:-1], "…"
        if not w or w[-1] == "…":
            return None
    elif tail and not (len(tail) == 1 or tail.strip("!?") == "" or tail.strip(".") == ""):
        return None  # mixed punctuation: several pieces
    first = w[0]
    if w.isalnum():
        out = [w]
    elif first == "@" or first == "#":
        if not w[1:].isalnum():
            return None
        out = ["@u" if first == "@" else w]
    elif len(w) > 2 and w[1] == "'" and first in _ELIDED1 and w[2:].isalnum():
        out = [w[:2], w[2:]]
    elif "'" in w:  # "don't", "I'm": one word piece, unless an elision starts it
        if w.lower().startswith(_ELIDED_LONG) or (w[1:2] == "'" and first in _ELIDED1):
            return None
        if not all(part.isalnum() for part in w.split("'")):
            return None
        out = [w]
    else:
        out = w.replace("/", "-").split("-")
        if not all(part.isalnum() for part in out):
            return None
    if tail:
        out.append(tail)
    return out


def _pieces_each(chunks: list[str]) -> list[list[str]]:
    """``[pieces(c) for c in chunks]``: common shapes by :func:`_simple_pieces`, the others
    with one regex pass over them joined (pieces never span whitespace), split at a sentinel
    word (per chunk when a chunk carries the sentinel)."""
    out: list[list[str] | None] = [[c] if c.isalnum() else _simple_pieces(c) for c in chunks]
    rest = [c for c, ps in zip(chunks, out) if ps is None]
    if not rest:
        return out  # type: ignore[return-value]
    joined = pieces((" " + _PIECE_SEP + " ").join(rest))
    split: list[list[str]] = [[]]
    for p in joined:
        if p == _PIECE_SEP:
            split.append([])
        else:
            split[-1].append(p)
    if len(split) != len(rest) or joined.count(_PIECE_SEP) != len(rest) - 1:
        split = [pieces(c) for c in rest]
    it = iter(split)
    return [ps if ps is not None else next(it) for ps in out]


_SQUEEZE1_RE = re.compile(r"(.)\1+", re.DOTALL)
_DOUBLE_RE = re.compile(r"(.)\1", re.DOTALL)
_TRIPLE_RE = re.compile(r"([^\W\d_])\1\1", re.IGNORECASE)


def _squeeze1(tok: str) -> str:
    return _SQUEEZE1_RE.sub(r"\1", tok)
