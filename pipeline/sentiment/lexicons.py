"""Build-time extraction of permissively licensed sentiment lexicons from their PyPI archives.

Only :mod:`pipeline.sentiment.build` uses this: the extracted tables are written into the shipped
model artifact, so nothing is read from these packages (or downloaded) at run time.

Sources (fetch with ``pip download --no-deps -d DIR vaderSentiment==3.3.2
vaderSentiment-fr==1.3.4 textblob-fr==0.2.0``):

* ``vaderSentiment`` 3.3.2, MIT, (c) 2016 C.J. Hutto: ``vader_lexicon.txt`` (EN words and
  emoticons, valence -4..4) and ``emoji_utf8_lexicon.txt`` (emoji -> English description; an
  emoji's valence is the summed VADER valence of its description words).
* ``vaderSentiment-fr`` 1.3.4, MIT (licence text (c) 2016 C.J. Hutto; French lexicon by
  7LieuesTechnologies): ``fr_lexicon.txt`` (hand-translated VADER lexicon, ``word->valence``).
* ``textblob-fr`` 0.2.0, MIT (c) 2013 Steven Loria; its ``fr-sentiment.xml`` adjective lexicon is
  by Tom De Smedt, Walter Daelemans (Pattern), licence attribute "PDDL" (public domain). Polarity
  -1..1 is scaled x2.5 to the VADER range and used for words the French VADER lacks.
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

__all__ = ["load_lexicons", "SOURCES", "EMOJI_EXTRA", "COMPLAINT_EN", "COMPLAINT_FR"]

#: Hand-set valences (this project's own) for frequent tweet emojis whose VADER description words
#: carry no valence ("pouting face", "thumbs up") or carry a misleading one; they win over VADER.
EMOJI_EXTRA = {
    "😡": -2.5, "😠": -2.3, "🤬": -3.0, "👎": -2.0, "😤": -1.5, "😒": -1.5, "🙄": -1.5,
    "😞": -2.0, "😔": -1.5, "😢": -2.0, "😩": -2.0, "😫": -2.0, "💩": -2.0, "🤮": -2.5,
    "🤢": -2.0, "😑": -1.0, "😐": -0.5, "💔": -2.5, "😱": -1.5, "🤦": -1.5, "😬": -1.0,
    "😕": -1.2, "☹": -2.0, "😖": -1.8, "😣": -1.5, "😓": -1.2, "😪": -1.0, "😴": -0.5,
    "👍": 2.0, "👌": 1.5, "🙏": 1.2, "👏": 2.0, "🙌": 2.0, "💪": 1.5, "🎉": 2.5, "✨": 1.0,
    "🔥": 1.5, "💯": 2.0, "😊": 2.5, "🙂": 1.5, "😃": 2.5, "😀": 2.5, "😁": 2.5, "😉": 1.5,
    "😘": 2.5, "🥰": 3.0, "😎": 2.0, "🤗": 2.0, "💙": 2.5, "💚": 2.5, "💜": 2.5, "💛": 2.5,
    "🧡": 2.5, "❤": 3.0, "♥": 2.5, "😍": 3.2, "☺": 2.0, "😄": 2.5, "😆": 2.0, "🤩": 3.0,
    "👋": 0.5, "✌": 1.0, "⭐": 1.5, "🌟": 1.5, "🏆": 2.0, "🥳": 2.5, "😂": 1.2, "🤣": 1.5,
}

SOURCES = {
    "vaderSentiment-3.3.2-py2.py3-none-any.whl": "MIT, (c) 2016 C.J. Hutto",
    "vaderSentiment_fr-1.3.4.tar.gz": "MIT, (c) 2016 C.J. Hutto; French lexicon 7LieuesTechnologies",
    "textblob_fr-0.2.0-py2.py3-none-any.whl": "MIT (c) 2013 Steven Loria; fr-sentiment.xml PDDL (De Smedt, Daelemans)",
}


#: Customer-service complaint vocabulary (this project's own, EN and FR): words that are neutral in
#: general-purpose lexicons but signal a complaint when addressed to a brand. Moderate valences.
COMPLAINT_EN = {
    "delayed": -1.2, "delay": -1.0, "delays": -1.2, "cancelled": -1.5, "canceled": -1.5,
    "cancellation": -1.2, "stuck": -1.5, "waiting": -1.0, "waited": -1.2, "wait": -0.6,
    "hold": -0.6, "refund": -1.0, "lost": -1.3, "broken": -1.6, "rude": -2.0, "unacceptable": -2.5,
    "useless": -2.0, "incompetent": -2.5, "ridiculous": -2.0, "worst": -3.0, "never": -0.5,
    "still": -0.4, "again": -0.4, "hours": -0.6, "hrs": -0.6, "outage": -1.5, "down": -0.6,
    "crashed": -1.5, "crash": -1.2, "crashing": -1.5, "crashes": -1.5, "freezes": -1.2,
    "freezing": -0.8, "cancel": -0.8, "cancelling": -1.2, "canceling": -1.2, "delaying": -1.2,
    "unreachable": -1.8, "worse": -2.1, "joke": -0.8, "smh": -1.5, "ugh": -1.8, "glitch": -1.2, "bug": -1.0, "charged": -0.8, "overcharged": -2.0,
    "scam": -2.5, "fix": -0.5, "fail": -2.0, "failed": -1.8, "missed": -1.0, "missing": -1.0,
    "nobody": -0.8, "unhelpful": -2.0, "disappointed": -2.2, "disappointing": -2.2, "terrible": -2.5,
    "horrible": -2.5, "awful": -2.5, "sucks": -2.0, "fuming": -2.5, "frustrated": -2.0,
}
COMPLAINT_FR = {
    "retard": -1.2, "retards": -1.2, "annulé": -1.5, "annulée": -1.5, "annulation": -1.2,
    "bloqué": -1.5, "bloquée": -1.5, "attente": -1.0, "attendre": -0.6, "remboursement": -1.0,
    "rembourser": -0.8, "perdu": -1.3, "perdue": -1.3, "cassé": -1.6, "panne": -1.5, "bug": -1.0,
    "plantage": -1.5, "planté": -1.5, "plante": -1.2, "plantent": -1.2, "bugue": -1.2,
    "beugue": -1.2, "retardé": -1.2, "annule": -1.0, "pourri": -2.2, "pourrie": -2.2, "arnaque": -2.5, "escroquerie": -2.5, "honteux": -2.5,
    "inadmissible": -2.5, "inacceptable": -2.5, "lamentable": -2.5, "nul": -2.0, "nulle": -2.0,
    "pire": -2.5, "scandaleux": -2.5, "scandale": -2.0, "incompétent": -2.5, "incompétents": -2.5,
    "déçu": -2.2, "déçue": -2.2, "décevant": -2.2, "marre": -2.0, "galère": -2.0, "toujours": -0.3,
    "encore": -0.3, "heures": -0.6, "jamais": -0.5, "injoignable": -2.0, "honte": -2.2,
    "catastrophique": -3.0, "catastrophe": -3.0, "horrible": -2.5, "inutile": -1.8,
}


def _read_member(archive: Path, suffix: str) -> str:
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            name = next(n for n in z.namelist() if n.endswith(suffix))
            return z.read(name).decode("utf-8")
    with tarfile.open(archive) as t:
        member = next(m for m in t.getmembers() if m.name.endswith(suffix))
        f = t.extractfile(member)
        assert f is not None
        return io.TextIOWrapper(f, encoding="utf-8").read()


def _find(folder: Path, prefix: str) -> Path:
    hits = sorted(p for p in folder.iterdir() if p.name.lower().startswith(prefix.lower()))
    if not hits:
        raise FileNotFoundError(f"no {prefix}* archive in {folder}")
    return hits[-1]


def _vader_en(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            out.setdefault(parts[0].strip().lower(), float(parts[1]))
    return out


def _emoji(text: str, en: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or len(parts[0]) != 1:
            continue  # keep single code point pictographs (our tokenizer's emoji tokens)
        words = re.findall(r"[a-z]+", parts[1].lower())
        v = sum(en.get(w, 0.0) for w in words)
        if v:
            out[parts[0]] = round(max(-3.5, min(3.5, v)), 3)
    return out


def _vader_fr(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if "->" not in line:
            continue
        word, _, val = line.rpartition("->")
        try:
            out.setdefault(word.strip().lower(), float(val))
        except ValueError:
            continue
    return out


def _pattern_fr(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    root = ElementTree.fromstring(text)
    acc: dict[str, list[float]] = {}
    for w in root.iter("word"):
        form = (w.get("form") or "").lower()
        pol = float(w.get("polarity") or 0.0)
        if form and " " not in form and pol:
            acc.setdefault(form, []).append(pol)
    for form, pols in acc.items():
        v = 2.5 * sum(pols) / len(pols)
        if abs(v) >= 0.25:
            out[form] = round(v, 3)
    return out


def load_lexicons(folder: str | Path) -> dict[str, dict[str, float]]:
    """Read the three archives in ``folder`` and return ``{"en": {...}, "fr": {...}}``.

    Emoji valences (from VADER's emoji descriptions) are added to both tables; French adds the
    Pattern adjectives that the French VADER lacks. EN entries are used in FR only for emoticons.
    """
    folder = Path(folder)
    en = _vader_en(_read_member(_find(folder, "vaderSentiment-"), "vader_lexicon.txt"))
    emoji = _emoji(_read_member(_find(folder, "vaderSentiment-"), "emoji_utf8_lexicon.txt"), en)
    fr = _vader_fr(_read_member(_find(folder, "vaderSentiment_fr-"), "fr_lexicon.txt"))
    for form, v in _pattern_fr(_read_member(_find(folder, "textblob_fr-"), "fr-sentiment.xml")).items():
        fr.setdefault(form, v)
    emoticons = {k: v for k, v in en.items() if not re.search(r"[a-zà-ÿ]{2,}", k)}
    for k, v in COMPLAINT_EN.items():
        en[k] = min(en.get(k, 0.0), v)
    for k, v in COMPLAINT_FR.items():
        fr[k] = min(fr.get(k, 0.0), v)
    emoji.update(EMOJI_EXTRA)
    for table in (en, fr):
        for k, v in emoji.items():
            table[k] = v
    for k, v in emoticons.items():
        fr.setdefault(k, v)
    return {"en": en, "fr": fr}
