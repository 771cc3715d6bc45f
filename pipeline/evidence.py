"""Evidence for alerts: what the burst talks about compared with what the brand usually hears.

:class:`DecayingCounter` keeps an exponentially decaying count per term with O(1) updates (no
sweep over all terms per bucket), bounded in size. :func:`top_lifted` ranks the burst's terms by
how much more often they appear than in the baseline.

Examples
--------
>>> base = DecayingCounter(halflife=10, max_keys=100)
>>> for b in range(20):
...     base.add_many(["late", "order", "thanks"], at=b)
>>> top_lifted({"leak": 9, "order": 3, "data": 8}, base, at=20, k=2)
[('leak', 9), ('data', 8)]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Set as AbstractSet
from itertools import chain
from functools import lru_cache
from operator import itemgetter
from typing import Any

from pipeline.text import chunk_tokens

_RESCALE_HALVINGS = 400.0
_second = itemgetter(1)
#: Distinct texts whose terms are memoised (a few minutes of mentions: a bucket's texts are
#: still there when it closes; bounded whatever the stream).
TEXT_TERMS_MEMO = 1 << 14


class DecayingCounter:
    """Exponentially decaying counts per key, in event-time buckets.

    A weight added at bucket ``b`` counts ``0.5 ** ((now - b) / halflife)`` at bucket ``now``.
    Stored values are scaled by ``g ** b`` (``g = 2 ** (1 / halflife)``) so adding is O(1);
    they are renormalised before they overflow. Past ``max_keys`` the smallest half is pruned.

    Parameters
    ----------
    halflife
        Half-life in buckets.
    max_keys
        Bound on distinct keys (memory stays bounded whatever the vocabulary).
    """

    __slots__ = ("halflife", "max_keys", "_g", "_origin", "_values")

    def __init__(self, halflife: float, max_keys: int = 5000) -> None:
        self.halflife = float(halflife)
        self.max_keys = int(max_keys)
        self._g = 2.0 ** (1.0 / self.halflife)
        self._origin = 0
        self._values: dict[str, float] = {}

    def _scale(self, at: int) -> float:
        if not self._values:
            self._origin = at
        halvings = (at - self._origin) / self.halflife
        if halvings > _RESCALE_HALVINGS:  # renormalise before g ** (at - origin) overflows
            shrink = 2.0 ** -halvings
            for key in self._values:
                self._values[key] *= shrink
            self._origin = at
            return 1.0
        return self._g ** (at - self._origin)

    def add_many(self, keys: Iterable[str], at: int, weight: float = 1.0) -> None:
        """Add ``weight`` to each key (repeats count) at bucket ``at``."""
        w = weight * self._scale(at)
        values = self._values
        for key in keys:
            values[key] = values.get(key, 0.0) + w
        self._bound()

    def add_counts(self, counts: dict[str, int], at: int) -> None:
        """Add each key ``count`` times at bucket ``at``.

        Same result as :meth:`add_many` of every key repeated ``count`` times, in order (the
        same additions, so the same floats), without building that sequence.
        """
        w = self._scale(at)
        values = self._values
        get = values.get
        for key, count in counts.items():
            if count == 1:  # most terms of a bucket: one addition
                values[key] = get(key, 0.0) + w
                continue
            if count <= 0:
                continue
            v = get(key, 0.0)
            for _ in range(count):
                v += w
            values[key] = v
        self._bound()

    def _bound(self) -> None:
        """Past ``max_keys``, keep the largest half."""
        values = self._values
        if len(values) > self.max_keys:
            # heapq.nlargest(n, items, key) is sorted(items, key, reverse=True)[:n] (ties in
            # first-seen order either way); the sort runs in C, a few times faster here
            keep = sorted(values.items(), key=_second, reverse=True)[: self.max_keys // 2]
            self._values = dict(keep)

    def get(self, key: str, at: int) -> float:
        """Decayed count of ``key`` at bucket ``at``."""
        return self._values.get(key, 0.0) / (self._g ** (at - self._origin))

    def total(self, at: int) -> float:
        """Decayed sum over all keys at bucket ``at``."""
        return sum(self._values.values()) / (self._g ** (at - self._origin))

    def __len__(self) -> int:
        return len(self._values)

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able)."""
        return {"halflife": self.halflife, "max_keys": self.max_keys, "origin": self._origin,
                "values": self._values}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DecayingCounter:
        """Restore a snapshot taken by :meth:`to_state`."""
        obj = cls(state["halflife"], state["max_keys"])
        obj._origin = int(state["origin"])
        obj._values = {str(k): float(v) for k, v in state["values"].items()}
        return obj


def top_lifted(
    burst: dict[str, int], baseline: DecayingCounter, at: int, k: int = 8, min_count: int = 2
) -> list[tuple[str, int]]:
    """The burst's ``k`` terms ranked by count times log-lift over the baseline.

    Parameters
    ----------
    burst
        Term counts of the burst.
    baseline
        The brand's decayed term counts before the burst.
    at
        Current bucket index.
    k, min_count
        How many terms to return, and the least count a term needs.
    """
    total_burst = sum(burst.values()) or 1
    total_base = baseline.total(at)
    vocab = max(len(baseline), 1)
    scored = []
    for term, count in burst.items():
        if count < min_count:
            continue
        p_burst = count / total_burst
        p_base = (baseline.get(term, at) + 0.5) / (total_base + 0.5 * vocab)
        lift = p_burst / p_base
        if lift > 1.0:
            scored.append((count * math.log(lift), term, count))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [(term, count) for _, term, count in scored[:k]]


