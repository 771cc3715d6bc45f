"""pipeline.sentiment.chunks: whitespace chunks and their hashes, with numpy."""

import random

import numpy as np

from pipeline.sentiment.chunks import LONG, ChunkHasher

# every whitespace code point str.split knows, and some that are not whitespace
_SPACES = [chr(c) for c in range(0x3001) if chr(c).isspace()]
_OTHERS = list("ab'é#@!.\x00") + ["😡", "\u200b", "\u3001", "\U0001F44D", "\ud83d", "𝐀"]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_SPACES if rng.random() < 0.3 else _OTHERS)
                   for _ in range(rng.randint(0, 40)))


def test_chunks_are_those_of_str_split():
    rng = random.Random(0)
    h = ChunkHasher(seed=1)
    for _ in range(3000):
        s = _random_text(rng)
        hs, st, en = h.chunks(s)
        assert [s[a:b] for a, b in zip(st.tolist(), en.tolist())] == s.split(), repr(s)
        assert len(hs) == len(st) and hs.dtype == np.int64


def test_equal_chunks_hash_equal_and_distinct_chunks_differ():
    rng = random.Random(1)
    alphabet = "abcdefghijklmnopqrstuvwxyzé'#@!😡"
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(30000)}
    words |= {"x" * n for n in range(1, 2 * LONG)} | {"y" * LONG + w for w in list(words)[:50]}
    words = sorted(words)
    h = ChunkHasher()
    text = " ".join(words)
    hs, _, _ = h.chunks(text)
    assert len(set(hs.tolist())) == len(words)  # no collision among 30k distinct chunks
    # the same chunk hashes the same wherever it stands, short or long (past LONG: SipHash)
    again, _, _ = h.chunks("\t".join(reversed(words)) + "  ")
    assert again.tolist() == hs.tolist()[::-1]


def test_hashes_are_random_per_hasher_and_fixed_by_a_seed():
    s = "the flight was late again"
    assert ChunkHasher(seed=3).chunks(s)[0].tolist() == ChunkHasher(seed=3).chunks(s)[0].tolist()
    assert ChunkHasher(seed=3).chunks(s)[0].tolist() != ChunkHasher(seed=4).chunks(s)[0].tolist()
