"""Whitespace chunks of a string and a 64-bit hash of each, computed with numpy.

The sentiment featuriser caches per whitespace chunk (:mod:`pipeline.sentiment.features`); on a
batch whose chunks are mostly cached, ``str.split`` plus ``hash`` per chunk was a large part of
the cost. Here the whole batch string is encoded once (UTF-32, one code point per slot), the
chunk boundaries are where :meth:`str.isspace` changes (the same rule as :meth:`str.split`), and
each chunk gets a polynomial hash from one prefix sum over the string:

``h(c) = L(c) * K + sum_j (c_j + 1) * R**j  (mod 2**64)``

for the chunk's code points ``c_0 .. c_{L-1}``, with ``R`` (odd) and ``K`` drawn at random per
process, as Python randomises ``hash``. No Python object is made per chunk: the strings of the
chunks not cached yet are sliced out by the caller.

Collisions (two different chunks, one hash) would give a chunk another's pieces. For random
text and a random ``R`` they are as rare as for any 64-bit hash. Polynomial hashes modulo
``2**64`` have one known weakness, strings built to collide for every odd ``R`` (Thue-Morse
style); those need hundreds of characters, so chunks longer than :data:`LONG` characters are
hashed with Python's SipHash ``hash`` instead.

>>> h = ChunkHasher(seed=1)
>>> hs, st, en = h.chunks("ab  cd\\tab")
>>> st.tolist(), en.tolist(), bool(hs[0] == hs[2]), bool(hs[0] == hs[1])
([0, 4, 7], [2, 6, 9], True, False)
"""

from __future__ import annotations

import random
import secrets

import numpy as np

__all__ = ["ChunkHasher", "LONG"]

#: Chunks longer than this are hashed with ``hash`` (see module docstring).
LONG = 48

# str.isspace for code points up to U+3000 (the last whitespace code point); index 0x3001 is
# "、", not whitespace, and stands for every higher code point.
_WS_TOP = 0x3001
# 1 for a code point that is not whitespace (int8, so that edges are one subtraction)
_NOT_WS = np.array([not chr(c).isspace() for c in range(_WS_TOP + 1)], np.int8)


class ChunkHasher:
    """Hash the whitespace chunks of strings (see module docstring).

    Parameters
    ----------
    seed
        Fixes ``R`` and ``K`` (tests); default: random per instance.
    """

    def __init__(self, seed: int | None = None):
        rnd = secrets.randbits if seed is None else random.Random(seed).getrandbits
        self.r = rnd(64) | 1
        self.k = rnd(64) | 1
        self._k = np.uint64(self.k)
        self._pow = np.ones(1, np.uint64)  # R**j
        self._ipow = np.ones(1, np.uint64)  # R**-j

    def _powers(self, n: int) -> None:
        """Grow the power tables to at least ``n`` entries (doubling)."""
        size = len(self._pow)
        while size < n:
            step_r = np.uint64(pow(self.r, size, 1 << 64))
            step_i = np.uint64(pow(pow(self.r, -1, 1 << 64), size, 1 << 64))
            self._pow = np.concatenate((self._pow, self._pow * step_r))
            self._ipow = np.concatenate((self._ipow, self._ipow * step_i))
            size *= 2

    def chunks(self, s: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(hashes, starts, ends)`` of the whitespace chunks of ``s``: chunk ``k`` is
        ``s[starts[k]:ends[k]]`` (the chunks of ``s.split()``, in order); ``hashes`` int64."""
        cp = np.frombuffer(s.encode("utf-32-le", "surrogatepass"), np.uint32)
        n = len(cp)
        word = np.zeros(n + 2, np.int8)  # padded with a space on each side
        np.take(_NOT_WS, np.minimum(cp, _WS_TOP), out=word[1:-1])
        edge = word[1:] - word[:-1]  # (np.diff with prepend/append costs ~4x more)
        starts = np.flatnonzero(edge == 1)
        ends = np.flatnonzero(edge == -1)
        self._powers(n + 1)
        pref = np.empty(n + 1, np.uint64)
        pref[0] = 0
        np.cumsum((cp + np.uint32(1)).astype(np.uint64) * self._pow[:n], out=pref[1:])
        lens = (ends - starts).astype(np.uint64)
        h = (np.take(pref, ends) - np.take(pref, starts)) * np.take(self._ipow, starts)
        h += lens * self._k
        h = h.view(np.int64)
        long = np.flatnonzero(lens > LONG)
        if len(long):
            h[long] = [hash(s[a:b]) for a, b in zip(starts[long].tolist(), ends[long].tolist())]
        return h, starts, ends
