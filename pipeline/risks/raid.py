"""Troll raids and coordinated campaigns: many near-duplicate texts from suspicious accounts.

:class:`RaidDetector` hashes only the texts of **suspicious** authors (accounts younger than
``raid_young_days``, or with fewer than ``raid_low_followers`` followers and less than a year
old, or without a creation date and few followers); reposts and the brand's own posts are skipped.
Everyone else costs a counter increment.

Each candidate text becomes a set of word 2-shingles (tokens of :func:`pipeline.text.tokenize`,
punctuation and emojis dropped, so casing, a dropped word or a tail such as "!!! 😡" change few
shingles), a :class:`MinHash` signature (``PERMUTATIONS`` universal hashes of stable CRC-32
shingle ids, pure Python) and ``BANDS`` LSH band keys. Texts sharing a band key within the
sliding event-time window ``raid_window_s`` are candidates; a candidate whose estimated Jaccard
similarity is at least ``raid_similarity`` puts the text in its cluster. Texts that are not
negative and carry a hashtag the brand itself used in the last day (``CAMPAIGN_S``: a contest,
a launch) answer the brand's call and are not hashed (copy-paste contest entries are not a raid;
hostile texts hijacking the campaign's tag still are). The window holds at most
``raid_max_items`` texts, so memory is bounded whatever the volume.

The raid score is the number of distinct accounts of the largest cluster in the window. At
``raid_min_accounts`` a ``raid`` incident opens (one per episode; severity high from three
times that many accounts); its evidence is the cluster: accounts, posts, share of young accounts,
median followers and account age, a sample text, its hashtags, sample mention ids, and the
coordinated share.

:meth:`RaidDetector.crisis_evidence` gives the **coordinated share** of the brand's mentions in
the window (mentions in clusters of at least ``COORDINATED_MIN_ACCOUNTS`` accounts over all
mentions), which the brand's watch adds to its crisis alerts' evidence.

Examples
--------
>>> mh = MinHash()
>>> a = mh.signature(shingles("@acme Acme is a SCAM, they steal your money!! boycott Acme now"))
>>> b = mh.signature(shingles("@acme acme is a scam, they steal your money boycott acme now 😡"))
>>> c = mh.signature(shingles("@acme my parcel arrived two days late, again"))
>>> MinHash.similarity(a, b), MinHash.similarity(a, c) < 0.2
(1.0, True)
"""

from __future__ import annotations

import random
import struct
import zlib
from collections import deque
from statistics import median
from typing import Any

from pipeline.risks._base import StreamDetector, Ticker, own_handles, tracker, transition_alert
from pipeline.schemas import Alert, Author, Mention
from pipeline.settings import BrandConfig, DetectionSettings
from pipeline.text import tokenize

PERMUTATIONS = 32
BANDS = 8
ROWS = PERMUTATIONS // BANDS
_P = (1 << 61) - 1
#: A cluster counts as coordinated from this many distinct accounts.
COORDINATED_MIN_ACCOUNTS = 5
#: Candidates compared per new text (the most recent of each matching band).
MAX_COMPARE = 64
#: A hashtag of the brand's own posts marks its campaign (a contest, a launch) this long: texts
#: echoing it answer the brand's call (copy-paste contest entries), they are not raid texts.
CAMPAIGN_S = 86_400.0
#: Campaign hashtags remembered per brand.
MAX_CAMPAIGN_TAGS = 200


def suspicious_age(author: Author, ts: float, young_days: float, low_followers: int) -> float | None:
    """Account age in days at event time ``ts`` (-1 if unknown) when ``author`` is a raid
    candidate (younger than ``young_days``, or with fewer than ``low_followers`` followers and
    under a year old or of unknown age), else None. The thresholds are the settings
    ``raid_young_days`` and ``raid_low_followers``.

    >>> from pipeline.risks._testing import mention
    >>> m = mention("hi", age_days=10.0, followers=500)
    >>> suspicious_age(m.author, m.ts, 30.0, 50), suspicious_age(m.author, m.ts, 5.0, 50)
    (10.0, None)
    """
    created = author.created_ts
    if created is None:
        return -1.0 if author.followers < low_followers else None
    age = (ts - created) / 86_400.0
    if age < young_days or (author.followers < low_followers and age < 365):
        return age
    return None


def hashtags(text: str) -> set[str]:
    """Lower-cased hashtags of a text.

    >>> sorted(hashtags("RT to win! #AcmeContest #acme"))
    ['#acme', '#acmecontest']
    """
    return {t for t in tokenize(text) if t.startswith("#") and len(t) > 1}


