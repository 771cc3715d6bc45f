"""Shared types and text helpers of the own-post checks.

Every check module works on one :class:`PostText`: the original text plus views of it that keep
character offsets (a case- and accent-folded copy, a copy with URLs blanked out), so that each
:class:`Reason` points at a span ``[start, end)`` of the *original* text.

Examples
--------
>>> fold("Été À L’Hôtel")
"ete a l'hotel"
>>> len(fold("Straße")) == len("Straße")
True
>>> p = PostText.build("Voir https://acme.fr/x, merci")
>>> [p.text[s:e] for s, e, _ in p.urls]
['https://acme.fr/x']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

SeverityLevel = Literal["warn", "block"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding of the own-post review.

    Parameters
    ----------
    check
        Dotted check name, family first: ``"secret.aws_key"``, ``"pii.email"``,
        ``"tone.shouting"``, ``"error.placeholder"``, ``"compliance.forbidden"``...
    span
        Character offsets ``[start, end)`` in the original text.
    message
        A human explanation, in English.
    severity
        ``"warn"`` (a human should look) or ``"block"`` (must not be published as is).
    """

    check: str
    span: tuple[int, int]
    message: str
    severity: SeverityLevel

    @property
    def family(self) -> str:
        """The part of :attr:`check` before the first dot (``"secret"``, ``"tone"``...)."""
        return self.check.partition(".")[0]


class _FoldTable(dict):
    """``str.translate`` table that folds one character to one character (offsets kept).

    Lower-cases, strips accents (NFKD minus combining marks), and maps typographic apostrophes
    and non-breaking spaces to their ASCII forms. A character whose fold is not exactly one
    character (``ß``, ``œ``...) is only lower-cased when that keeps its length.
    """

    def __missing__(self, cp: int) -> str:
        c = chr(cp)
        d = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
        f = d.casefold()
        if len(f) != 1:
            low = c.lower()
            f = low if len(low) == 1 else c
        self[cp] = f
        return f


_FOLD = _FoldTable({0x2019: "'", 0x2018: "'", 0x02BC: "'", 0xA0: " ", 0x202F: " ", 0x2009: " "})
for _cp in range(0x41, 0x5B):
    _FOLD[_cp] = chr(_cp + 32)


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _fold_char(m: re.Match[str]) -> str:
    return _FOLD[ord(m.group())]


def fold(text: str) -> str:
    """Case- and accent-fold ``text`` without changing its length (offsets stay valid).

    >>> fold("CRÉDIT Agricole")
    'credit agricole'
    """
    if text.isascii():
        return text.lower()
    low = text.lower()
    if len(low) != len(text):  # rare: a character whose lower case is longer (İ)
        return text.translate(_FOLD)
    return _NON_ASCII_RE.sub(_fold_char, low)


def term_pattern(term: str, inflect: bool = False) -> str | None:
    """A regex source matching a folded ``term`` up to a word end, with flexible separators.

    The caller checks that the match does not start inside a word (a leading look-behind on
    every branch of a big alternation makes Python's ``re`` some 30 times slower).

    Spaces, hyphens, underscores and dots inside the term match any run of them (or nothing),
    so ``"Project Falcon"`` also matches ``project-falcon`` and ``#ProjectFalcon``. With
    ``inflect``, French/English plural and feminine endings (-e, -s, -es) are accepted too
    on every word ("100% sûr" matches "100% sûre", "rendement garanti" matches "rendements
    garantis").

    >>> bool(re.search(term_pattern("Projet Héron"), fold("le projet-heron démarre")))
    True
    >>> re.search(term_pattern("heron"), fold("les herons")) is None
    True
    >>> [m.start() for m in PhraseSet(["heron"]).finditer(PostText.build("aheron heron"))]
    [7]
    """
    t = fold(term).strip()
    if not t:
        return None
    parts = [re.escape(p) for p in re.split(r"[\s_.\-]+", t) if p]
    if not parts:
        return None
    if inflect:
        parts = [p + r"(?:e|s|es)?" if p[-1:].isalpha() else p for p in parts]
    return r"[\s_.\-]*".join(parts) + r"(?![\w])"


