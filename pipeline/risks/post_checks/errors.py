"""Communication errors: placeholders, links, unbalanced quotes/brackets, doubled words,
misspelled brand names. All warn: a typo is embarrassing, not a leak.

Examples
--------
>>> e = ErrorChecks(display_names=["Banque Azur"], handles=["BanqueAzur"],
...                 allowed_link_domains=["banque-azur.fr"])
>>> [r.check for r in e.run(PostText.build("Bonjour {first_name}, voir https://bit.ly/x"))]
['error.placeholder', 'error.link_domain']
>>> [r.check for r in e.run(PostText.build("La Banque Azure vous répond", "fr"))]
['error.brand_misspelling']
>>> e.run(PostText.build("Nous nous excusons : l'été (et l'automne) arrivent", "fr"))
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._base import WORD_RE, PostText, Reason, fold

#: Words remembered per brand as far from (or near to) its names: a memo of a pure function of
#: the word, forgotten when full. A brand's own posts use a few thousand words; 100,000 per
#: brand (about 10 MB each) made the memo the largest per-brand memory of the engine.
NEAR_WORDS_MEMO = 4_096

_PLACEHOLDER_WORDS = (
    r"insert|ins[ée]rer|add|ajouter|first[ _]?name|last[ _]?name|full[ _]?name|name|nom|"
    r"pr[ée]nom|link|lien|url|date|price|prix|company|soci[ée]t[ée]|client|customer|product|"
    r"produit|city|ville|email|e-mail|number|num[ée]ro|code|montant|amount|handle|username|"
    r"[àa] compl[ée]ter|[àa] d[ée]finir|tbd|todo|placeholder|xxx"
)
# (character that must occur, regex): each runs only when its character is in the post.
_PLACEHOLDER_SYNTAX = (
    ("{", re.compile(r"\{\{\s*[^{}\n]{1,40}?\s*\}\}|\{\s*[A-Za-z_][\w.]{0,39}\s*\}")),
    ("$", re.compile(r"\$\{[^}\n]{1,40}\}")),
    ("%(", re.compile(r"%\(\w+\)[sd]")),
    ("%s", re.compile(r"%s(?!\w)")),
    ("%d", re.compile(r"%d(?!\w)")),
    ("[", re.compile(r"\[\s*(?i:" + _PLACEHOLDER_WORDS + r")(?:[^\]\n]{0,30})\]|\[[A-Z]+_[A-Z_]+\]")),
    ("<", re.compile(r"<\s*(?i:" + _PLACEHOLDER_WORDS + r")[^<>\n]{0,40}>")),
)
_PLACEHOLDER_WORD_RE = re.compile(
    r"(?<![\w])(?:TODO|TBD|TBC|FIXME|XXX)(?![\w])"
    r"|(?<![\w])(?:[ÀA] COMPL[ÉE]TER|[ÀA] D[ÉE]FINIR)(?![\w])"
    r"|(?i:lorem ipsum)"
    r"|(?<![\w])(?:XX(?:[.,]XX)?[ \u00a0]?(?:€|\$|%|euros?)|JJ/MM(?:/AAAA)?|DD/MM(?:/YYYY)?|MM/DD(?:/YYYY)?|XX/XX(?:/XX(?:XX)?)?)"
)
_PLACEHOLDER_WORD_GATE = frozenset("todo tbd tbc fixme xxx completer definir lorem xx jj dd mm".split())
_EMPTY_GREETING_RE = re.compile(
    r"(?i:(?<![\w])(?:hi|hello|dear|hey|bonjour|bonsoir|cher|ch[èe]re|salut)[ \t\u00a0]+,)"
)
_URL_WORD_GATE = frozenset(
    "htp htps http https htttp htttps hhtp hhtps ttp ttps hptt hptts htpp htpps www".split()
)
# On folded (lower-case) text; literal prefixes keep these scans fast.
_HTTP_BAD_RE = re.compile(r"https?(?::/(?!/)|//|:\\\\|;//|:///|\s*:\s+//|://(?=[\s/]|$))")
_WWW_BAD_RE = re.compile(r"www(?:\.(?=[\s.,]|$)|,)")
_SCHEMES = frozenset("http https ftp ftps mailto file ws wss".split())
_SCHEME_TYPO_CHARS = frozenset("htps")
_HOST_RE = re.compile(r"(?i)^(?:(?:https?|ftp)://)?([^/?#:\s]*)")
_LABEL_RE = re.compile(r"(?i)^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
ALWAYS_ALLOWED_DOMAINS = ("t.co", "x.com", "twitter.com")

_DOUBLED_RE = re.compile(r"(?<![\w'’-])([^\W\d_]+)[ \t\u00a0]+(\1)(?![\w'’-])", re.IGNORECASE)
# Legitimate repetitions: French reflexives, English "that that"/"had had", reduplications.
DOUBLED_OK = frozenset(
    """nous vous that had bye ha hi hip bla blah very tres so no non yes oui tam bora chop cha
    knock pom tic toc yeah hey go bon ah oh eh tut hush ding dong tsoin couci pschitt chut
    vite fort beaucoup bien plus encore many really much long far more again""".split()
)

_OPEN = {"(": ")", "[": "]", "{": "}", "«": "»", "“": "”"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_SMILEY_RE = re.compile(r"[:;=8xX][-^'o]?[()\[\]DpP3/|]|[()\[\]][-^']?[:;=]|\^\^|<3")
_LIST_MARK_RE = re.compile(r"(?:(?<=\s)|^)(?:\d{1,2}|[a-zA-Z])\)")
_BRACKET_RE = re.compile(r"[()\[\]{}«»“”\"]")

_NAME_TOKEN_RE = re.compile(r"([@#]?)([^\W_](?:[\w]|[-'’](?=\w))*)")


def _unmatched(marks: list[tuple[int, str]]) -> tuple[int, str] | None:
    """First stray closer, else the innermost unclosed opener, else an odd straight quote."""
    stack: list[tuple[str, int]] = []
    dquotes: list[int] = []
    for i, c in marks:
        if c == '"':
            dquotes.append(i)
        elif c in _OPEN:
            stack.append((c, i))
        elif stack and stack[-1][0] == _CLOSE[c]:
            stack.pop()
        else:
            return i, f"unmatched {c!r}"
    if stack:
        c, i = stack[-1]
        return i, f"unclosed {c!r}"
    if len(dquotes) % 2:
        return dquotes[-1], "odd number of '\"'"
    return None


def damerau(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment edit distance, cut off above ``limit`` (returns limit + 1).

    >>> damerau("acme", "amce"), damerau("azur", "azure"), damerau("kitten", "sitting", 5)
    (1, 1, 3)
    """
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ai = a[i - 1]
        best = cur[0]
        for j in range(1, lb + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            if v < best:
                best = v
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[lb], limit + 1)


