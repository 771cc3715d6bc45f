"""Tweet text normalisation and tokenisation (EN/FR and language-agnostic).

One regular expression splits a tweet into typed pieces; everything else in the project (sentiment,
trends, raid detection) builds on the helpers here instead of writing its own tokenizer.

Token forms produced by :func:`tokenize` (all lower case):

* words: ``\\w+`` runs, French elisions split off (``"n'est"`` -> ``"n'"``, ``"est"``), English
  contractions kept whole (``"don't"``), characters repeated 3+ times squeezed to two
  (``"noooo"`` -> ``"noo"``), all-digit tokens mapped to ``"<num>"``;
* ``"#tag"`` hashtags and ``"@name"`` mentions (kept, lower-cased);
* ``"<url>"`` for every link (the link itself is in :class:`TweetText.urls`);
* emojis, one token per pictograph (skin-tone modifiers, ZWJ and variation selectors dropped);
* emoticons such as ``":)"``, ``":("``, ``"<3"``, ``":d"``;
* punctuation that carries tone or closes a clause: ``"!"``, ``"?"`` runs, ``"..."``, ``"."``,
  ``","``, ``";"``, ``":"``.

HTML entities (``&amp;``, ``&lt;``) are decoded first, typographic apostrophes are unified.

>>> tokenize("@JetBlue you're the BEST!!! &amp; noooo delays 😍 https://t.co/x #happy")
['@jetblue', "you're", 'the', 'best', '!!', 'noo', 'delays', '😍', '<url>', '#happy']
>>> tokenize("Ce n'est pas terrible… l'avion a 2h de retard :(")
['ce', "n'", 'est', 'pas', 'terrible', '...', "l'", 'avion', 'a', '2h', 'de', 'retard', ':(']
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = [
    "TweetText",
    "analyze",
    "normalize",
    "tokenize",
    "chunk_tokens",
    "clean_token",
    "raw_tokens",
    "squeeze",
    "negation_scope",
    "is_emoji",
    "pieces",
    "strip_accents",
    "NEGATORS",
    "CLAUSE_END",
]

# Pictographic code points. Modifiers (skin tones U+1F3FB..1F3FF), ZWJ (U+200D) and variation
# selectors (U+FE0E/F) are matched separately and dropped, so "👍🏽" is the token "👍".
_EMOJI_CLASS = (
    "\U0001F000-\U0001F3FA\U0001F400-\U0001FAFF"  # symbols & pictographs, emoticons, transport...
    "\u2600-\u27BF"  # misc symbols, dingbats (☀ ☹ ☺ ✈ ❤ ✔ ✨)
    "\u2B00-\u2BFF"  # arrows, stars (⭐)
    "\u2190-\u21FF\u2300-\u23FF"  # arrows, technical (⌛ ⏰)
    "\u3030\u303D\u3297\u3299\u00A9\u00AE\u203C\u2049\u2122\u2139"
)
_EMOJI_DROP = "\U0001F3FB-\U0001F3FF\u200D\uFE0E\uFE0F\u20E3"

_URL = r"(?:https?://|www\.)[^\s<>\"]+"
_MENTION = r"@\w+"
_HASHTAG = r"\#\w+"
# Emoticons must stand alone (no word character on either side), so "12:30" is not ":3".
_EMOTICON = (
    r"(?<![\w:;=])(?:"
    r"[<>]?[:;=][\-o\*'^]?[\)\]\(\[dDpPoO/\\\|\*3\}\{@sSxX$]+"
    r"|[\)\]\(\[][\-o\*'^]?[:;=]"
    r"|</?3+"
    r"|\^[_\-.]?\^"
    r"|-_+-"
    r")(?!\w)"
)
_WORD = r"\w+(?:['’]\w+)*"
_EMOJI = f"[{_EMOJI_CLASS}]"
_DROP = f"[{_EMOJI_DROP}]+"
_PUNCT = r"[!?¡¿]+|\.{2,}|…|[.,;:]"

_TOKEN_RE = re.compile(
    "|".join((_URL, _MENTION, _HASHTAG, _EMOTICON, _WORD, _EMOJI, _DROP, _PUNCT)), re.UNICODE
)
# French elided article/pronoun as a piece of its own ("l'" in "l'avion"), so that the batch
# tokenizer never needs to split a piece in two (English "don't" starts with no elision prefix).
_ELIDED = r"(?<!\w)(?i:qu|jusqu|lorsqu|puisqu|presqu|quoiqu|[ldjmnstc])'(?=\w)"
_PIECE_RE = re.compile(
    "|".join((_URL, _MENTION, _HASHTAG, _EMOTICON, _ELIDED, _WORD, _EMOJI, _DROP, _PUNCT)),
    re.UNICODE,
)
_URL_RE = re.compile(_URL)
_MENTION_RE = re.compile(_MENTION)
_SQUEEZE_RE = re.compile(r"(.)\1{2,}", re.DOTALL)
_ELISION_RE = re.compile(r"^(?:qu|jusqu|lorsqu|puisqu|presqu|quoiqu|[ldjmnstc])'", re.IGNORECASE)
_DROP_RE = re.compile(_DROP)
_EMOJI_RE = re.compile(_EMOJI)

#: Words that open a negation scope (EN and FR). "n'" covers "n'est", "n'ai", ...
NEGATORS = frozenset(
    """
    not no never nobody nothing nowhere neither nor none cannot cant dont doesnt didnt isnt
    arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt aint without
    ne n' pas jamais rien aucun aucune personne nullement guère sans ni
    """.split()
)
#: Tokens that end a negation scope.
CLAUSE_END = frozenset(
    [".", ",", ";", ":", "!", "?", "...", "<url>", "but", "mais", "however", "cependant", "pourtant"]
)


def normalize(text: str) -> str:
    """Decode HTML entities and unify apostrophes; case and content are kept.

    >>> normalize("Fish &amp; chips &gt; all. C’est top")
    "Fish & chips > all. C'est top"
    """
    if "&" in text:
        text = html.unescape(text)
    if "’" in text:
        text = text.replace("’", "'")
    return text


def squeeze(word: str) -> str:
    """Squeeze characters repeated three times or more down to two.

    >>> squeeze("noooooo"), squeeze("cool"), squeeze("!!!!")
    ('noo', 'cool', '!!')
    """
    return _SQUEEZE_RE.sub(r"\1\1", word)


def is_emoji(token: str) -> bool:
    """True when ``token`` is a single pictographic emoji.

    >>> is_emoji("😡"), is_emoji(":("), is_emoji("a")
    (True, False, False)
    """
    return len(token) == 1 and _EMOJI_RE.match(token) is not None


def raw_tokens(text: str) -> list[str]:
    """Regex pieces of an already normalised, lower-cased text (no per-token clean-up).

    This is the hot-path primitive: callers that cache per distinct piece (the sentiment
    featuriser does) call :func:`clean_token` only once per distinct piece.

    >>> raw_tokens("c'est sooo bien!!! :) http://x.fr/a")
    ["c'est", 'sooo', 'bien', '!!!', ':)', 'http://x.fr/a']
    """
    return _TOKEN_RE.findall(text)


def pieces(text: str) -> list[str]:
    """Raw regex pieces of ``text`` (a tweet or one whitespace-delimited chunk of it), case kept.

    The text is normalised (:func:`normalize`), links are canonicalised to ``"http://u"`` and
    @handles to ``"@u"`` (callers cache per piece: unique strings would flood their caches), and
    French elisions are pieces of their own, so :func:`clean_token` maps each piece to at most
    one token. Splitting a tweet on whitespace first and calling this per chunk gives the same
    pieces (the sentiment featuriser caches per chunk).

    >>> pieces("C'est GÉNIAL @Acme!! voir https://t.co/x 😍")
    ["C'", 'est', 'GÉNIAL', '@u', '!!', 'voir', 'http://u', '😍']
    """
    text = normalize(text)
    if "/" in text or "www." in text:
        text = _URL_RE.sub("http://u", text)
    if "@" in text:
        text = _MENTION_RE.sub("@u", text)
    return _PIECE_RE.findall(text)


_ACCENTS = str.maketrans("àâäáãåçéèêëíìîïñóòôöõúùûüýÿœæ", "aaaaaaceeeeiiiinooooouuuuyyoa")


def strip_accents(word: str) -> str:
    """Latin accents removed (``"génial"`` -> ``"genial"``), for lexicon look-ups of tweets
    typed without accents.

    >>> strip_accents("déçue, très à l'écoute")
    "decue, tres a l'ecoute"
    """
    return word.translate(_ACCENTS)


def clean_token(piece: str) -> tuple[str, ...]:
    """Map one raw regex piece to zero, one or two final tokens.

    >>> clean_token("n'est"), clean_token("sooooo"), clean_token("https://t.co/a"), clean_token("\ufe0f")
    (("n'", 'est'), ('soo',), ('<url>',), ())
    >>> clean_token("2015"), clean_token("!!!!"), clean_token("#NotHappy")
    (('<num>',), ('!!',), ('#nothappy',))
    """
    c = piece[0]
    if c == "h" or c == "w":
        if piece.startswith(("http://", "https://", "www.")):
            return ("<url>",)
    elif c == "@" or c == "#":
        return (piece.lower(),)
    if _DROP_RE.fullmatch(piece):
        return ()
    if piece.isdigit():
        return ("<num>",)
    w = piece.lower()
    if len(w) > 2:
        w = _SQUEEZE_RE.sub(r"\1\1", w)
    if "'" in w:
        m = _ELISION_RE.match(w)
        if m is not None and m.end() < len(w):
            return (w[: m.end()], w[m.end() :])
    if w == "…":
        return ("...",)
    if w[0] in "!?¡¿" and len(w) > 1:
        # keep the shape, not the length: "!", "!!", "?", "??", "!?"
        has_q, has_x = "?" in w or "¿" in w, "!" in w or "¡" in w
        return ("!?",) if has_q and has_x else (("??",) if has_q else ("!!",))
    if w[0] == "." and len(w) > 1:
        return ("...",)
    return (w,)


@lru_cache(maxsize=1 << 16)
def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """Tokens of one whitespace-delimited chunk of a tweet (cached).

    Tweets are split on whitespace first; every piece the tokenizer recognises (links,
    entities, emoticons, hashtags) is whitespace-free, so tokenising chunk by chunk gives the same
    tokens as tokenising the whole text, and lets hot paths cache per distinct chunk (chunk
    frequencies are Zipfian: most lookups hit).

    >>> chunk_tokens("n’est"), chunk_tokens("&lt;3"), chunk_tokens("delays!!!")
    (("n'", 'est'), ('<3',), ('delays', '!!'))
    """
    out: list[str] = []
    for piece in _TOKEN_RE.findall(normalize(chunk)):
        out.extend(clean_token(piece))
    return tuple(out)


def tokenize(text: str) -> list[str]:
    """Normalise and tokenise a tweet into the token forms described in the module docstring.

    >>> tokenize("I don't like it, NOT good")
    ['i', "don't", 'like', 'it', ',', 'not', 'good']
    >>> tokenize("👍🏽👍🏽 j'adore")
    ['👍', '👍', "j'", 'adore']
    """
    out: list[str] = []
    for chunk in text.split():
        out.extend(chunk_tokens(chunk))
    return out


def negation_scope(tokens: list[str], width: int = 3) -> list[bool]:
    """Flag tokens under a negation: up to ``width`` tokens after a negator, stopping at
    punctuation, a link or a contrastive conjunction ("but", "mais").

    English contractions ending in "n't" count as negators, as does French "ne"/"n'".

    >>> toks = tokenize("This is not good. Ce n'est pas bon, but fine")
    >>> [t for t, n in zip(toks, negation_scope(toks)) if n]
    ['good', 'est', 'pas', 'bon']
    """
    flags = [False] * len(tokens)
    left = 0
    for i, tok in enumerate(tokens):
        if tok in CLAUSE_END:
            left = 0
        elif is_negator(tok):
            # "ne ... pas": a second negator inside a scope extends it instead of cancelling.
            if left:
                flags[i] = True
            left = width
        elif left:
            flags[i] = True
            left -= 1
    return flags


def is_negator(token: str) -> bool:
    """True for negation words in EN/FR, including any "n't" contraction.

    >>> is_negator("isn't"), is_negator("pas"), is_negator("n'"), is_negator("nice")
    (True, True, True, False)
    """
    return token in NEGATORS or token.endswith("n't")


@dataclass(frozen=True, slots=True)
class TweetText:
    """Everything the pipeline extracts from one tweet's text.

    Attributes
    ----------
    tokens
        Normalised tokens in order (see :func:`tokenize`).
    words
        Word tokens only (no hashtags, mentions, links, emojis or punctuation).
    hashtags, mentions
        Lower-cased, without the leading ``#`` / ``@``, in order of appearance.
    urls
        Links as written (HTML entities decoded).
    domains
        Lower-cased host of each link, ``www.`` removed.
    emojis
        Pictographic emojis in order (modifiers dropped).
    """

    tokens: tuple[str, ...]
    words: tuple[str, ...]
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    urls: tuple[str, ...]
    domains: tuple[str, ...]
    emojis: tuple[str, ...]


def _domain(url: str) -> str:
    if url.startswith("www."):
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host[4:] if host.startswith("www.") else host


def analyze(text: str) -> TweetText:
    """Full structured view of a tweet, for trends and raid detection.

    >>> t = analyze("RT @Brand: Nouveau #Produit 🚀🚀 https://www.Example.com/p?id=1 &amp; go")
    >>> t.mentions, t.hashtags, t.domains, t.emojis
    (('brand',), ('produit',), ('example.com',), ('🚀', '🚀'))
    >>> t.words
    ('rt', 'nouveau', 'go')
    """
    tokens: list[str] = []
    words: list[str] = []
    hashtags: list[str] = []
    mentions: list[str] = []
    urls: list[str] = []
    emojis: list[str] = []
    for piece in _TOKEN_RE.findall(normalize(text)):
        toks = clean_token(piece)
        if not toks:
            continue
        first = toks[0]
        if first == "<url>":
            urls.append(piece)
        elif first[0] == "#" and len(first) > 1:
            hashtags.append(first[1:])
        elif first[0] == "@" and len(first) > 1:
            mentions.append(first[1:])
        elif len(first) == 1 and _EMOJI_RE.match(first):
            emojis.append(first)
        elif first[0].isalnum() or first == "<num>":
            words.extend(toks)
        tokens.extend(toks)
    return TweetText(
        tokens=tuple(tokens),
        words=tuple(words),
        hashtags=tuple(hashtags),
        mentions=tuple(mentions),
        urls=tuple(urls),
        domains=tuple(_domain(u) for u in urls),
        emojis=tuple(emojis),
    )
