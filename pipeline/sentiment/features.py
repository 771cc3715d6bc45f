"""Hashed sparse features for tweet sentiment, computed chunk by chunk with a cache.

A tweet is split on whitespace; each distinct chunk (``"delays!!"``, ``"n'est"``, ``"😡😡"``) is
tokenised once with :func:`pipeline.text.chunk_tokens` and turned into feature indices, then
cached. Per tweet only a ``str.split``, one dict lookup per chunk, the cross-chunk word bigrams and
the negation state remain, which is what makes batch scoring cheap in pure Python.

Features (all binary, hashed with CRC-32 into ``2**bits`` buckets, so stable across processes):

* word unigrams; a word inside a negation scope is a different feature (``"¬good"``);
* word bigrams (within and across chunks, negation not marked);
* character n-grams of each word, ``char_min..char_max`` long, with ``<`` ``>`` word boundaries;
* emojis and emoticons as unigrams; ``<allcaps>``, ``<elong>`` (``"noooo"``), ``!!``/``??`` marks;
* lexicon evidence, bucketed into a few binary features shared by both languages: summed positive
  and negative valence (VADER scale, negation flips and damps a valence by -0.74), and their
  difference, so weights learnt for the EN lexicon transfer to the FR lexicon;
* a per-language bias.

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

from pipeline.text import CLAUSE_END, chunk_tokens, is_emoji, is_negator

__all__ = ["FeatureConfig", "Featurizer", "NEG_SCALAR", "N_META"]

#: Number of meta features closing every feature list (see :meth:`Featurizer.features`).
N_META = 5

#: VADER's damping of a negated valence.
NEG_SCALAR = -0.74

# Valence applied to a word under negation when plain flipping is wrong ("pas terrible" means
# "not great", i.e. negative; "pas mal" means "rather good").
_NEGATED_OVERRIDE = {"terrible": -1.2, "terribles": -1.2, "fameux": -1.0, "folichon": -1.0}

_MULT = 0x9E3779B1
_CANON_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+|@\w+")


def _canon(m: "re.Match[str]") -> str:
    return "@u" if m.group(0)[0] == "@" else "http://u"


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Featurisation settings; part of the model state (changing them invalidates weights)."""

    bits: int = 20
    char_min: int = 3
    char_max: int = 0
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


