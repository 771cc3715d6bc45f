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

__all__ = ["load_lexicons", "SOURCES", "EMOJI_EXTRA", "COMPLAINT_EN", "COMPLAINT_FR", "COMMON_FR"]

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


#: Everyday French tweet vocabulary (this project's own), VADER scale. The French VADER lexicon is
#: a word-by-word translation whose first-listed English sense wins, which leaves frequent French
#: words far too weak or wrong ("génial" 0.6, "adore" 0.8, "parfait" 0.5, "nouveau" -0.2, "trop"
#: negative); these values *replace* the packaged ones. Intensifiers ("trop", "très", "grave")
#: carry no valence: they scale the next word's (see ``features.INTENSIFIERS``).
COMMON_FR = {
    # positive
    "génial": 2.8, "géniale": 2.8, "géniaux": 2.8, "génialissime": 3.0, "super": 2.2,
    "top": 2.0, "adore": 2.8, "adorer": 2.8, "adoré": 2.8, "adorent": 2.8, "kiffe": 2.4,
    "parfait": 2.6, "parfaite": 2.6, "parfaitement": 1.8, "excellent": 2.8, "excellente": 2.8,
    "bravo": 2.5, "merci": 1.8, "mercii": 1.8, "sympa": 2.0, "chouette": 2.0, "cool": 1.8,
    "magnifique": 2.8, "formidable": 2.8, "fantastique": 2.8, "extraordinaire": 2.6,
    "incroyable": 2.0, "impeccable": 2.5, "nickel": 2.2, "efficace": 1.8, "efficaces": 1.8,
    "agréable": 2.0, "content": 2.0, "contente": 2.0, "contents": 2.0, "ravi": 2.5,
    "ravie": 2.5, "heureux": 2.5, "heureuse": 2.5, "satisfait": 2.0, "satisfaite": 2.0,
    "fier": 2.0, "fière": 2.0, "aime": 2.2, "aimé": 2.0, "bien": 1.2, "bon": 1.5,
    "bonne": 1.5, "beau": 1.8, "belle": 1.8, "plaisir": 2.0, "réussi": 2.0, "réussie": 2.0,
    "réussite": 2.2, "félicitations": 2.6, "merveilleux": 2.8, "merveilleuse": 2.8,
    "meilleur": 2.0, "meilleure": 2.0, "rapide": 1.0, "enfin": 0.4, "bienvenue": 1.5,
    "hâte": 1.8, "love": 2.5, "bonheur": 2.8, "joie": 2.6, "espoir": 1.8, "gagné": 1.8,
    "victoire": 2.2, "positif": 1.6, "positive": 1.6, "favorable": 1.6, "solution": 1.0,
    # negative
    "nul": -2.2, "nulle": -2.2, "nuls": -2.2, "naze": -2.0, "horrible": -2.8,
    "affreux": -2.5, "mauvais": -1.8, "mauvaise": -1.8, "déception": -2.2, "dommage": -1.5,
    "problème": -1.3, "problèmes": -1.3, "merde": -2.5, "chiant": -2.0, "relou": -1.8,
    "énervé": -2.0, "énervée": -2.0, "énervant": -2.0, "insupportable": -2.5, "lent": -1.2,
    "lente": -1.2, "triste": -2.0, "colère": -2.3, "déteste": -2.8, "détester": -2.8,
    "hais": -2.8, "horreur": -2.5, "dégoûté": -2.2, "dégueulasse": -2.5, "pitoyable": -2.5,
    "ridicule": -2.0, "mal": -1.2, "bof": -1.0, "inquiet": -1.5, "inquiète": -1.5,
    "peur": -1.8, "dangereux": -2.0, "danger": -1.5, "grave": -1.2, "terrible": -2.0,
    "terribles": -2.0, "crise": -1.5, "mort": -2.0, "morts": -2.0, "menace": -1.8,
    "pollution": -1.5, "échec": -2.2, "perte": -1.5, "pénurie": -1.8, "hausse": -0.3,
    "abusé": -1.5, "abuse": -1.2, "inadmissible": -2.5, "scandaleux": -2.5,
    # neutral in tweets (the packaged tables give them a valence)
    "nouveau": 0.0, "nouvelle": 0.0, "nouveaux": 0.0, "trop": 0.0, "très": 0.0,
    "vraiment": 0.0, "tellement": 0.0, "hyper": 0.0, "vachement": 0.0, "si": 0.0,
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
    fr.update(COMMON_FR)
    for k in [k for k, v in fr.items() if v == 0.0]:
        del fr[k]
    emoji.update(EMOJI_EXTRA)
    for table in (en, fr):
        for k, v in emoji.items():
            table[k] = v
    for k, v in emoticons.items():
        fr.setdefault(k, v)
    return {"en": en, "fr": fr}