# URLs: scheme or www., plus bare domains followed by a path (acme.fr/promo).
_TLDS = (
    "com|fr|org|net|io|co|eu|be|ch|ca|de|uk|ly|gl|app|dev|info|me|tv|gg|ai|lu|es|it|nl|us|"
    "biz|shop|store|news|gouv\\.fr"
)
# Both run on the folded (lower-case) text: literal prefixes make the scans fast.
URL_RE = re.compile(r"(?:(?:https?|ftp)://|www\.)[^\s<>\"«»]*")
_BARE_URL_RE = re.compile(r"\.(?:" + _TLDS + r")/[^\s<>\"«»]*")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_URL_BEFORE = frozenset("@./-_")
WORD_RE = re.compile(r"[^\W_]+")
#: ASCII letters and digits kept, every other byte a space: an ASCII text's WORD_RE words are
#: the words of its translation split on spaces (a C loop, no regex).
_ASCII_WORDS = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256))


def words_of(folded: str) -> list[str]:
    """``WORD_RE.findall(folded)``, faster on ASCII text.

    >>> words_of("l'ete, 2x_b #acme"), words_of("ça-va")
    (['l', 'ete', '2x', 'b', 'acme'], ['ça', 'va'])
    """
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return WORD_RE.findall(folded)


def _find_urls(text: str, folded: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int]] = []
    for m in URL_RE.finditer(folded):
        s = m.start()
        if s and (text[s - 1].isalnum() or text[s - 1] in _URL_BEFORE):
            continue
        found.append(m.span())
    if "/" in text:
        for m in _BARE_URL_RE.finditer(folded):
            s = m.start()
            if any(a <= s < b for a, b in found):
                continue
            while s and text[s - 1] in _HOST_CHARS:
                s -= 1
            if s == m.start() or (s and (text[s - 1].isalnum() or text[s - 1] in _URL_BEFORE)):
                continue
            found.append((s, m.end()))
        found.sort()
    urls = []
    for s, e in found:
        u = text[s:e]
        while u and u[-1] in _URL_TRAIL:
            if u[-1] == ")" and u.count("(") >= u.count(")"):
                break
            u = u[:-1]
            e -= 1
        if u:
            urls.append((s, e, u))
    return urls


class PhraseSet:
    """Whole-word matcher for a list of folded phrases, skipped when its gate word is absent.

    >>> ps = PhraseSet(["sans risque", "rendement garanti"])
    >>> p = PostText.build("Un rendement   garanti !")
    >>> [p.text[m.start():m.end()] for m in ps.finditer(p)]
    ['rendement   garanti']
    """

    __slots__ = ("triggers", "regex")

    def __init__(self, phrases: Iterable[str], inflect: bool = False):
        pats, triggers = [], set()
        for ph in phrases:
            pat = term_pattern(ph, inflect)
            if pat is None:
                continue
            pats.append(pat)
            ws = WORD_RE.findall(fold(ph))
            # any word of the phrase gates it: take the longest (rarest), e.g. "fout" in
            # "on s'en fout", not "on"
            trig = max(reversed(ws), key=len)
            triggers.add(trig)
            if inflect:
                triggers.update(trig + x for x in ("e", "s", "es"))
            if len(ws) > 1:
                triggers.add("".join(ws))  # #ProjetOrion
        pats.sort(key=len, reverse=True)
        self.triggers = frozenset(triggers)
        self.regex = re.compile("|".join(pats)) if pats else None

    def finditer(self, p: PostText) -> Iterator[re.Match[str]]:
        """Matches in ``p.folded`` (nothing when no trigger word is in the post)."""
        if self.regex is None or p.words.isdisjoint(self.triggers):
            return iter(())
        f = p.folded
        return (m for m in self.regex.finditer(f) if not (m.start() and f[m.start() - 1].isalnum()
                                                         or f[m.start() - 1] == "_"))
