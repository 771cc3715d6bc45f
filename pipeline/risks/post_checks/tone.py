"""Tone breaks against the brand voice: insults, slurs, shouting, punctuation, register.

Severity policy: everything warns, except **slurs** and **insults aimed at a person**
("you idiot", "vous êtes des abrutis", "ta gueule"), which block: a brand account insulting a
customer is a crisis by itself. Word lists are small, matched on folded text with word
boundaries (no Scunthorpe: "classic", "Scunthorpe", "con artist", "en retard" pass).

Examples
--------
>>> t = ToneChecks("formal")
>>> sorted(r.check for r in t.run(PostText.build("Merci pour ton message !!!", "fr")))
['tone.familiar', 'tone.punctuation']
>>> [r.check for r in t.run(PostText.build("Votre train est en retard, la SNCF s'excuse.", "fr"))]
[]
"""

from __future__ import annotations

import re

from ._base import PhraseSet, PostText, Reason, negated

_W0, _W1 = r"(?<![\w])", r"(?![\w])"


def _forms(spec: str) -> list[str]:
    """``"idiot(s) con(ne)(s)"`` -> every form, optional groups expanded.

    >>> _forms("con(ne)(s)")
    ['con', 'conne', 'connes', 'cons']
    """
    out: list[str] = []
    for item in spec.split(","):
        item = item.strip()
        forms = [""]
        for piece in re.split(r"(\([^)]*\))", item):
            if piece.startswith("("):
                forms = [f + x for f in forms for x in ("", piece[1:-1])]
            elif piece:
                forms = [f + piece for f in forms]
        out.extend(sorted(set(forms)))
    return [f for f in out if f]


INSULTS_EN = _forms(
    "idiot(s), moron(s), imbecile(s), stupid, dumbass, dumbasses, loser(s), jerk(s), asshole(s), "
    "arsehole(s), bastard(s), bitch, bitches, scumbag(s), dickhead(s), douchebag(s), pathetic, "
    "cretin(s)"
)
PROFANITY_EN = _forms(
    "fuck, fucking, fucked, f*ck, f*cking, shit, shitty, bullshit, piece of shit, crap, crappy"
)
INSULTS_FR = _forms(
    "idiot(e)(s), imbecile(s), cretin(e)(s), debile(s), abruti(e)(s), connard(s), connasse(s), "
    "bouffon(s), salaud(s), salope(s), encule(e)(s), minable(s), tocard(s), blaireau, blaireaux, "
    "trou du cul, gros con(s), pauvre con(s), pauvres cons"
)
PROFANITY_FR = _forms(
    "putain, merde, bordel, fait chier, faire chier, chiant(e)(s), on s'en fout, je m'en fous"
)
SLURS = _forms(
    "nigger(s), nigga(s), faggot(s), tranny, trannies, kike(s), retarded, pede(s), bougnoule(s), "
    "youpin(s), sale arabe(s), sale juif(s), sale juive(s), sale noir(e)(s), sale pd, "
    "sale gitan(s), sale chinois"
)
_INSULT_WORDS = "|".join(re.escape(w) for w in sorted(INSULTS_EN + INSULTS_FR, key=len, reverse=True))
_TARGET_EN = (
    _W0 + r"(?:you(?:'re| are| r)?|ur|bunch of)\s+(?:(?:such|an?|real|complete|total|absolute|fucking|so|"
    r"all|just|bunch of|the|biggest|little)\s+)*(?:" + _INSULT_WORDS + r")" + _W1
    + r"|" + _W0 + r"(?:shut up|stfu|fuck (?:you|off)|f\*+ck (?:you|off)|screw you|go to hell|"
    r"piss off)" + _W1
)
_TARGET_FR = (
    _W0 + r"(?:t'es|t es|tu es|vous etes|espece d'|espece de|bande d'|bande de)\s*(?:(?:un|une|des|"
    r"vraiment|completement|totalement|qu'un|qu'une|qu'des|trop|grand|gros|grosse|sale|"
    r"belle)\s+)*(?:" + _INSULT_WORDS + r"|con|cons|conne|connes)" + _W1
    + r"|" + _W0 + r"(?:ta gueule|fermez?[- ]la|va te faire|allez vous faire|casse[- ]toi|"
    r"nique ta|ntm)" + _W1
)
_TARGET_GATE = frozenset(
    {w.split()[0] for w in INSULTS_EN + INSULTS_FR}
    | set("con cons conne connes shut stfu fuck f screw go piss gueule ferme fermez va allez "
          "casse nique ntm".split())
)
_TUTOIEMENT = re.compile(
    r"(?<![\w'])(?:tu|toi|te|ta|tes|tien|tienne)(?![\w'])|(?<![\w'])t'(?=[a-z])"
    r"|(?<!le )(?<!un )(?<!du )(?<!au )(?<!ce )(?<!de )(?<![\w'])ton(?![\w'])"
    r"|(?<=\w)-toi(?![\w'])"
)
_TUTOIEMENT_GATE = frozenset("tu toi te ta tes tien tienne ton t".split())
SLANG_FR = _forms(
    "mdr, ptdr, lol, wesh, wsh, tkt, jpp, osef, stp, kiffe(r), kiffez, chelou, c'est ouf, ouf, "
    "meuf, mec, wtf, omg"
)
SLANG_EN = _forms(
    "lol, lmao, rofl, omg, wtf, idk, tbh, ngl, gonna, wanna, gotta, ya, y'all, yall, dude, bro, "
    "thx, pls, plz, kinda, ain't, bestie, yolo"
)
TOO_FORMAL = [
    "madame, monsieur", "madame monsieur", "veuillez agreer", "nous vous prions d'agreer",
    "je vous prie d'agreer", "salutations distinguees", "sentiments distingues",
    "dear sir or madam", "dear sir/madam", "yours faithfully", "please be advised", "we hereby",
    "hereinafter", "pursuant to", "kindly be informed", "we regret to inform you",
    "to whom it may concern",
]
_PUNCT_RE = re.compile(r"[!?\u203c\u2049](?:[ \u00a0\u202f]?[!?\u203c\u2049]){2,}")
_EMOJI_RE = re.compile(r"[\U0001F000-\U0001F3FA\U0001F400-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")
_EMOJI_GAP = frozenset(" \u200d\ufe0f\U0001F3FB\U0001F3FC\U0001F3FD\U0001F3FE\U0001F3FF")
_TOKEN_RE = re.compile(r"\S+")
_HAS_DIGIT = re.compile(r"\d")
_CAPS_RE = re.compile(r"[A-ZÀ-ÖØ-ÞŒ]{2,}")
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # _CAPS_RE's ASCII capitals
ACRONYMS = frozenset(
    """SNCF RATP RER TGV TER RGPD GDPR USA UK EU UE CEO CTO CFO FAQ SAV PDF TV HD SMS API APP
    CNIL AMF PSG TTC HT CB RIB IBAN PIN OK VIP DM RT FR EN NB PS ETA ASAP HQ IT AI IA PME TPE CAF
    URSSAF EDF SFR BNP LCL PC USB NASA NHS BBC CNN ONU UN NATO OTAN BCE ECB PIB GDP CAC JO
    NBA NFL UEFA FIFA DIY FYI ESG RSE CSR HR RH DRH SEO SUV LED GPS WIFI WI-FI ADSL FTTH
    ATM ID QR SIM ETF PEA PER LEP LDDS CSS HTML JSON""".split()
)
# Voice -> (emoji total, emoji run) thresholds for tone.emoji_flood.
EMOJI_LIMITS = {"formal": (3, 3), "neutral": (8, 5), "casual": (10, 6)}


