"""Cheap language identification for tweets: ``"en"``, ``"fr"`` or ``"und"``.

Scoring is a vote of very frequent function words (and a few tweet words such as "thanks",
"merci", "lol") over seven Latin-script languages, plus French diacritics as a tie-breaker.
Texts mostly written in another script (Cyrillic, Arabic, CJK, ...) and texts whose best vote is
another language (es, de, it, pt, nl) are ``"und"``: the project scores EN and FR only, and
``"und"`` tells callers explicitly that a text was not scored rather than scoring it as English.

A text with no linguistic evidence at all (emoji only, a bare link, "@brand !!!") returns the
``default`` argument (``"und"`` unless the caller knows better, e.g. the stream's main language).

About 5 µs for a tweet; no model file, no download.

>>> detect("@united thanks for the help, the flight was great")
'en'
>>> detect("Franchement le service client est nul, je suis déçu")
'fr'
>>> detect("Muchas gracias por todo, el vuelo fue muy bueno")
'und'
>>> detect("Спасибо за отличный сервис"), detect("😍😍"), detect("😍😍", default="en")
('und', 'und', 'en')
"""

from __future__ import annotations

import re

__all__ = ["detect", "resolve", "SUPPORTED", "UNDETERMINED"]

SUPPORTED = ("en", "fr")
UNDETERMINED = "und"

_WORDS: dict[str, str] = {
    "en": """the a an and or but of to in on at for with from by is are was were be been am it
        this that these those i you he she we they my your our their me him her us them not no
        what when where why how who which if so just do does did don't can't i'm it's have has
        had will would could should there here about all get got out up thanks thank please
        lol today now still again very really good great bad love hate worst best never ever""",
    "fr": """le la les un une des du de et ou mais est sont était être avoir ai as a ont avez
        je tu il elle nous vous ils elles on ce cet cette ces mon ma mes ton ta tes son sa ses
        notre votre leur leurs pas ne plus rien jamais que qui quoi quand comment pourquoi où
        avec pour sans dans sur sous chez par au aux très trop bien merci aussi encore déjà
        c'est n' l' d' j' qu' c' s' m' t' ça cela mdr vraiment toujours fait faire suis""",
    "es": """el la los las una unos unas y o pero es son está están estoy fue ser del al lo
        que por para con sin muy más gracias hola pero como cuando donde porque también yo
        tú usted nosotros ellos mi mis su sus este esta estos estas eso hay todo nada""",
    "de": """der die das ein eine einen einem und oder aber ist sind war waren sein nicht kein
        keine ich du er sie wir ihr mein dein sein mit für von zu im auf aus bei nach wie was
        wer warum danke bitte sehr auch noch schon nur heute""",
    "it": """il lo gli una uno e o ma è sono era essere non che chi di da con per su tra fra
        del della dei delle nel nella io tu lui lei noi voi loro mio mia grazie molto anche
        perché come quando dove questo questa sempre ancora""",
    "pt": """o os as um uma uns umas e ou mas é são era ser não que quem de do da dos das em
        no na nos nas com por para sem eu você ele ela nós eles meu minha obrigado obrigada
        muito também porque como quando onde isso isto""",
    "nl": """de het een en of maar is zijn was waren niet geen ik jij je hij zij wij jullie
        mijn met voor van naar op uit bij hoe wat wie waarom dank bedankt alsjeblieft heel
        ook nog al alleen vandaag""",
}
_VOTES: dict[str, tuple[str, ...]] = {}
for _lang, _ws in _WORDS.items():
    for _w in _ws.split():
        _VOTES[_w] = _VOTES.get(_w, ()) + (_lang,)
del _lang, _ws, _w

_STRIP_RE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+")
_WORD_RE = re.compile(r"[^\W\d_]+(?:')?", re.UNICODE)
_FR_MARKS_RE = re.compile("[éèêàùçœâîôûëï]")
# letters of other scripts: Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai, Georgian,
# Hangul, kana, CJK
_OTHER_SCRIPT_RE = re.compile(
    "[\u0370-\u052F\u0530-\u08FF\u0900-\u0DFF\u0E00-\u10FF\u1100-\u11FF"
    "\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF]"
)


def _vote(words: list[str]) -> dict[str, float]:
    score: dict[str, float] = {}
    for w in words:
        langs = _VOTES.get(w)
        if langs:
            share = 1.0 / len(langs)
            for lang in langs:
                score[lang] = score.get(lang, 0.0) + share
    return score


def detect(text: str, default: str = UNDETERMINED) -> str:
    """Guess the language of ``text``: ``"en"``, ``"fr"``, or ``"und"``.

    Parameters
    ----------
    text
        Raw tweet text (mentions, hashtags and links are ignored).
    default
        Returned when the text carries no linguistic evidence at all.

    >>> detect("Je n'aime pas ça"), detect("I do not like it"), detect("Das ist nicht gut")
    ('fr', 'en', 'und')
    """
    body = _STRIP_RE.sub(" ", text.replace("’", "'")).lower()
    words = _WORD_RE.findall(body)
    if not words:
        return default
    other = len(_OTHER_SCRIPT_RE.findall(body))
    if other and 2 * other >= sum(map(len, words)):
        return UNDETERMINED
    score = _vote(words)
    fr_marks = len(_FR_MARKS_RE.findall(body))
    if fr_marks:
        score["fr"] = score.get("fr", 0.0) + 0.5 * min(fr_marks, 4)
    if not score:
        return default
    best = max(score, key=score.__getitem__)
    top = score[best]
    if best not in SUPPORTED:
        # a supported language close behind still wins: EN/FR tweets borrow foreign words
        alt = max(SUPPORTED, key=lambda lang: score.get(lang, 0.0))
        if score.get(alt, 0.0) >= top - 0.5 and score.get(alt, 0.0) > 0:
            return alt
        return UNDETERMINED
    if best == "en" and score.get("fr", 0.0) == top:
        return "fr" if fr_marks else "en"
    return best


# Twitter/X ``lang`` values that mean "no language decided" (undetermined, media only, links
# only, hashtags only, ...): for them the text is examined.
_NO_LANG = frozenset(["", "und", "zxx", "qme", "qam", "qht", "qst", "qct", "qlk"])


def resolve(lang: str | None, text: str, default: str = UNDETERMINED) -> str:
    """Language to score ``text`` in: the mention's ``lang`` when it names one, else :func:`detect`.

    Region subtags are dropped ("fr-CA" -> "fr"); any language other than EN/FR is ``"und"``;
    Twitter's no-language codes ("und", "qme", "zxx", ...) and ``None`` fall back to detection.

    >>> resolve("fr-CA", "whatever"), resolve("es", "good"), resolve(None, "so good, thanks")
    ('fr', 'und', 'en')
    >>> resolve("und", "trop bien merci"), resolve("qme", "🔥", default="en")
    ('fr', 'en')
    """
    if lang:
        code = lang.lower().split("-", 1)[0].split("_", 1)[0]
        if code in SUPPORTED:
            return code
        if code not in _NO_LANG:
            return UNDETERMINED
    return detect(text, default)
