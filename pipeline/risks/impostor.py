"""Impostors and fake accounts: authors whose handle or display name imitates the brand's.

Names are compared as **skeletons** (:func:`skeleton`): NFKC, case-folded, common Cyrillic and
Greek homoglyphs mapped to Latin (``а``→``a``, ``ο``→``o``), accents dropped, digit/letter swaps
folded (``0``→``o``, ``1``/``i``/``|``→``l``, ``3``→``e``, ``5``→``s``, ``rn``→``m``,
``vv``→``w``), separators removed, then official-sounding **decorations** stripped from both
ends (``official``, ``support``, ``help``, ``care``, ``team``, ``fr``, ``service``, ``sav``…, and
trailing digits). The brand's names (its key, ``handles`` and ``display_names``) are skeletonised
the same way.

An author who is neither one of the brand's ``handles`` nor one of its ``known_accounts`` (fan
clubs, employees, partners the brand vouches for) **imitates** a name when its handle's or its
display name's skeleton equals that name's skeleton (``acme_support_official``, ``acrne``,
``аcme`` with a Cyrillic a: all ``acme``), or is within ``impostor_max_distance`` edits
(Damerau-Levenshtein; 1 for names of up to 7 letters) *and* something corroborates it: both the
handle and the name imitate, the account is younger than 90 days, or it posts links outside the
brand's domains (other than its own site: ``acne_care`` linking to ``acne-care.com`` is a
skincare shop one letter away, not an impostor). Names shorter than ``impostor_min_chars`` are
never targets.

One incident per impostor (id ``brand:impostor:<handle>``): ``opened`` at its first mention,
``escalated`` when it starts posting unknown links or answering customers (severity high),
``updated`` at 5, 20 and 100 mentions, ``resolved`` after ``impostor_quiet_s`` of silence (and
``reopened`` if it comes back). Evidence: the names it imitates and how (handle or display name,
distance, skeleton), followers, account age, verified flag, counts, link domains, sample ids.

Cost: most names are ruled out by a bound on their characters alone (no memory, no skeleton;
one bound for a handle and its display name together). The others' skeletons are memoised for
all brands at once (a skeleton does not depend on the brand: ``SKELETON_MEMO`` entries shared
by every detector); ASCII names take a regex-free path to their skeleton; a skeleton whose
length is within no target's edit limit (most of them) is compared with nothing, and a character
bound skips most of the remaining edit distances; the brand's verdicts on the skeletons that are
compared are memoised per brand (``NEAR_MEMO`` entries).

Examples
--------
>>> skeleton("ACME_Support_Official"), skeleton("acrne"), skeleton("\u0430cme"), skeleton("Acme France")
('acme', 'acme', 'acme', 'acme')
>>> skeleton("Nord-Air HELP"), skeleton("n0rdair_fr"), skeleton("globexcares2")
('nordalr', 'nordalr', 'globex')
>>> osa_distance("acme", "acne"), osa_distance("nordair", "norda1r"), osa_distance("abcd", "abdc")
(1, 1, 1)
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

from pipeline.risks._base import (
    StreamDetector, Ticker, allowed_domains, domain_allowed, iso, link_domains, own_handles,
)
from pipeline.schemas import Alert, Mention
from pipeline.settings import BrandConfig, DetectionSettings
from pipeline.text import _domain

#: Skeletons of names memoised, for all brands together (a skeleton is a pure function of the
#: name): at most about 12 MB whatever the number of brands.
SKELETON_MEMO = 1 << 16
#: A brand's verdicts on the skeletons its targets are compared with, memoised per brand.
NEAR_MEMO = 1_024
#: Impostor records kept per brand (the oldest resolved ones go first).
MAX_IMPOSTORS = 2_000
#: Mention counts at which an ``updated`` alert is sent.
UPDATE_AT = (5, 20, 100)
#: Accounts younger than this corroborate a near (not exact) imitation.
YOUNG_DAYS = 90.0

#: Common homoglyphs of Latin letters (Cyrillic, Greek, a few symbols), after case folding.
CONFUSABLES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "ɡ": "g", "һ": "h", "н": "h",
    "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p",
    "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "у": "y", "ѵ": "v", "ԝ": "w", "х": "x", "ь": "b",
    # Greek
    "α": "a", "β": "b", "ϲ": "c", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϳ": "j", "ς": "s",
    # digits and symbols used as letters; i/l/1/| all become l
    "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s",
    "|": "l", "!": "l", "i": "l",
})
_MULTI = (("rn", "m"), ("vv", "w"))

#: Official-sounding words impostors add to a brand name (EN and FR).
DECORATIONS = (
    "official", "officiel", "officielle", "support", "supports", "helpdesk", "help", "care",
    "cares", "team", "service", "services", "client", "clients", "customer", "customers",
    "desk", "assist", "assistance", "contact", "sav", "info", "news", "real", "the", "hq",
    "global", "intl", "france", "fr", "usa", "us", "uk", "en", "de", "es", "app", "online",
)


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _letters(folded: str) -> str:
    s = _KEEP.sub("", folded).translate(CONFUSABLES)
    for a, b in _MULTI:
        if a in s:
            s = s.replace(a, b)
    return s if s.isalnum() or not s else "".join(c for c in s if c.isalnum())


_KEEP = re.compile(r"[^\w@$|!]|_")
_DECOR_ALT = "|".join(sorted({_letters(_fold(d)) for d in DECORATIONS}, key=len, reverse=True))
#: Decorations stripped greedily from both ends, keeping a core of at least 3 characters.
_CORE = re.compile(rf"^(?:{_DECOR_ALT})*(?P<core>.{{3,}}?)(?:{_DECOR_ALT})*$")
_TRAILING_DIGITS = re.compile(r"[\d_\-. ]+$")


_DECOR_TUPLE = tuple(_DECOR_ALT.split("|"))
_ASCII_TRAILING = "0123456789_-. "
#: ASCII characters that are not letters or digits (stripped away, nothing alphanumeric is left).
_ASCII_NON_ALNUM = "".join(chr(i) for i in range(128) if not chr(i).isalnum())
#: ASCII fast path of :func:`_letters`: drop what ``_KEEP`` drops, then map the confusables.
_ASCII_LETTERS = str.maketrans({
    chr(i): (None if _KEEP.match(chr(i)) else chr(i).translate(CONFUSABLES)) for i in range(128)
})
#: The same as a bytes table and the bytes it deletes (bytes.translate: no dictionary look-up).
_ASCII_LETTER_BYTES = bytes(ord(chr(i).translate(_ASCII_LETTERS) or "_") for i in range(256))
_ASCII_DROPPED = bytes(i for i in range(128) if not chr(i).translate(_ASCII_LETTERS))
#: What the skeleton's first steps (lower case, then the table above) make of each ASCII byte,
#: "_" for the dropped ones (no skeleton has one): the characters a skeleton can have.
_ASCII_SKELETON_CHARS = bytes(
    ord(chr(i).lower().translate(_ASCII_LETTERS) or "_") for i in range(128)) + b"_" * 128
_M, _R, _N, _W, _V = b"mrnwv"


def skeleton(name: str) -> str:
    """The comparable core of a handle or display name (see the module docstring)."""
    if not name.isascii() or name.endswith("\n"):
        return _skeleton_of_folded(_fold(name))
    # ASCII fast path, same result as _skeleton_of_folded: folding is lower(), rstrip is the
    # trailing-digits regex on such text (kept when something alphanumeric is left), the
    # translate table drops and maps characters as _letters does (leaving only letters and
    # digits), and a text with no decoration at either end is its own core
    folded = name.lower()
    stripped = folded.rstrip(_ASCII_TRAILING)
    if stripped.strip(_ASCII_NON_ALNUM):
        folded = stripped
    s = folded.encode().translate(_ASCII_LETTER_BYTES, _ASCII_DROPPED).decode()
    if "rn" in s:  # _MULTI, in order
        s = s.replace("rn", "m")
    if "vv" in s:
        s = s.replace("vv", "w")
    if s.startswith(_DECOR_TUPLE) or s.endswith(_DECOR_TUPLE):
        m = _CORE.match(s)
        return m["core"] if m else s
    return s


def _skeleton_of_folded(folded: str) -> str:
    """:func:`skeleton` of an already folded name, by the regular expressions (any text)."""
    stripped = _TRAILING_DIGITS.sub("", folded)
    if stripped and any(c.isalnum() for c in stripped):  # trailing digits are decoration
        folded = stripped
    s = _letters(folded)
    m = _CORE.match(s)
    return m["core"] if m else s


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment (Damerau-Levenshtein) distance, capped at ``limit + 1``."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        ai = a[i - 1]
        for j in range(1, len(b) + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


#: ``(brand name, distance, skeleton)`` of each brand name a handle or display name imitates.
_Matches = tuple[tuple[str, int, str], ...]


class ImpostorDetector(StreamDetector):
    """Per-brand impostor detector (see the module docstring)."""

    name = "impostor"

    def __init__(self, brand: str, config: BrandConfig | None, detection: DetectionSettings) -> None:
        r = detection.risks
        self.brand = brand
        self.d = detection
        self.r = r
        # own handles and the accounts the brand vouches for: never impostors
        self.brand_handles = own_handles(config)
        self.handles = self.brand_handles | frozenset(
            h.lower().lstrip("@") for h in (config.known_accounts if config else []))
        self.allowed = allowed_domains(config)
        names = [brand] + list(config.handles if config else []) + list(
            config.display_names if config else [])
        self.targets: dict[str, str] = {}  # skeleton -> the brand name it stands for
        for n in names:
            sk = skeleton(n)
            if len(sk) >= r.impostor_min_chars:
                self.targets.setdefault(sk, n)
        # (target, edit limit, table deleting the target's characters) for the quick bound
        self._near_targets = [
            (t, self._limit(t), str.maketrans("", "", t)) for t in self.targets
        ]
        # skeleton lengths within some target's edit limit: any other length matches nothing
        self._near_lengths = frozenset(
            n for t, lim, _ in self._near_targets for n in range(len(t) - lim, len(t) + lim + 1)
            if n >= r.impostor_min_chars)
        # (target as bytes, edit limit, its m's, its w's) for the quick bound of _far (ASCII
        # targets only: a non-ASCII skeleton is only near names _far leaves to _matches)
        ascii_targets = [(t, lim) for t, lim, _ in self._near_targets if t.isascii()]
        self._far_bounds = [(t.encode(), lim, t.count("m"), t.count("w")) for t, lim in ascii_targets]
        self._far_ok = len(ascii_targets) == len(self._near_targets)
        # skeleton (of a length near some target's) -> its matches: the brand's verdicts
        self._near_memo: OrderedDict[str, _Matches] = OrderedDict()
        self.impostors: OrderedDict[str, dict[str, Any]] = OrderedDict()  # by last activity
        self.ticker = Ticker(detection.bucket_s)
        self.pending_signals = 0

    # ------------------------------------------------------------------ matching
    def _limit(self, target: str) -> int:
        return min(self.r.impostor_max_distance, 1 if len(target) <= 7 else 2)

    def _near(self, sk: str) -> list[tuple[str, int]]:
        out = []
        for t, lim, drop_t in self._near_targets:
            if abs(len(t) - len(sk)) > lim:
                continue
            # each character of sk absent from t costs one edit: a cheap lower bound
            if len(sk.translate(drop_t)) > lim:
                continue
            dist = osa_distance(sk, t, lim)
            if dist <= lim:
                out.append((t, dist))
        return out

    def _far(self, value: str) -> bool:
        """True when ``value``'s skeleton is certainly beyond every target's edit limit.

        A quick bound for ASCII names (all handles, most display names), from the name itself:
        a skeleton only has characters of the name's lower-cased, translated form (plus an
        ``m`` where it has ``r`` and ``n``, a ``w`` where it has a ``v``), and every character
        of a target that the skeleton lacks costs an edit. Other names: False (ask
        :meth:`_matches`).
        """
        if not value.isascii() or not self._far_ok:
            return False
        chars = value.encode().translate(_ASCII_SKELETON_CHARS)
        for target, lim, n_m, n_w in self._far_bounds:
            k = len(target.translate(None, chars))  # the target's characters chars lacks
            if k > lim and n_m and _M not in chars and _R in chars and _N in chars:
                k -= n_m  # "rn" may make its m's
            if k > lim and n_w and _W not in chars and _V in chars:
                k -= n_w  # "vv" may make its w's
            if k <= lim:
                return False
        return True

    def _memo(self, value: str) -> _Matches:
        """:meth:`_matches` of ``value``, from the shared skeleton memo and the brand's verdict
        memo."""
        if not value:
            return ()
        sk = _SKELETONS.get(value)
        if sk is None:
            sk = skeleton(value)
            _put(_SKELETONS, value, sk, SKELETON_MEMO)
        if len(sk) not in self._near_lengths:
            return ()
        found = self._near_memo.get(sk)
        if found is None:
            found = tuple((self.targets[t], dist, sk) for t, dist in self._near(sk))
            _put(self._near_memo, sk, found, NEAR_MEMO)
        return found

    def _matches(self, value: str) -> _Matches:
        """``(brand name, distance, skeleton)`` of each name ``value`` imitates."""
        if not value:
            return ()
        sk = skeleton(value)
        if len(sk) not in self._near_lengths:  # too short, or no target that long (most names)
            return ()
        return tuple((self.targets[t], dist, sk) for t, dist in self._near(sk))

    def imitations(self, handle: str, name: str) -> list[dict[str, Any]]:
        """Which brand names ``handle``/``name`` imitate (empty: none, or an own handle)."""
        if handle.lower() in self.handles or not self.targets:
            return []
        return _found(self._matches(handle), self._matches(name))

    def check(self, m: Mention) -> list[dict[str, Any]] | None:
        """Cached imitation check of a mention's author (None: not an imitation).

        Most names are ruled out by a quick bound on their characters (:meth:`_far`, no memory
        look-up); the others' skeletons and verdicts are memoised (see the module docstring).
        """
        matches = self._check(m)
        return None if matches is None else _found(*matches)

    def _check(self, m: Mention) -> tuple[_Matches, _Matches] | None:
        """:meth:`check` as the cached match tuples (handle's, name's), or None."""
        a = m.author
        if a.handle.lower() in self.handles or not self.targets:
            return None
        return self._author(a.handle, a.name)

    def _author(self, handle: str, name: str) -> tuple[_Matches, _Matches] | None:
        """:meth:`_check` of an author who is neither an own nor a vouched-for account."""
        far = self._far
        # one bound for both (most authors): a skeleton's characters come from its name's, so
        # a pair whose characters together are beyond every target is beyond it each alone
        if far(handle + name):
            return None
        h = () if far(handle) else self._memo(handle)
        n = () if far(name) else self._memo(name)
        if not h and not n:
            return None
        return h, n

    # ------------------------------------------------------------------ stream
    def see(self, m: Mention, ts: float, own: bool, handle: str | None, sentiment: Any,
            alerts: list[Alert]) -> None:
        """Check the author of one mention (see :class:`~pipeline.risks._base.StreamDetector`;
        the brand's own handles and the accounts it vouches for are never impostors).

        Cost: a float comparison and two dictionary look-ups for an author seen before (most);
        see :meth:`check` for the others.
        """
        if not self.targets:
            return
        a = m.author
        if self.handles:  # own handles and the accounts the brand vouches for
            if handle is None:
                handle = a.handle.lower()
            if handle in self.handles:
                return
        matches = self._author(a.handle, a.name)
        if matches is None:
            return
        key = handle if handle is not None else a.handle.lower()
        rec = self.impostors.get(key)
        doms = self._unknown_domains(m)
        if rec is None:
            found = _found(*matches)
            age = _age_days(a.created_at, ts)
            exact = any(f["distance"] == 0 for f in found)
            both = {f["via"] for f in found} == {"handle", "name"}
            young = age is not None and age < YOUNG_DAYS
            foreign = [d for d in doms if not own_site(d, key)]  # its own site corroborates not
            if not (exact or both or young or foreign):
                return
            rec = {
                "handle": a.handle, "name": a.name, "author_id": a.id, "imitates": found,
                "followers": a.followers, "verified": a.verified,
                "account_age_days": None if age is None else round(age, 1),
                "first_seen": ts, "last_seen": ts, "mentions": 0, "replies": 0,
                "link_domains": [], "samples": [], "version": 0, "severity": None,
                "state": "new", "incident_id": f"{self.brand}:impostor:{key}",
            }
            self.impostors[key] = rec
            self._bound()
        self.impostors.move_to_end(key)
        rec["last_seen"] = ts
        rec["mentions"] += 1
        if m.in_reply_to or m.kind == "reply":
            rec["replies"] += 1
        for dom in doms:
            if dom not in rec["link_domains"] and len(rec["link_domains"]) < 10:
                rec["link_domains"].append(dom)
        if len(rec["samples"]) < 10:
            rec["samples"].append(m.id)
        severity = ("low" if rec["verified"] else
                    "high" if (rec["link_domains"] or rec["replies"]) else "medium")
        update = None
        if rec["state"] in ("new", "resolved"):
            update = "opened" if rec["state"] == "new" else "reopened"
            rec["state"] = "watch"
            self.pending_signals += 1
        elif _rank(severity) > _rank(rec["severity"]):
            update = "escalated"
        elif rec["mentions"] in UPDATE_AT:
            update = "updated"
        rec["severity"] = severity
        if update:
            alerts.append(self._alert(rec, update, ts))

    def _unknown_domains(self, m: Mention) -> list[str]:
        if not ("http" in m.text or "www." in m.text or m.url):
            return []
        doms = list(link_domains(m.text))
        if m.url:
            doms.append(_domain(m.url))
        return [d for d in dict.fromkeys(doms) if d and not domain_allowed(d, self.allowed)]

    def _bound(self) -> None:
        if len(self.impostors) <= MAX_IMPOSTORS:
            return
        for k, v in list(self.impostors.items()):
            if v["state"] == "resolved":
                del self.impostors[k]
                if len(self.impostors) <= MAX_IMPOSTORS:
                    return
        self.impostors.popitem(last=False)

    def _tick(self, t: float) -> list[Alert]:
        out = []
        quiet_before = t - self.r.impostor_quiet_s
        for rec in self.impostors.values():  # ordered by last activity: stop at the first recent
            if rec["last_seen"] >= quiet_before:
                break
            if rec["state"] == "watch":
                rec["state"] = "resolved"
                out.append(self._alert(rec, "resolved", t + self.d.bucket_s))
        return out

    def _alert(self, rec: dict[str, Any], update: str, at: float) -> Alert:
        rec["version"] += 1
        names = sorted({f["imitates"] for f in rec["imitates"]})
        best = min(f["distance"] for f in rec["imitates"])
        evidence = {
            "handle": rec["handle"], "name": rec["name"], "author_id": rec["author_id"],
            "imitates": rec["imitates"], "followers": rec["followers"],
            "account_age_days": rec["account_age_days"], "verified": rec["verified"],
            "mentions": rec["mentions"], "replies_to_others": rec["replies"],
            "unknown_link_domains": rec["link_domains"],
            "first_seen": iso(rec["first_seen"]).isoformat(),
        }
        what = "posting unknown links" if rec["link_domains"] else (
            "answering customers" if rec["replies"] else "mentioning the brand")
        summary = (f"{self.brand}: impostor @{rec['handle']} ({rec['name']!r}) imitates "
                   f"{', '.join(names)} — {what}, {rec['mentions']} mention(s), "
                   f"{rec['followers']} followers")
        return Alert(
            id=rec["incident_id"], version=rec["version"], brand=self.brand, kind="impostor",
            severity=rec["severity"] or "medium",
            state="resolved" if update == "resolved" else "watch", update=update,
            opened_at=iso(rec["first_seen"]), updated_at=iso(at), observed=rec["mentions"],
            expected=0.0, score=round(1.0 - best / 4.0, 4), summary=summary, evidence=evidence,
            sample_mention_ids=list(rec["samples"]),
        )

    # ------------------------------------------------------------------ metrics & state
    def gauges(self) -> dict[str, float]:
        """Current figures for metrics."""
        return {"impostors_active": float(sum(r["state"] == "watch" for r in self.impostors.values()))}

    def to_state(self) -> dict[str, Any]:
        """Snapshot (JSON-able). The name cache is not saved: it is a pure function's cache."""
        return {"impostors": list(self.impostors.values()), "ticker": self.ticker.to_state()}

    def load_state(self, s: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`to_state`."""
        self.impostors = OrderedDict((r["handle"].lower(), dict(r)) for r in s["impostors"])
        self.ticker.load_state(s["ticker"])


def own_site(domain: str, handle: str) -> bool:
    """True when ``domain`` is the account's own site (its name's skeleton is the handle's).

    >>> own_site("acne-care.com", "acne_care"), own_site("acme-refund-help.com", "acrne")
    (True, False)
    """
    labels = domain.split(".")
    name = "".join(labels[-3:-1] if len(labels) > 2 and labels[-2] in ("co", "com") else labels[-2:-1])
    return bool(name) and skeleton(name) == skeleton(handle)


#: Name -> skeleton, for every brand's detector (see ``SKELETON_MEMO``).
_SKELETONS: OrderedDict[str, str] = OrderedDict()


def _put(cache: OrderedDict[str, Any], key: str, value: Any, size: int) -> None:
    """Memoise ``value`` under ``key``, dropping the oldest entry past ``size``."""
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)  # O(1); a plain dict's first key is O(deleted entries)


def _found(
    by_handle: _Matches, by_name: _Matches
) -> list[dict[str, Any]]:
    """Evidence entries of an author's matches (fresh dictionaries), handle first."""
    return [{"imitates": name, "via": via, "distance": dist, "skeleton": sk}
            for via, matches in (("handle", by_handle), ("name", by_name))
            for name, dist, sk in matches]


def _rank(severity: str | None) -> int:
    return ("low", "medium", "high").index(severity) if severity else -1


def _age_days(created: datetime | None, ts: float) -> float | None:
    if created is None:
        return None
    return max(0.0, (ts - created.astimezone(timezone.utc).timestamp()) / 86_400.0)