class ToneChecks:
    """Tone checks for one brand voice (``formal``, ``neutral`` or ``casual``)."""

    def __init__(self, voice: str = "neutral"):
        self.voice = voice if voice in EMOJI_LIMITS else "neutral"
        self.target = {"en": re.compile(_TARGET_EN), "fr": re.compile(_TARGET_FR)}
        self.slur = PhraseSet(SLURS)
        self.insult = {
            "en": PhraseSet(INSULTS_EN + PROFANITY_EN),
            "fr": PhraseSet(INSULTS_FR + PROFANITY_FR + PROFANITY_EN),
        }
        self.slang = {"en": PhraseSet(SLANG_EN), "fr": PhraseSet(SLANG_FR)}
        self.too_formal = PhraseSet(TOO_FORMAL)
        # every word that gates a word-based check of this voice: a post with none of them
        # only needs the shouting, punctuation and emoji checks
        gates = [self.slur.triggers, _TARGET_GATE, *(ps.triggers for ps in self.insult.values())]
        if self.voice == "formal":
            gates += [_TUTOIEMENT_GATE, {"u"}, *(ps.triggers for ps in self.slang.values())]
        elif self.voice == "casual":
            gates.append(self.too_formal.triggers)
        self.word_gate = frozenset().union(*gates)

    def run(self, p: PostText) -> list[Reason]:
        """All tone reasons of the post."""
        out: list[Reason] = []
        if p.words.isdisjoint(self.word_gate):  # no word-based check can find anything
            self._shouting(p, out)
            self._punctuation(p, out)
            self._emojis(p, out)
            return out
        f = p.folded
        lang = p.lang if p.lang in ("en", "fr") else "en"
        other = "fr" if lang == "en" else "en"
        blocked: list[tuple[int, int]] = []
        for m in self.slur.finditer(p):
            if not p.in_url(*m.span()):
                out.append(Reason("tone.slur", m.span(), "slur", "block"))
                blocked.append(m.span())
        targets = () if p.words.isdisjoint(_TARGET_GATE) else (lang, other)
        for lg in targets:
            for m in self.target[lg].finditer(f):
                if not p.in_url(*m.span()) and not _overlaps(m.span(), blocked):
                    out.append(Reason("tone.insult", m.span(), "insult aimed at a person", "block"))
                    blocked.append(m.span())
        seen = set()
        for lg in (lang, other):
            for m in self.insult[lg].finditer(p):
                sp = m.span()
                if sp in seen or _overlaps(sp, blocked) or p.in_url(*sp):
                    continue
                if negated(f, sp[0], 25):
                    continue  # "you're not an idiot", "no question is stupid"
                seen.add(sp)
                out.append(Reason("tone.insult", sp,
                                  f"insult or profanity {p.text[sp[0]:sp[1]]!r}", "warn"))
        self._shouting(p, out)
        self._punctuation(p, out)
        if self.voice == "formal":
            self._familiar(p, lang, out)
        elif self.voice == "casual":
            for m in self.too_formal.finditer(p):
                out.append(Reason("tone.too_formal", m.span(),
                                  "too formal for the brand's casual voice", "warn"))
        self._emojis(p, out)
        return out

    @staticmethod
    def _punctuation(p: PostText, out: list[Reason]) -> None:
        if "!" in p.text or "?" in p.text or "\u203c" in p.text or "\u2049" in p.text:
            for m in _PUNCT_RE.finditer(p.text):
                out.append(Reason("tone.punctuation", m.span(), "excessive punctuation", "warn"))

    def _familiar(self, p: PostText, lang: str, out: list[Reason]) -> None:
        f = p.folded
        if lang == "fr" and not p.words.isdisjoint(_TUTOIEMENT_GATE):
            for m in _TUTOIEMENT.finditer(f):
                if not p.in_url(*m.span()):
                    out.append(Reason("tone.familiar", m.span(),
                                      "tutoiement in a formal voice (use vous)", "warn"))
        for m in self.slang[lang].finditer(p):
            if p.in_url(*m.span()):
                continue
            if m.group() in ("ya", "bro", "mec") and p.text[m.start()].isupper():
                continue  # names and acronyms
            out.append(Reason("tone.familiar", m.span(),
                              f"slang {p.text[m.start():m.end()]!r} in a formal voice", "warn"))
        if lang == "en" and "u" in p.words:
            for m in re.finditer(r"(?<![\w'.])u(?![\w'.])", p.text):
                out.append(Reason("tone.familiar", m.span(), "'u' for 'you' in a formal voice",
                                  "warn"))

    def _shouting(self, p: PostText, out: list[Reason]) -> None:
        text = p.text
        if text.isascii() and len(text) - len(text.encode("ascii").translate(None, _UPPER)) < 12:
            return  # fewer than 12 capitals in all: no run of them adds up to 12
        caps = [w for w in _CAPS_RE.findall(text) if w not in ACRONYMS]
        if sum(map(len, caps)) < 12:
            return
        total = upper = 0
        run_start = run_end = -1
        run_words = run_letters = 0
        runs: list[tuple[int, int]] = []
        first = last = -1
        for m in _TOKEN_RE.finditer(text):
            tok = m.group()
            if tok[0] in "#@" or _HAS_DIGIT.search(tok) or (p.urls and p.in_url(*m.span())):
                continue
            letters = [c for c in tok if c.isalpha()]
            if len(letters) < 2:
                continue
            core = "".join(letters)
            if core.upper() in ACRONYMS or tok.strip(".,;:!?()«»\"'’").upper() in ACRONYMS:
                continue
            n = len(letters)
            total += n
            if all(c.isupper() for c in letters):
                upper += n
                if first < 0:
                    first = m.start()
                last = m.end()
                if run_words == 0:
                    run_start = m.start()
                run_words += 1
                run_letters += n
                run_end = m.end()
            else:
                if run_words >= 3 and run_letters >= 12:
                    runs.append((run_start, run_end))
                run_words = run_letters = 0
        if run_words >= 3 and run_letters >= 12:
            runs.append((run_start, run_end))
        if runs:
            for s, e in runs:
                out.append(Reason("tone.shouting", (s, e), "words in capitals (shouting)", "warn"))
        elif total >= 15 and upper >= 12 and upper / total >= 0.6:
            out.append(Reason("tone.shouting", (first, last), "mostly capitals (shouting)", "warn"))

    def _emojis(self, p: PostText, out: list[Reason]) -> None:
        text = p.text
        if text.isascii():
            return
        limit_total, limit_run = EMOJI_LIMITS[self.voice]
        found = [m.start() for m in _EMOJI_RE.finditer(text)]
        if len(found) < min(limit_total, limit_run):
            return
        if len(found) >= limit_total:
            out.append(Reason("tone.emoji_flood", (found[0], found[-1] + 1),
                              f"{len(found)} emojis for a {self.voice} voice", "warn"))
            return
        run = [found[0]]
        for a in found[1:]:
            if all(c in _EMOJI_GAP for c in text[run[-1] + 1: a]):
                run.append(a)
                if len(run) >= limit_run:
                    out.append(Reason("tone.emoji_flood", (run[0], run[-1] + 1),
                                      f"run of {len(run)}+ emojis", "warn"))
                    return
            else:
                run = [a]


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in spans)