def shingles(text: str) -> set[int]:
    """Stable ids of the word 2-shingles of a text (single words for very short texts).

    >>> len(shingles("Ce n'est pas une arnaque !")), shingles("!!") == set()
    (5, True)
    """
    words = [t for t in tokenize(text) if t[0].isalnum() or (t[0] in "#@" and len(t) > 1)]
    if len(words) < 2:
        grams = words
    else:
        grams = [a + " " + b for a, b in zip(words, words[1:])]
    return {zlib.crc32(g.encode("utf-8")) for g in grams}


class MinHash:
    """MinHash signatures with ``PERMUTATIONS`` seeded universal hash functions."""

    def __init__(self, seed: int = 7) -> None:
        r = random.Random(seed)
        self.params = [(r.randrange(1, _P), r.randrange(0, _P)) for _ in range(PERMUTATIONS)]

    def signature(self, ids: set[int]) -> bytes:
        """The signature of a shingle set (all-max for an empty set): ``PERMUTATIONS``
        minimum hashes, packed as unsigned 64-bit integers (:func:`unpack` gives them back;
        256 bytes instead of a tuple of 32 integer objects, about 1.5 KB)."""
        if not ids:
            return _PACK(*(_P,) * PERMUTATIONS)
        return _PACK(*[min([(a * x + b) % _P for x in ids]) for a, b in self.params])

    @staticmethod
    def similarity(s: bytes, t: bytes) -> float:
        """Estimated Jaccard similarity of two signatures (the share of equal minimum hashes).

        >>> MinHash.similarity(pack([1, 2, 3, 4]), pack([1, 2, 0, 4]))
        0.75
        """
        n = len(s) // 8
        x = int.from_bytes(s, "little") ^ int.from_bytes(t, "little")
        if not x:
            return 1.0
        return memoryview(x.to_bytes(len(s), "little")).cast("Q").tolist().count(0) / n


_PACK = struct.Struct(f"<{PERMUTATIONS}Q").pack


def pack(values: list[int] | tuple[int, ...]) -> bytes:
    """A signature of its minimum hashes (unsigned 64-bit, little-endian)."""
    return struct.pack(f"<{len(values)}Q", *values)


def unpack(sig: bytes) -> list[int]:
    """The minimum hashes of a signature.

    >>> unpack(pack([7, 2**61 - 2]))
    [7, 2305843009213693950]
    """
    return list(struct.unpack(f"<{len(sig) // 8}Q", sig))


_MINHASH = MinHash()
_BAND_BYTES = ROWS * 8


def bands(sig: bytes) -> list[bytes]:
    """LSH band keys of a signature: each band's bytes after its index.

    >>> [k[:2] for k in bands(pack(list(range(PERMUTATIONS))))][:3]
    [b'\\x00\\x00', b'\\x01\\x04', b'\\x02\\x08']
    """
    return [_BAND_PREFIX[i] + sig[i * _BAND_BYTES:(i + 1) * _BAND_BYTES] for i in range(BANDS)]


_BAND_PREFIX = [bytes((i,)) for i in range(BANDS)]