_URL_TRAIL = ".,;:!?'’\"»)]}…"


@dataclass(slots=True)
class PostText:
    """A post and the offset-preserving views the checks share.

    Attributes
    ----------
    text
        The original text.
    folded
        :func:`fold` of the text (same length).
    masked
        The text with every URL replaced by spaces (same length): PII scans run on it.
    urls
        ``(start, end, url)`` of each URL found, trailing punctuation trimmed.
    lang
        ``"fr"``, ``"en"`` (given or guessed).
    """

    text: str
    folded: str
    masked: str
    urls: list[tuple[int, int, str]] = field(default_factory=list)
    lang: str = "en"
    wordlist: list[str] = field(default_factory=list)
    words: frozenset[str] = frozenset()

    @classmethod
    def build(cls, text: str, lang: str | None = None) -> PostText:
        """Compute every view of ``text`` once."""
        folded = fold(text)
        urls = _find_urls(text, folded) if ("/" in text or "www" in folded) else []
        if urls:
            parts: list[str] = []
            last = 0
            for s, e, _ in urls:
                parts.append(text[last:s])
                parts.append(" " * (e - s))
                last = e
            parts.append(text[last:])
            masked = "".join(parts)
        else:
            masked = text
        wl = words_of(folded)
        lg = normalize_lang(lang) or _guess(wl)
        return cls(text, folded, masked, urls, lg, wl, frozenset(wl))

    def in_url(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` overlaps a URL."""
        return any(s < end and start < e for s, e, _ in self.urls)


_FR_WORDS = frozenset(
    "le la les des une est et pour nous vous avec sur pas dans du au aux votre vos notre nos "
    "sont ce cette qui que merci bonjour tu ton ta tes un en il elle ne plus tout tous vos "
    "bonne desole desolee ete sera avons etes chez".split()
)
_EN_WORDS = frozenset(
    "the and is are to for we you your our with on not in of this that thanks thank hi it be "
    "will has have from all at by an sorry please was can here now".split()
)


def normalize_lang(lang: str | None) -> str | None:
    """``"fr-FR"`` -> ``"fr"``; None or unknown stays as given (lower-cased prefix).

    >>> normalize_lang("FR-ca"), normalize_lang(None)
    ('fr', None)
    """
    if not lang:
        return None
    return lang.lower().split("-")[0].split("_")[0]


def guess_lang(folded: str) -> str:
    """French or English, from stop words (ties go to English).

    >>> guess_lang(fold("Bonjour, votre commande est en route"))
    'fr'
    >>> guess_lang("your order is on its way")
    'en'
    """
    return _guess(WORD_RE.findall(folded))


def _guess(words: list[str]) -> str:
    fr = sum(map(_FR_WORDS.__contains__, words))
    en = sum(map(_EN_WORDS.__contains__, words))
    return "fr" if fr > en else "en"


_NEGATION_RE = re.compile(
    r"(?<![\w])(?:not|never|no|nothing|none|isn't|aren't|isnt|cannot|can't|without|"
    r"ne|n'|pas|aucun|aucune|jamais|rien|ni|nul|nulle)(?![\w])|n'"
)
_CLAUSE_BREAK = re.compile(r"[.;:!?\n,]")


def negated(folded: str, start: int, window: int = 80) -> bool:
    """Whether a negation occurs in the ``window`` characters before ``start``, in its clause.

    >>> negated(fold("Aucun placement n'est sans risque"), 22), negated("pas de frais, sans risque", 14)
    (True, False)
    """
    before = folded[max(0, start - window): start]
    cut = 0
    for m in _CLAUSE_BREAK.finditer(before):
        cut = m.end()
    return bool(_NEGATION_RE.search(before[cut:]))
