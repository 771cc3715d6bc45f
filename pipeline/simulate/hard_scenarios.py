"""Harder scenarios: legitimate look-alikes of attacks (a detector must NOT fire) and subtler
attacks (it must work harder). Registered in :data:`pipeline.simulate.scenarios.SCENARIOS`.

======================  =====================  ==============================================
name                    kind / expect          what is injected
======================  =====================  ==============================================
lookalike_benign        impostor/no_impostor   a fan club, a parody, an employee and an
                                               unrelated shop one letter away (``acne_care``,
                                               linking to its own site), all old accounts
impostor_subtle         impostor/impostor      ``acme_help`` vs the real ``acmehelp``,
                                               ``acmе_care`` (Cyrillic е), ``acme_supp0rt``,
                                               ``acmee_official``: display names "Acme Help" …
contest                 raid/no_raid           the brand's "RT + tag 2 friends to win" post,
                                               then near-duplicate entries from many accounts,
                                               half of them young, low-follower contest hunters
viral_quote             raid/no_raid           an angry quote copied word for word by many
                                               established accounts (and a few young ones)
night_statement         hijack/no_hijack       the social team at 2 a.m. local during a real
                                               crisis: statements and replies from a phone app
                                               never used before, links to the brand's domain
client_switch           hijack/no_hijack       the team moves to a new publishing tool: every
                                               own post from then on comes from it
======================  =====================  ==============================================

Examples
--------
>>> from pipeline.simulate.scenarios import SCENARIOS
>>> sorted(k for k in SCENARIOS if SCENARIOS[k].__module__ == __name__)
['client_switch', 'contest', 'impostor_subtle', 'lookalike_benign', 'night_statement', 'viral_quote']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.simulate.authors import make_handle
from pipeline.simulate.brands import local_hour
from pipeline.simulate.records import NEG, NEU, POS, Rec
from pipeline.simulate.scenarios import DAY, Impostor, Scenario, _vary, register

BENIGN = {
    "fan": {"en": "Queued since 6am for the new @{h} store opening, who else is coming? {url}",
            "fr": "Ouverture du nouveau magasin @{h} demain, qui vient avec le club ? {url}"},
    "parody": {"en": "Acme Parody here: our prices are so low they are underground @{h}",
               "fr": "Compte parodique : chez Acme même le SAV est en promo @{h}"},
    "employee": {"en": "Proud of my team at @{h} today, new store opened! (views my own)",
                 "fr": "Fière de mon équipe chez @{h} aujourd'hui, nouveau magasin ouvert !"},
    "unrelated": {"en": "Dry winter skin? Our routine next to the @{h} store, 20% off {url}",
                  "fr": "Peau sèche en hiver ? Notre routine, à côté du magasin @{h} {url}"},
}


def _near(handle: str) -> str:
    """An unrelated real word one edit away from ``handle`` (``acme`` -> ``acne``)."""
    for a, b in (("m", "n"), ("o", "a"), ("a", "e"), ("r", "t")):
        if a in handle:
            return handle.replace(a, b, 1)
    return handle + "s"


class _Posting(Scenario):
    """Accounts that each post a template at a steady rate over the window."""

    rate_s: float = 240.0

    def posts(self, t0: float, t1: float, pick) -> list[Rec]:
        out = []
        for ts in self.poisson_times(lambda t: np.full_like(t, 1.0 / self.rate_s), t0, t1):
            out.append(pick(ts))
        return out


@register
class LookalikeBenign(_Posting):
    """Legitimate accounts that resemble the brand: fan club, parody, employee, unrelated shop.

    All are years old with an audience, none answers customers; the unrelated one links to its
    own site. An impostor alert on any of them is a false positive.
    """

    name = "lookalike_benign"
    kind = "impostor"
    expect = "no_impostor"
    default_duration_s = 90 * 60.0

    def setup(self) -> None:
        h = self.b.main["handle"]
        name = self.b.text.fixed["name"]
        near = _near(h)
        old = self.start - 3 * 365.25 * DAY
        spec = [("fan", f"{h}fanclub", f"{name} Fan Club", 4200),
                ("parody", f"not{h}", f"{name} (parody)", 15000),
                ("employee", f"julie_at_{h}"[:15], f"Julie @ {name}", 900),
                ("unrelated", f"{near}_care", f"{near.capitalize()} Care Skincare", 31000)]
        self.accounts = [(kind, self.world.new_account(hh, nm, f, False, old))
                         for kind, hh, nm, f in spec]
        self.site = f"{near}-care.com"

    def _post(self, ts: float) -> Rec:
        kind, a = self.accounts[int(self.r.random() * len(self.accounts))]
        lang = self.lang()
        url = f"https://{self.site}/p/{self.r.randrange(100, 999)}" if kind == "unrelated" else None
        text = self.b.text.fill(BENIGN[kind]["fr" if lang == "fr" else "en"], lang,
                                url=url or "")
        return Rec(ts, self.brand, "mention", text, lang, a, "Twitter for iPhone", url=url,
                   sent=POS if kind != "unrelated" else NEU, scn=self.label, answerable=False)

    def emit(self, t0: float, t1: float) -> list[Rec]:
        return self.posts(t0, t1, self._post)

    def details(self) -> dict[str, Any]:
        return {"handles": [a["handle"] for _, a in self.accounts],
                "kinds": [k for k, _ in self.accounts]}


def subtle_handles(handle: str, support: str) -> list[tuple[str, str]]:
    """Subtle look-alikes (handle, display name) of a brand with support account ``support``.

    >>> [h for h, _ in subtle_handles("acme", "acmehelp")]
    ['acme_help', 'acmе_care', 'acme_supp0rt', 'acmee_official']
    >>> subtle_handles("nordair", "nordair_help")[0]
    ('nordairhelp', 'Nordair Help')
    """
    cyr = handle.replace("e", "е", 1) if "e" in handle else handle.replace("a", "а", 1)
    typo = handle + handle[-1]
    plain = support.replace(handle, "", 1).strip("_") or "help"
    sep = "" if "_" in support else "_"  # acmehelp -> acme_help, nordair_help -> nordairhelp
    return [(f"{handle}{sep}{plain}", f"{handle.capitalize()} {plain.capitalize()}"),
            (f"{cyr}_care", f"{handle.capitalize()} Care"),
            (f"{handle}_supp0rt", f"{handle.capitalize()} Support"),
            (f"{typo}_official", f"{handle.capitalize()}")]


@register
class ImpostorSubtle(Impostor):
    """Subtler impostors: a separator away from the real support handle, confusables, digits.

    Older accounts (3-9 months) with a few hundred followers, answering angry customers with
    phishing links (no advertising posts). Params: ``answer_prob`` (default 0.3).
    """

    name = "impostor_subtle"
    default_params = {"answer_prob": 0.3}

    def setup(self) -> None:
        self.accounts = [
            self.world.new_account(h, nm, int(self.rng.integers(150, 900)), False,
                                   self.start - float(self.rng.uniform(100, 270)) * DAY)
            for h, nm in subtle_handles(self.b.main["handle"], self.b.support["handle"])]
        self.bad_domain = f"{self.brand}-care-center.net"
        self.turn = -1

    def _bad(self) -> str:
        return f"https://{self.bad_domain}/case/{self.r.randrange(10**5, 10**6)}"

    def answerer(self) -> dict:
        """In turn, so that every injected account answers at least once (ground truth)."""
        self.turn += 1
        return self.accounts[self.turn % len(self.accounts)]

    def emit(self, t0: float, t1: float) -> list[Rec]:
        return []  # no advertising posts: they only answer customers


class _Crowd(Scenario):
    """Many accounts posting prepared texts (``self.posts``, sorted by time)."""

    posts: list[Rec]

    def account(self, lang: str, young: bool, old_followers: int) -> dict:
        """A young (1-25 days, < 40 followers) or established (1-12 years) account."""
        h, nm = make_handle(self.r, lang)
        age = float(self.rng.uniform(1, 25) if young else self.rng.uniform(400, 4400))
        followers = int(self.rng.integers(0, 40) if young else self.rng.integers(60, old_followers))
        return self.world.new_account(h, nm, followers, False, self.start - age * DAY)

    def emit(self, t0: float, t1: float) -> list[Rec]:
        return [p for p in self.posts if t0 <= p.ts < t1]


CONTEST = {
    "own": {"en": "🎁 CONTEST 🎁 Win a {prod}! RT + follow @{h} + tag 2 friends. Ends tonight "
                  "#{tag} {link}",
            "fr": "🎁 CONCOURS 🎁 Gagnez un {prod} ! RT + follow @{h} + identifiez 2 amis. "
                  "Fin ce soir #{tag} {link}"},
    "entry": {"en": "@{h} I want to win the {prod}!! #{tag} @{f1} @{f2}",
              "fr": "@{h} je participe pour gagner le {prod} !! #{tag} @{f1} @{f2}"},
}


@register
class Contest(_Crowd):
    """A benign copy-paste campaign: the brand's giveaway and its near-duplicate entries.

    Params: ``entrants`` (default 160), ``hunters`` (share of young, low-follower contest-hunter
    accounts, default 0.5).
    """

    name = "contest"
    kind = "raid"
    expect = "no_raid"
    default_duration_s = 40 * 60.0
    default_params = {"entrants": 160, "hunters": 0.5}

    def setup(self) -> None:
        b = self.b
        name = b.text.fixed["name"]
        self.tag = f"{name.replace(' ', '')}Contest"
        self.extra = {"prod": f"{name} Nova", "tag": self.tag}
        self.posts: list[Rec] = []
        link = b.link(self.r)
        for lang in sorted(b.profile.lang_mix):
            text = b.text.fill(CONTEST["own"][lang if lang == "fr" else "en"], lang, link=link,
                               **self.extra)
            self.posts.append(Rec(self.start, b.name, "own_post", text, lang, b.own_account(lang),
                                  b.sources[0], url=link, sent=POS, scn=self.label,
                                  answerable=False))
        for _ in range(int(self.params["entrants"])):
            lang = self.lang()
            a = self.account(lang, self.r.random() < float(self.params["hunters"]), 3000)
            ts = self.start + 30 + float(self.rng.exponential(0.3)) * self.duration_s
            f1, f2 = (make_handle(self.r, lang)[0] for _ in range(2))
            text = b.text.fill(CONTEST["entry"]["fr" if lang == "fr" else "en"], lang,
                               f1=f1, f2=f2, **self.extra)
            if ts < self.start + self.duration_s:
                self.posts.append(Rec(ts, b.name, "mention", _vary(text, self.r), lang, a,
                                      self.source(), sent=POS, scn=self.label, answerable=False))
        self.posts.sort(key=lambda p: p.ts)

    def details(self) -> dict[str, Any]:
        return {"entrants": len(self.posts) - len(self.b.profile.lang_mix), "hashtag": self.tag}


QUOTE = {
    "en": "\"We will not refund anyone, read the terms\" - {name} CEO on TV tonight. Unbelievable @{h}",
    "fr": "\"Nous ne rembourserons personne, lisez les CGV\" - le PDG de {name} à la télé. "
          "Incroyable @{h}",
}


@register
class ViralQuote(_Crowd):
    """An organic outrage wave: a quote copied word for word by many established accounts.

    Params: ``sharers`` (default 220), ``young`` (share of young low-follower sharers, 0.1).
    """

    name = "viral_quote"
    kind = "raid"
    expect = "no_raid"
    default_duration_s = 45 * 60.0
    default_params = {"sharers": 220, "young": 0.1}

    def setup(self) -> None:
        b = self.b
        lang = b.main_lang
        base = b.text.fill(QUOTE["fr" if lang == "fr" else "en"], lang)
        self.posts = []
        for _ in range(int(self.params["sharers"])):
            a = self.account(lang, self.r.random() < float(self.params["young"]), 20000)
            ts = self.start + float(self.rng.beta(1.5, 3.0)) * self.duration_s
            self.posts.append(Rec(ts, b.name, "mention", _vary(base, self.r), lang, a,
                                  self.source(), sent=NEG, scn=self.label))
        self.posts.sort(key=lambda p: p.ts)

    def details(self) -> dict[str, Any]:
        return {"sharers": len(self.posts), "young_share": float(self.params["young"])}


STATEMENT = {
    "own": {"en": ["We are aware of an incident affecting some customer accounts. Our teams are "
                   "on it, updates here: {link}",
                   "Update: as a precaution, please reset your password. All details: {link}",
                   "We are deeply sorry. Next update at 6am on {link}"],
            "fr": ["Nous avons connaissance d'un incident touchant des comptes clients. Nos "
                   "équipes sont mobilisées, suivi ici : {link}",
                   "Point d'étape : par précaution, réinitialisez votre mot de passe. Détails : "
                   "{link}",
                   "Nous sommes sincèrement désolés. Prochain point à 6h sur {link}"]},
    "reply": {"en": "@{user} We are so sorry. Please follow the steps on {link}, we will keep "
                    "you updated.",
              "fr": "@{user} Toutes nos excuses. Suivez les étapes sur {link}, nous vous tenons "
                    "informé."},
}


@register
class NightStatement(Scenario):
    """The social team handles a real crisis at night, from a phone app never used before.

    Statements (both languages) every ~20 min and replies to angry customers, all linking to
    the brand's own domain. Pair it with a ``crisis`` at the same time. Params: ``local_hour``
    (default 2.0), ``statements`` (default 5), ``reply_prob`` (default 0.3).
    """

    name = "night_statement"
    kind = "hijack"
    expect = "no_hijack"
    default_duration_s = 90 * 60.0
    default_params = {"local_hour": 2.0, "statements": 5, "reply_prob": 0.3}

    def setup(self) -> None:
        hour = self.params.get("local_hour")
        if hour is not None:
            self.start += ((float(hour) - local_hour(self.b.profile, self.start)) % 24.0) * 3600.0
        known = set(self.b.sources)
        self.app = next(s for s in ("Twitter for iPhone", "Twitter for Android", "Buffer")
                        if s not in known)
        b = self.b
        self.posts = []
        for i in range(int(self.params["statements"])):
            lang = sorted(b.profile.lang_mix)[i % len(b.profile.lang_mix)]
            ts = self.start + 60.0 + i * 20 * 60.0 + self.r.uniform(0, 120)
            text = b.text.pick(STATEMENT["own"]["fr" if lang == "fr" else "en"], lang,
                               link=b.link(self.r))
            self.posts.append(Rec(ts, b.name, "own_post", text, lang, b.own_account(lang),
                                  self.app, sent=NEU, scn=self.label, answerable=False))

    def emit(self, t0: float, t1: float) -> list[Rec]:
        return [p for p in self.posts if t0 <= p.ts < t1]

    def react(self, rec: Rec) -> list[Rec]:
        if (rec.sent != NEG or rec.kind == "repost" or rec.author["id"] in self.b.own_ids
                or self.r.random() >= float(self.params["reply_prob"])):
            return []
        b = self.b
        lang = rec.lang or b.main_lang
        text = b.text.fill(STATEMENT["reply"]["fr" if lang == "fr" else "en"], lang,
                           user=rec.author["handle"], link=b.link(self.r))
        return [Rec(rec.ts + self.r.uniform(120, 1200), b.name, "reply", text, lang, b.support,
                    self.app, in_reply_to=rec.id, sent=NEU, scn=self.label, answerable=False)]

    def details(self) -> dict[str, Any]:
        return {"source": self.app, "statements": len(self.posts),
                "local_hour": round(local_hour(self.b.profile, self.start), 2)}


@register
class ClientSwitch(Scenario):
    """The team moves to a new publishing tool: scheduled posts and replies come from it.

    The brand's own reply path keeps its known source; this scenario adds the brand's usual
    office-hours posts (a few an hour, links to its domain, both languages) from the new tool
    for the whole window. Params: ``tool`` (default "Hootsuite Inc."), ``per_hour`` (4).
    """

    name = "client_switch"
    kind = "hijack"
    expect = "no_hijack"
    default_duration_s = 8 * 3600.0
    default_params = {"tool": "Hootsuite Inc.", "per_hour": 4.0}

    def emit(self, t0: float, t1: float) -> list[Rec]:
        b = self.b
        out = []
        rate = float(self.params["per_hour"]) / 3600.0
        for ts in self.poisson_times(lambda t: np.full_like(t, rate), t0, t1):
            if not 9.0 <= local_hour(b.profile, ts) < 19.0:
                continue
            lang = self.lang()
            link = b.link(self.r)
            text = b.text.pick(STATEMENT_DAY["fr" if lang == "fr" else "en"], lang, link=link)
            out.append(Rec(ts, b.name, "own_post", text, lang, b.own_account(lang),
                           str(self.params["tool"]), url=link, sent=POS, scn=self.label,
                           answerable=False))
        return out

    def details(self) -> dict[str, Any]:
        return {"tool": self.params["tool"]}


STATEMENT_DAY = {
    "en": ["New in store this week, have a look {link}", "Our opening hours for the holidays: "
           "{link}", "Tips from our team: {link}"],
    "fr": ["Les nouveautés de la semaine en magasin {link}", "Nos horaires pour les fêtes : "
           "{link}", "Les conseils de l'équipe : {link}"],
}