def _h(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


def _bucket(v: float) -> int:
    # valence mass buckets: 0, (0,1], (1,2], (2,3.5], (3.5,6], > 6
    if v <= 0.0:
        return 0
    if v <= 1.0:
        return 1
    if v <= 2.0:
        return 2
    if v <= 3.5:
        return 3
    if v <= 6.0:
        return 4
    return 5


def _diff_bucket(d: float) -> int:
    # signed difference of masses, 9 buckets around 0
    for i, edge in enumerate((-4.0, -2.5, -1.2, -0.3, 0.3, 1.2, 2.5, 4.0)):
        if d < edge:
            return i
    return 8


class Featurizer:
    """Turn tweets into lists of hashed feature indices (see module docstring).

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
        self._cache: dict[str, dict[str, tuple]] = {}
        self._ncache: dict[str, dict[tuple[str, int], tuple]] = {}
        self._lang_bias = {lang: self._idx("<lang>" + lang) for lang in ("en", "fr")}
        self._bias = self._idx("<bias>")
        self._lex_pos = [self._idx(f"<lexpos{i}>") for i in range(6)]
        self._lex_neg = [self._idx(f"<lexneg{i}>") for i in range(6)]
        self._lex_diff = [self._idx(f"<lexdiff{i}>") for i in range(9)]

    # -- hashing ---------------------------------------------------------------------------
    def _idx(self, name: str) -> int:
        return _h(name) & self.mask

    # -- per chunk (cached) ----------------------------------------------------------------
    def _chunk(self, chunk: str, lang: str, left: int) -> tuple:
        """Features of ``chunk`` entered with ``left`` tokens of negation scope remaining.

        Returns ``(indices, first_id, last_id, left_out, pos, neg)`` where ids are 32-bit word
        hashes for cross-chunk bigrams (0 when the chunk does not start/end with a word).
        """
        cfg = self.config
        lex = self.lexicons.get(lang, {})
        pre = lang + ":" if cfg.lang_prefix else ""
        toks = chunk_tokens(chunk)
        feats: list[int] = []
        pos = neg = 0.0
        first = last = 0
        prev = 0
        letters = [c for c in chunk if c.isalpha()]
        if len(letters) >= 3 and all(c.isupper() for c in letters):
            feats.append(self._idx("<allcaps>"))
        for i, tok in enumerate(toks):
            if tok in CLAUSE_END:
                left = 0
                prev = 0
                if tok in ("!!", "??", "!?", "!", "?"):
                    feats.append(self._idx(tok))
                last = 0
                continue
            negated = left > 0
            if is_negator(tok):
                left = cfg.neg_width
            elif left:
                left -= 1
            word = tok[0].isalnum()
            if tok[0] == "#" and len(tok) > 1:
                # hashtag: the tag itself plus its text as a word
                feats.append(self._idx(pre + tok))
                tok = tok[1:]
                word = True
            elif tok[0] == "@":
                tok = "<user>"
                word = False
            v = lex.get(tok)
            if v is None and word and len(tok) > 3:
                v = lex.get(_squeeze1(tok))
            if v is not None:
                if negated:
                    v = _NEGATED_OVERRIDE.get(tok, v * NEG_SCALAR)
                if v > 0:
                    pos += v
                else:
                    neg -= v
            uni = ("¬" + pre + tok if negated else pre + tok) if word else tok
            feats.append(self._idx(uni))
            if word:
                wid = _h(pre + tok)
                if cfg.bigrams and prev:
                    feats.append(((prev * _MULT) ^ wid) & self.mask)
                prev = wid
                if i == 0:
                    first = wid
                last = wid
                if cfg.stem and len(tok) > cfg.stem:
                    feats.append(self._idx("s" + pre + tok[: cfg.stem]))
                if cfg.char_max and not tok.startswith("<") and len(tok) > 2:
                    feats.extend(self._char_ngrams(pre, tok))
                if len(tok) > 2 and _squeeze1(tok) != tok and _has_triple(chunk):
                    feats.append(self._idx("<elong>"))
            else:
                prev = 0
                last = 0
        return (tuple(feats), first, last, left, pos, neg)

    def _char_ngrams(self, pre: str, tok: str) -> list[int]:
        cfg = self.config
        w = "<" + tok + ">"
        n_w = len(w)
        mask = self.mask
        out = []
        for n in range(cfg.char_min, cfg.char_max + 1):
            for s in range(0, n_w - n + 1):
                out.append(_h("c" + pre + w[s : s + n]) & mask)
        return out

    # -- per tweet -------------------------------------------------------------------------
    def _miss(self, chunk: str, lang: str, left: int) -> tuple:
        """Cache miss: links and mentions are canonicalised first (they are mostly unique and
        their features are ``<url>``/``<user>`` anyway), so they do not flood the cache."""
        canon = _CANON_RE.sub(_canon, chunk) if ("/" in chunk or "@" in chunk) else chunk
        if left:
            key = (canon, left)
            cache = self._ncache.setdefault(lang, {})
        else:
            key = canon
            cache = self._cache.setdefault(lang, {})
        info = cache.get(key)
        if info is None:
            if len(cache) >= self.config.cache_size:
                cache.clear()
            info = cache[key] = self._chunk(canon, lang, left)
        if canon is not chunk and not left and "/" not in chunk:
            cache[chunk] = info  # frequent handles ("@united") hit directly next time
        return info

    def features(self, text: str, lang: str) -> list[int]:
        """Feature indices of one tweet (with repeats; each counts once per occurrence).

        The last :data:`N_META` entries are the *meta* features (bias, language bias, lexicon
        buckets), which the model does not length-normalise; the others are text features.
        """
        cache = self._cache.get(lang)
        if cache is None:
            cache = self._cache[lang] = {}
        mask = self.mask
        feats: list[int] = []
        extend = feats.extend
        left = 0
        prev = 0
        pos = neg = 0.0
        bigrams = self.config.bigrams
        for chunk in text.split():
            info = None if left else cache.get(chunk)
            if info is None:
                info = self._miss(chunk, lang, left)
            f, first, last, left, p, n = info
            extend(f)
            if prev and first and bigrams:
                feats.append(((prev * _MULT) ^ first) & mask)
            prev = last
            if p:
                pos += p
            if n:
                neg += n
        feats += (
            self._bias,
            self._lang_bias.get(lang, self._bias),
            self._lex_pos[_bucket(pos)],
            self._lex_neg[_bucket(neg)],
            self._lex_diff[_diff_bucket(pos - neg)],
        )
        return feats

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> list[list[int]]:
        """Feature index lists for a batch."""
        return [self.features(t, g) for t, g in zip(texts, langs)]

    def lexicon_score(self, text: str, lang: str) -> tuple[float, float]:
        """Summed positive and negative valence of ``text`` (negation applied), for inspection.

        >>> f = Featurizer(FeatureConfig(bits=16), {"en": {"good": 1.9}, "fr": {"bon": 1.9}})
        >>> f.lexicon_score("not good", "en"), f.lexicon_score("pas bon", "fr")
        ((0.0, 1.406), (0.0, 1.406))
        """
        left = 0
        pos = neg = 0.0
        for chunk in text.split():
            _, _, _, left, p, n = self._chunk(chunk, lang, left)
            pos += p
            neg += n
        return round(pos, 6), round(neg, 6)


def _squeeze1(tok: str) -> str:
    out = []
    for c in tok:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _has_triple(chunk: str) -> bool:
    low = chunk.lower()
    return any(low[i] == low[i + 1] == low[i + 2] and low[i].isalpha() for i in range(len(low) - 2))