#: Words too common to be evidence (EN + FR), plus tokens that are not words.
STOPWORDS = frozenset(
    """a an and are as at be been but by for from has have i i'm if in is it it's its me my no
    not of on or our so that the their them they this to too was we were what when which who
    will with you your just can do don't get got im u ur rt amp via
    au aux avec ce ces c' d' de des du elle en est et eux il ils j' je l' la le les leur lui
    m' ma mais me mes moi mon n' ne nos notre nous on ou par pas pour qu' que qui s' sa se ses
    son sur t' ta te tes toi ton tu un une vos votre vous y à été être ça""".split()
)


def burst_terms(text: str) -> list[str]:
    """Terms of a mention worth showing as evidence: words (no stopwords, digits, links or
    punctuation) and hashtags, lower-cased.

    Tokens never span whitespace (see :func:`pipeline.text.chunk_tokens`), so the terms of a
    text are those of its whitespace-delimited chunks, each memoised: a new text costs a split
    and a look-up per chunk (the trends detector and the bucket's evidence both ask).

    >>> burst_terms("@acme Data LEAK?! my card was charged twice #acmefail https://t.co/x")
    ['data', 'leak', 'card', 'charged', 'twice', '#acmefail']
    """
    return list(iter_burst_terms(text))


def iter_burst_terms(text: str) -> Iterator[str]:
    """:func:`burst_terms` as an iterator (no list), for hot paths."""
    return iter(_text_terms(text))


def burst_term_counts(texts: Iterable[str], exclude: AbstractSet[str] = frozenset()
                      ) -> dict[str, int]:
    """Occurrences of each :func:`burst_terms` term over ``texts``, in first-seen order, but
    for the terms of ``exclude`` (the brand's own names: :func:`brand_terms`).

    >>> burst_term_counts(["Data leak!", "the leak again"])
    {'data': 1, 'leak': 2, 'again': 1}
    >>> burst_term_counts(["Acme data leak #acme"], exclude=brand_terms(["acme"]))
    {'data': 1, 'leak': 1}
    """
    counts = Counter(chain.from_iterable(map(_text_terms, texts)))
    for term in exclude & counts.keys():
        del counts[term]
    return dict(counts)


def brand_terms(names: Iterable[str]) -> frozenset[str]:
    """The terms that are a brand itself, which tell nothing about a burst of its mentions.

    For each of ``names`` (the brand key, its handles, display names and keywords): its one
    term, or for a name of several words (``Acme France``) the words joined (``acmefrance``),
    not each word (``france`` can be news); each also as a hashtag and with ``'s``.

    >>> sorted(brand_terms(["acme", "@acme_fr", "Nord Air"]))[:6]
    ['#acme', '#acme_fr', '#nordair', 'acme', "acme's", 'acme_fr']
    """
    bases: set[str] = set()
    for name in names:
        name = name.strip().lstrip("@#").lower()
        words = burst_terms(name)
        if len(words) == 1:
            bases.add(words[0].lstrip("#"))
        elif words:
            bases.add("".join(w.lstrip("#") for w in words))
            bases.add(_NOT_WORD.sub("", name))  # stopwords kept: "The Shop" -> #theshop
    return frozenset(f for b in bases if len(b) > 2
                     for f in (b, f"#{b}", f"{b}'s"))


_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=TEXT_TERMS_MEMO)
def _text_terms(text: str) -> tuple[str, ...]:
    """The terms of one text, memoised: the trends detector reads a mention's terms when it
    arrives, its bucket's evidence when the bucket closes, the same text object (its hash is
    cached), so the second read is a look-up."""
    return tuple(chain.from_iterable(map(_chunk_terms, text.split())))


#: Chunks that hold no term whatever the tokenizer makes of them: an @handle alone (with
#: closing punctuation) or a link alone (no ``&``: an HTML entity could end it). Mostly unique
#: strings (one handle or short link per mention), so they skip the tokenizer (a test checks
#: that the tokenizer gives them no term).
_NO_TERMS_RE = re.compile(r"@\w+[!?.,;:]*|(?:https?://|www\.)[^\s<>\"&]+")
_no_terms = _NO_TERMS_RE.fullmatch
#: A hashtag alone (with closing punctuation), such as an order number "#5109689?": its one
#: term is the lower-cased tag, as the tokenizer makes it.
_hashtag_only = re.compile(r"(#\w+)[!?.,;:]*").fullmatch


@lru_cache(maxsize=1 << 16)
def _chunk_terms(chunk: str) -> tuple[str, ...]:
    c = chunk[:1]
    if c == "#":
        tag = _hashtag_only(chunk)
        if tag is not None:
            term = tag[1].lower()
            return (term,) if len(term) > 2 else ()
    elif (c == "@" or c == "h" or c == "w") and _no_terms(chunk):
        return ()
    return _tokenized_chunk_terms(chunk)


def _tokenized_chunk_terms(chunk: str) -> tuple[str, ...]:
    """The terms of one chunk, from its tokens (:func:`pipeline.text.chunk_tokens`)."""
    out = []
    for tok in chunk_tokens(chunk):
        c = tok[0]
        if c == "#":
            if len(tok) > 2:
                out.append(tok)
        elif (c.isalpha() and len(tok) > 2 and tok not in STOPWORDS) and not tok.startswith("<"):
            out.append(tok)
    return tuple(out)