def host_of(url: str) -> str:
    """Lower-case host of a URL (scheme optional), without ``www.``.

    >>> host_of("https://www.Acme.fr/promo?x=1")
    'acme.fr'
    """
    m = _HOST_RE.match(url)
    return (m.group(1) if m else "").lower().rstrip(".").removeprefix("www.")


def _host_ok(host: str) -> bool:
    labels = host.split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return False
    return all(_LABEL_RE.match(lb) for lb in labels)


class ErrorChecks:
    """Placeholder, link, bracket, doubled-word and brand-misspelling checks for one brand."""

    def __init__(
        self,
        display_names: Iterable[str] = (),
        handles: Iterable[str] = (),
        allowed_link_domains: Iterable[str] = (),
    ):
        self.allowed = tuple(
            a.lower().removeprefix("www.").strip("/") for a in allowed_link_domains if a
        )
        names: list[tuple[str, int, int]] = []  # (folded name, n words, max distance)
        handle_set = {fold(h).lstrip("@") for h in handles if h}
        self.exact = set(handle_set)
        for n in list(display_names) + list(handles):
            fn = re.sub(r"[\s]+", " ", fold(n).lstrip("@").strip())
            if not fn:
                continue
            self.exact.add(fn)
            self.exact.add(fn.replace(" ", ""))
            L = len(fn.replace(" ", ""))
            if L < 5:
                continue
            names.append((fn, fn.count(" ") + 1, 1 if L < 9 else 2))
        self.names = names
        self.max_words = max((n for _, n, _ in names), default=1)
        self.handles = tuple(handle_set)
        # Words of the names (gate): a post can only misspell a name if one of its words is
        # close to one of these. Cached per word (bounded).
        self.parts: dict[str, int] = {}
        for fn, _, maxd in names:
            for w in WORD_RE.findall(fn):
                if len(w) >= 4:
                    self.parts[w] = max(self.parts.get(w, 0), 1 if len(w) < 9 else 2)
        self._far: set[str] = set()  # words known not to be near a name part
        self._close: set[str] = set()  # words known to be near one

    def _near(self, w: str) -> bool:
        if w not in self.parts:
            sw = set(w)
            for part, d in self.parts.items():
                if (abs(len(w) - len(part)) <= d and (w[0] == part[0] or w[-1] == part[-1])
                        and w != part + "s" and len(sw ^ set(part)) <= 2 * d
                        and 0 < damerau(w, part, d) <= d):
                    if len(self._close) >= NEAR_WORDS_MEMO:
                        self._close.clear()
                    self._close.add(w)
                    return True
        if len(self._far) >= NEAR_WORDS_MEMO:
            self._far.clear()
        self._far.add(w)
        return False

    def run(self, p: PostText) -> list[Reason]:
        """All error reasons of the post."""
        out: list[Reason] = []
        t = p.text
        found: list[re.Match[str]] = []
        for ch, rx in _PLACEHOLDER_SYNTAX:
            if ch in t:
                found += rx.finditer(t)
        if not p.words.isdisjoint(_PLACEHOLDER_WORD_GATE):
            found += _PLACEHOLDER_WORD_RE.finditer(t)
        if " ," in t or "\u00a0," in t or "\t," in t:
            found += _EMPTY_GREETING_RE.finditer(t)
        for m in found:
            if m.group()[0] == "%" and m.start() and (t[m.start() - 1].isalnum() or
                                                      t[m.start() - 1] == "%"):
                continue  # "50%s" is not a printf placeholder
            if not p.in_url(*m.span()) or m.group().startswith("{"):
                out.append(Reason("error.placeholder", m.span(),
                                  f"unfilled placeholder {m.group()!r}", "warn"))
        self._links(p, out)
        self._brackets(p, out)
        wl = p.wordlist
        doubled = any(map(str.__eq__, wl, wl[1:])) and any(
            a == b and a not in DOUBLED_OK for a, b in zip(wl, wl[1:]))
        for m in _DOUBLED_RE.finditer(p.masked) if doubled else ():
            w = m.group(1).lower()
            if fold(w) in DOUBLED_OK or len(w) == 1 and w not in "a":
                continue
            out.append(Reason("error.doubled_word", (m.start(), m.end()),
                              f"doubled word {m.group(1)!r}", "warn"))
        if self.parts:
            unknown = p.words - self._far
            if unknown:
                near = set(unknown & self._close)
                for w in unknown - near:
                    if self._near(w):
                        near.add(w)
                if near:
                    self._brand_names(p, out, near)
        return out

    def _links(self, p: PostText, out: list[Reason]) -> None:
        bad: list[tuple[int, int]] = []
        f = p.folded
        if not p.words.isdisjoint(_URL_WORD_GATE):
            spans = [m.span() for rx in (_HTTP_BAD_RE, _WWW_BAD_RE) for m in rx.finditer(f)]
            i = f.find("://")
            while i > 0:
                s = i
                while s and f[s - 1].isalpha():
                    s -= 1
                scheme = f[s:i]
                if (scheme and scheme not in _SCHEMES and len(scheme) <= 6
                        and set(scheme) <= _SCHEME_TYPO_CHARS):
                    spans.append((s, i + 3))
                i = f.find("://", i + 3)
            for s, e in sorted(spans):
                if s and f[s - 1].isalnum():
                    continue
                bad.append((s, e))
                out.append(Reason("error.link_malformed", (s, e),
                                  f"malformed link {p.text[s:e]!r}", "warn"))
        for s, e, u in p.urls:
            if any(bs < e and s < be for bs, be in bad):
                continue
            host = host_of(u)
            if not _host_ok(host):
                out.append(Reason("error.link_malformed", (s, e), f"malformed link host {host!r}",
                                  "warn"))
                continue
            if self.allowed and not any(
                host == a or host.endswith("." + a) for a in self.allowed + ALWAYS_ALLOWED_DOMAINS
            ):
                out.append(Reason("error.link_domain", (s, e),
                                  f"link to {host!r}, not in allowed_link_domains", "warn"))

    def _brackets(self, p: PostText, out: list[Reason]) -> None:
        t = p.masked
        marks = [(m.start(), m.group()) for m in _BRACKET_RE.finditer(t)]
        if not marks or _unmatched(marks) is None:
            return
        # Unbalanced at first sight: ignore smileys ":)" and list markers "1)", then re-check.
        ignore: set[int] = set()
        for rx in (_SMILEY_RE, _LIST_MARK_RE):
            for m in rx.finditer(t):
                ignore.update(range(*m.span()))
        found = _unmatched([(i, c) for i, c in marks if i not in ignore])
        if found is not None:
            i, msg = found
            out.append(Reason("error.unbalanced", (i, i + 1), msg, "warn"))

    def _brand_names(self, p: PostText, out: list[Reason], near: set[str]) -> None:
        toks = [
            (m.group(1), m.start(2), m.end(2), m.group(2))
            for m in _NAME_TOKEN_RE.finditer(p.masked)
        ]
        f = p.folded
        hot = [any(w in near for w in WORD_RE.findall(f[s:e])) for _, s, e, _ in toks]
        for i, (pre, s, e, word) in enumerate(toks):
            if not (pre or word[0].isupper()):
                continue
            if not any(hot[i:i + self.max_words]):
                continue
            for name, n, maxd in self.names:
                if pre == "@":
                    if n != 1 or name not in self.handles:
                        continue
                    cand, ce = f[s:e], e
                elif pre == "#":
                    cand, ce = f[s:e], e
                    name = name.replace(" ", "")
                else:
                    if i + n > len(toks):
                        continue
                    last = toks[i + n - 1]
                    if n > 1 and any(toks[k][0] for k in range(i + 1, i + n)):
                        continue
                    ce = last[2]
                    cand = " ".join(f[tk[1]:tk[2]] for tk in toks[i:i + n])
                if cand in self.exact or abs(len(cand) - len(name)) > maxd:
                    continue
                if cand[0] != name[0] and cand[-1] != name[-1]:
                    continue
                if cand in (name + "s", name + "'s", name + "'"):
                    continue
                d = damerau(cand, name, maxd)
                if 0 < d <= maxd:
                    out.append(Reason("error.brand_misspelling", (s - len(pre), ce),
                                      f"{p.text[s - len(pre):ce]!r} looks like a misspelling of "
                                      f"the brand name {name!r}", "warn"))
                    break
