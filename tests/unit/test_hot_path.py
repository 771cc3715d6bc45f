"""Hot-path shortcuts (issue 8) give exactly what the plain code they replace gives."""

from __future__ import annotations

import random
from collections import Counter

from pipeline.evidence import DecayingCounter, burst_term_counts, burst_terms
from pipeline.risks.impostor import (
    DECORATIONS, ImpostorDetector, _fold, _skeleton_of_folded, osa_distance, skeleton,
)
from pipeline.schemas import Mention, MentionRecord
from pipeline.settings import BrandConfig, DetectionSettings

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. @$|!\n\t#&'éаοΑ"
WORDS = list(DECORATIONS) + ["acme", "globex", "nordair", "rn", "vv", "1", "0", "ACME", "аcme"]


def names(n: int, seed: int = 0) -> list[str]:
    """Random handles and display names: noise, and brand names with decorations."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        if r.random() < 0.5:
            out.append("".join(r.choice(ALPHABET) for _ in range(r.randint(0, 14))))
        else:
            sep = r.choice(["", "_", " ", "-", "."])
            out.append(sep.join(r.choice(WORDS) for _ in range(r.randint(1, 4)))
                       + r.choice(["", "12", "_", "\n", " 3", ".", "es"]))
    return out


def test_skeleton_fast_path_equals_the_regular_expressions():
    for name in names(20_000):
        assert skeleton(name) == _skeleton_of_folded(_fold(name)), name


def test_impostor_check_equals_the_uncached_brute_force():
    cfg = BrandConfig(name="acme", handles=["acme", "acme_support"],
                      display_names=["Acme", "Acme Corporation"])
    det = ImpostorDetector("acme", cfg, DetectionSettings())
    limits = {t: det._limit(t) for t in det.targets}
    handles = names(3000, seed=1) + ["acme", "acrne", "acme_fr", "ACME_Support"]
    display = names(300, seed=2)
    r = random.Random(3)
    hits = 0
    for h in handles:
        if not h:
            continue
        name = r.choice(display)
        # brute force: every target within its limit, no character bound, no memo
        want = []
        if h.lower() not in det.handles:
            for via, value in (("handle", h), ("name", name)):
                sk = skeleton(value) if value else ""
                if len(sk) < det.r.impostor_min_chars:
                    continue
                for t, lim in limits.items():
                    d = osa_distance(sk, t, lim)
                    if d <= lim:
                        want.append({"imitates": det.targets[t], "via": via, "distance": d,
                                     "skeleton": sk})
        m = Mention.model_validate({"id": "1", "created_at": "2026-01-05T10:00:00Z",
                                    "brand": "acme", "text": "x",
                                    "author": {"id": "a", "handle": h, "name": name}})
        for _ in range(2):  # the second time from the memo
            assert det.check(m) == (want or None), (h, name)
            assert det.imitations(h, name) == want
        hits += bool(want)
    assert hits > 20  # the sample does exercise matches


def test_add_counts_equals_add_many_of_the_repeated_keys():
    r = random.Random(4)
    a = DecayingCounter(halflife=7, max_keys=60)
    b = DecayingCounter(halflife=7, max_keys=60)
    for at in range(0, 3000, 3):  # long enough to renormalise and to prune
        counts = {f"t{r.randint(0, 90)}": r.randint(1, 5) for _ in range(r.randint(0, 12))}
        a.add_many((k for k, c in counts.items() for _ in range(c)), at=at)
        b.add_counts(counts, at=at)
        assert a.to_state() == b.to_state()
        assert list(a._values) == list(b._values)


def test_burst_term_counts_equals_counting_burst_terms():
    texts = ["@acme Data LEAK?! my card was charged twice #acmefail https://t.co/x",
             "leak leak LEAK", "", "Ce n'est pas une arnaque ! #acmefail", "leak"]
    want = Counter(t for text in texts for t in burst_terms(text))
    got = burst_term_counts(texts)
    assert got == dict(want) and list(got) == list(want)


def test_burst_terms_by_chunk_equal_filtering_the_tokens():
    from pipeline.evidence import STOPWORDS
    from pipeline.text import tokenize
    from tests.support.streams import stream

    def reference(text: str) -> list[str]:
        return [t for t in tokenize(text)
                if (t[0] == "#" and len(t) > 2)
                or (t[0] != "#" and t[0].isalpha() and len(t) > 2 and t not in STOPWORDS
                    and not t.startswith("<"))]

    r = random.Random(5)
    texts = [m["text"] for m in stream("acme", 2, 2, seed=3)]
    texts += ["".join(r.choice(ALPHABET + "   !?#@:/") for _ in range(r.randint(0, 40)))
              for _ in range(3000)]
    texts += ["@acme J'adore!!! #top https://t.co/x www.acme.fr l'avion :) 😡😡", "  ", ""]
    for text in texts:
        assert burst_terms(text) == reference(text), text


def test_mention_times_are_computed_once_and_match_the_datetimes():
    m = Mention.model_validate({
        "id": "1", "created_at": "2026-01-05T11:00:00.250+01:00", "brand": "acme", "text": "x",
        "author": {"id": "a", "handle": "b", "created_at": "2020-02-29T23:59:59-05:30"}})
    assert m.ts == m.created_at.timestamp() == 1767607200.25
    assert m.author.created_ts == m.author.created_at.timestamp()
    assert "ts" in m.__dict__  # cached: later reads are attribute look-ups
    assert m.model_dump()["created_at"] == m.created_at and "ts" not in m.model_dump()
    no_date = Mention.model_validate({"id": "1", "created_at": "2026-01-05T10:00:00Z",
                                      "brand": "acme", "text": "x",
                                      "author": {"id": "a", "handle": "b"}})
    assert no_date.author.created_ts is None


def test_misra_gries_add_many_equals_add():
    from pipeline.risks.trends import MisraGries

    r = random.Random(6)
    a, b = MisraGries(8), MisraGries(8)
    for _ in range(400):
        keys = [f"k{int(r.expovariate(0.3))}" for _ in range(r.randint(0, 9))]
        for key in keys:
            a.add(key)
        b.add_many(keys)
        assert a.to_state() == b.to_state() and list(a.counts) == list(b.counts)



def test_recent_texts_keep_what_an_ordered_dict_of_the_last_n_ids_keeps():
    from collections import OrderedDict

    from pipeline.recent import RecentTexts

    r = random.Random(7)
    recent, want = RecentTexts(capacity=50), OrderedDict()
    langs = ["en", "fr", None, "", "x" * 3]
    texts = ["hi", "", "ça va 👋", "\ud800 lone surrogate", "@acme " * 30]
    for step in range(3000):  # ids repeat (updated in place, not moved), the oldest drop out
        mid, text = str(r.randint(0, 120)), r.choice(texts) + str(step)
        lang = r.choice(langs) if step < 2000 else f"lang{step}"  # past 255 languages too
        recent.add(mid, text, lang)
        want[mid] = (text, lang)
        if len(want) > 50:
            want.popitem(last=False)
        assert len(recent) == len(want)
        probe = str(r.randint(0, 130))
        assert recent.get(probe) == want.get(probe) and (probe in recent) == (probe in want)
    assert {k: recent[k] for k in want} == dict(want)
    assert list(recent._entries) == list(want)  # same first-seen order
    recent.clear()
    assert len(recent) == 0 and recent.get(next(iter(want))) is None


def test_validated_mentions_carry_their_epoch_times():
    from pipeline.codec import validate_mention

    obj = {"id": "1", "created_at": "2026-01-05T11:00:00.250+01:00", "brand": "acme",
           "text": "x", "author": {"id": "a", "handle": "b",
                                   "created_at": "2020-02-29T23:59:59-05:30"}}
    m = validate_mention(obj)
    lazy = Mention.model_validate(obj)
    assert m.ts == lazy.ts == 1767607200.25
    assert m.author.created_ts == lazy.author.created_ts
    assert m.created_at == lazy.created_at and m.created_at.tzinfo is lazy.created_at.tzinfo
    assert m == MentionRecord.from_model(lazy)
    no_date = validate_mention({**obj, "author": {"id": "a", "handle": "b"}})
    assert no_date.author.created_ts is None



def test_recent_texts_add_many_equals_adding_one_by_one():
    from pipeline.recent import RecentTexts

    r = random.Random(9)
    one, many = RecentTexts(capacity=40), RecentTexts(capacity=40)
    for step in range(400):
        batch = [(str(r.randint(0, 90)), f"t{step}-{j} 👋", r.choice(["en", "fr", None, f"l{step}"]))
                 for j in range(r.randint(0, 9))]
        for mid, text, lang in batch:
            one.add(mid, text, lang)
        many.add_many(*zip(*batch)) if batch else many.add_many([], [], [])
        assert one._entries == many._entries and list(one._entries) == list(many._entries)
        assert one._ring == many._ring and one._next == many._next


def test_chunks_skipping_the_tokenizer_hold_no_term():
    """An @handle or a link alone skips the tokenizer: the tokenizer gives it no term either;
    a hashtag alone gives the tokenizer's term."""
    from pipeline.evidence import (
        _chunk_terms, _hashtag_only, _no_terms, _tokenized_chunk_terms,
    )

    r = random.Random(10)
    word = "abcXYZ_09éß東ДΩİ"
    tail = "!?.,;:)(D&’'#<>\"/=-…😀"
    starts = ["@", "@", "http://", "https://", "www.", "h", "w", "@@", "#", "#", "##", "http:/"]
    skipped = tags = 0
    tricky = ["https://t.co/a&lt;leak", "www.x.fr/&gt;refund", "@acme:)", "@acme:D",
              "@acme’s", "@acme…leak", "@acme,thanks", "http://x.co/\"scam", "@acme!!!",
              "#İİ", "#İ", "#ab", "#ab:)", "#5109689?", "#tag&amp;x", "#tag’s"]
    for i in range(20_000):
        chunk = tricky[i] if i < len(tricky) else (
            r.choice(starts) + "".join(r.choice(word) for _ in range(r.randint(0, 6)))
            + "".join(r.choice(tail + word) for _ in range(r.randint(0, 4))))
        if not chunk.split() or chunk.split()[0] != chunk:
            continue
        want = _tokenized_chunk_terms(chunk)
        assert _chunk_terms.__wrapped__(chunk) == want, chunk
        if _no_terms(chunk):
            skipped += 1
            assert want == (), chunk
        elif _hashtag_only(chunk):
            tags += 1
    assert skipped > 2000 and tags > 1000


def test_decaying_counter_prunes_to_the_largest_half_as_nlargest_does():
    import heapq

    r = random.Random(11)
    for _ in range(200):
        c = DecayingCounter(halflife=5, max_keys=r.randint(2, 40))
        want: dict[str, float] = {}
        for step in range(30):
            keys = [f"k{r.randint(0, 60)}" for _ in range(r.randint(0, 6))]
            c.add_many(keys, at=step // 3)  # ties: equal weights within a bucket
            w = c._g ** (step // 3 - c._origin)
            for k in keys:
                want[k] = want.get(k, 0.0) + w
            if len(want) > c.max_keys:
                want = dict(heapq.nlargest(c.max_keys // 2, want.items(), key=lambda kv: kv[1]))
            assert list(c._values.items()) == list(want.items())