class RaidDetector(StreamDetector):
    """Per-brand troll-raid detector (see the module docstring)."""

    name = "raid"

    def __init__(self, brand: str, config: BrandConfig | None, detection: DetectionSettings) -> None:
        r = detection.risks
        self.brand = brand
        self.d = detection
        self.r = r
        self.handles = self.brand_handles = own_handles(config)
        # hot-path settings as plain attributes (a pydantic attribute read costs several times
        # more); settings do not change after construction
        self._bucket_s = detection.bucket_s
        self._young_days = r.raid_young_days
        self._low_followers = r.raid_low_followers
        # window items: [ts, mention id, author id, followers, age_days, cluster id, sig, text]
        self.items: deque[list[Any]] = deque()
        # LSH band key -> the window items with it, oldest first: the item itself when it is
        # the only one (most keys: a deque costs 600 bytes), else a deque (see _index)
        self.buckets: dict[bytes, list[Any] | deque[list[Any]]] = {}
        self.clusters: dict[int, dict[str, Any]] = {}
        self.next_cluster = 0
        self.counts: deque[list[float]] = deque()  # [bucket index, mentions] in the window
        self.total = 0
        self.ticker = Ticker(detection.bucket_s)
        self.tracker = tracker(brand, "raid", detection, r.raid_min_accounts)
        self.score = 0.0
        self.share = 0.0
        self.pending_signals = 0
        self.campaign: dict[str, float] = {}  # hashtag of an own post -> its last use
        names = [brand, *(config.handles if config else []), *(config.display_names if config else [])]
        self.generic_tags = {"#" + n.lower().replace(" ", "") for n in names}

    # ------------------------------------------------------------------ intake
    def suspicious(self, m: Mention) -> float | None:
        """Account age in days (-1 if unknown) when the author is a raid candidate, else None."""
        return suspicious_age(m.author, m.ts, self._young_days, self._low_followers)

    def see(self, m: Mention, ts: float, own: bool, handle: str | None, sentiment: Any,
            alerts: list[Alert]) -> None:
        """Count one mention; hash it if its author is suspicious (see
        :class:`~pipeline.risks._base.StreamDetector`)."""
        if own:
            if "#" in m.text:
                self._campaign(ts, m.text)
            return
        idx = int(ts // self._bucket_s)
        counts = self.counts
        if counts and counts[-1][0] == idx:
            counts[-1][1] += 1
        else:
            counts.append([idx, 1])
        self.total += 1
        if m.kind == "repost":
            return
        text = m.text
        if not text:
            return
        author = m.author
        age = suspicious_age(author, ts, self._young_days, self._low_followers)
        if age is None:
            return
        if (self.campaign and "#" in text and self.echoes_campaign(ts, text)
                and getattr(sentiment, "label", None) != "negative"):
            return  # a contest entry; a hostile text on the campaign tag still counts
        sh = shingles(text)
        if len(sh) < 3:
            return
        self._expire(ts)
        self.add(ts, m.id, author.id, author.followers, age, _MINHASH.signature(sh), text)

    def _campaign(self, ts: float, text: str) -> None:
        for tag in hashtags(text) - self.generic_tags:  # #acme is not a campaign
            self.campaign.pop(tag, None)
            self.campaign[tag] = ts
        while len(self.campaign) > MAX_CAMPAIGN_TAGS:
            del self.campaign[next(iter(self.campaign))]

    def echoes_campaign(self, ts: float, text: str) -> bool:
        """True when ``text`` carries a hashtag of the brand's own posts of the last day."""
        return any(ts - self.campaign.get(tag, -CAMPAIGN_S * 2) <= CAMPAIGN_S
                   for tag in hashtags(text))

    def add(self, ts: float, mid: str, author: str, followers: int, age: float,
            sig: bytes, text: str) -> None:
        """Put one candidate text into the window and its cluster."""
        keys = bands(sig)
        best, best_sim = None, 0.0
        seen: set[int] = set()
        buckets = self.buckets
        for key in keys:
            q = buckets.get(key)
            if q is None:
                continue
            for other in (q,) if type(q) is list else list(q)[-MAX_COMPARE:]:
                if id(other) in seen:
                    continue
                seen.add(id(other))
                s = MinHash.similarity(sig, other[6])
                if s > best_sim:
                    best, best_sim = other, s
        if best is not None and best_sim >= self.r.raid_similarity:
            cid = best[5]
        else:
            cid = self.next_cluster
            self.next_cluster += 1
            self.clusters[cid] = {"authors": {}, "posts": 0, "first": ts, "text": text[:280],
                                  "samples": []}
        c = self.clusters[cid]
        c["authors"][author] = c["authors"].get(author, 0) + 1
        c["posts"] += 1
        c["last"] = ts
        if len(c["samples"]) < 10:
            c["samples"].append(mid)
        item = [ts, mid, author, followers, age, cid, sig, text[:280]]
        self.items.append(item)
        for key in keys:
            _index(buckets, key, item)
        if len(self.items) > self.r.raid_max_items:
            self._drop(self.items.popleft())

    def _drop(self, item: list[Any]) -> None:
        buckets = self.buckets
        for key in bands(item[6]):
            q = buckets.get(key)
            if q is None:
                continue
            if type(q) is list:  # the band's only item (see _index)
                if q is item or q == item:
                    del buckets[key]
                continue
            if q[0] is item:
                q.popleft()
            else:
                try:
                    q.remove(item)
                except ValueError:
                    pass
            if not q:
                del buckets[key]
        c = self.clusters.get(item[5])
        if c is None:
            return
        c["posts"] -= 1
        n = c["authors"].get(item[2], 0) - 1
        if n > 0:
            c["authors"][item[2]] = n
        else:
            c["authors"].pop(item[2], None)
        if c["posts"] <= 0:
            del self.clusters[item[5]]

    def _expire(self, now: float) -> None:
        cutoff = now - self.r.raid_window_s
        items = self.items
        while items and items[0][0] < cutoff:
            self._drop(items.popleft())
        first = int(cutoff // self.d.bucket_s)
        while self.counts and self.counts[0][0] < first:
            self.total -= int(self.counts.popleft()[1])

    # ------------------------------------------------------------------ scores
    def top_cluster(self) -> tuple[int | None, int]:
        """The cluster with the most distinct accounts in the window, and that number."""
        best, n = None, 0
        for cid, c in self.clusters.items():
            k = len(c["authors"])
            if k > n:
                best, n = cid, k
        return best, n

    def coordinated_share(self, now: float) -> float:
        """Share of the brand's mentions in the window ending at ``now`` that belong to
        clusters of at least ``COORDINATED_MIN_ACCOUNTS`` accounts."""
        self._expire(now)
        if self.total <= 0:
            return 0.0
        coordinated = sum(c["posts"] for c in self.clusters.values()
                          if len(c["authors"]) >= COORDINATED_MIN_ACCOUNTS)
        return min(1.0, coordinated / self.total)

    def crisis_evidence(self, now: float) -> dict[str, Any]:
        """What this detector adds to a crisis alert's evidence."""
        return {"coordinated_share": round(self.coordinated_share(now), 4)}

    def _tick(self, t: float) -> list[Alert]:
        end = t + self.d.bucket_s
        self._expire(end)
        cid, n = self.top_cluster()
        self.score = float(n)
        self.share = self.coordinated_share(end)
        tr = self.tracker.step(t, watch=float(n), crisis=0.0)
        if not tr.update:
            return []
        if tr.update == "opened" or tr.update == "reopened":
            self.pending_signals += 1
        c = self.clusters.get(cid) if cid is not None else None
        members = [it for it in self.items if it[5] == cid] if c else []
        ages = [it[4] for it in members if it[4] >= 0]
        young = sum(1 for a in ages if a < self.r.raid_young_days)
        evidence = {
            "accounts": n,
            "posts": c["posts"] if c else 0,
            "window_s": self.r.raid_window_s,
            "young_share": round(young / len(members), 3) if members else 0.0,
            "median_followers": median(it[3] for it in members) if members else 0,
            "median_account_age_days": round(median(ages), 1) if ages else None,
            "sample_text": c["text"] if c else "",
            "hashtags": sorted({t_ for it in members[:50] for t_ in tokenize(it[7])
                                if t_.startswith("#")})[:10],
            "coordinated_share": round(self.share, 4),
            "clusters_in_window": len(self.clusters),
        }
        severity = ("high" if n >= 3 * self.r.raid_min_accounts else "medium") \
            if tr.update != "resolved" else "low"
        summary = (f"{self.brand}: raid {tr.update} — {n} young/low-follower accounts posted "
                   f"{evidence['posts']} near-identical texts in {self.r.raid_window_s // 60} min: "
                   f"{evidence['sample_text'][:80]!r}")
        return [transition_alert(
            tr, brand=self.brand, kind="raid", severity=severity, t=t, bucket_s=self.d.bucket_s,
            observed=n, expected=0.0, score=n, summary=summary, evidence=evidence,
            samples=c["samples"] if c else [],
        )]

    # ------------------------------------------------------------------ metrics & state
    def gauges(self) -> dict[str, float]:
        """Current figures for metrics."""
        return {"coordinated_share": self.share, "raid_accounts": self.score}

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able). LSH tables and clusters are rebuilt from the window items."""
        return {
            "items": [[ts, mid, a, f, age, cid, unpack(sig), text]
                      for ts, mid, a, f, age, cid, sig, text in self.items],
            "clusters": {str(k): {**v, "authors": v["authors"]} for k, v in self.clusters.items()},
            "next_cluster": self.next_cluster, "counts": [list(c) for c in self.counts],
            "total": self.total, "ticker": self.ticker.to_state(),
            "tracker": self.tracker.to_state(), "score": self.score, "share": self.share,
            "campaign": self.campaign,
        }

    def load_state(self, s: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self.items = deque()
        self.buckets = {}
        for ts, mid, a, f, age, cid, sig, text in s["items"]:
            item = [ts, mid, a, f, age, cid, pack(sig), text]
            self.items.append(item)
            for key in bands(item[6]):
                _index(self.buckets, key, item)
        self.clusters = {int(k): {**v, "authors": dict(v["authors"])} for k, v in s["clusters"].items()}
        self.next_cluster = s["next_cluster"]
        self.counts = deque([c[0], c[1]] for c in s["counts"])
        self.total = s["total"]
        self.ticker.load_state(s["ticker"])
        self.tracker.load_state(s["tracker"])
        self.campaign = dict(s.get("campaign", {}))
        self.score = s["score"]
        self.share = s["share"]


def _index(buckets: dict[bytes, Any], key: bytes, item: list[Any]) -> None:
    """File a window item under one of its band keys: alone as itself, then in a deque."""
    q = buckets.get(key)
    if q is None:
        buckets[key] = item
    elif type(q) is list:
        buckets[key] = deque((q, item))
    else:
        q.append(item)
