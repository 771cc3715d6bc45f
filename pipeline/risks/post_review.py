"""Own-post review: approve / warn / block a brand's post before (or after) it is published.

A corporate account is hurt most by its own posts. :class:`PostReviewer` runs five families of
pure, regex-based checks (precompiled once per brand) and returns a :class:`Review` whose
reasons point at character spans of the original text.

Families, checks and severities
-------------------------------
``secret.*`` (block)
    ``aws_key``, ``github_token``, ``slack_token``, ``slack_webhook``, ``stripe_key``,
    ``google_key``, ``jwt``, ``openai_key``, ``sendgrid_key``, ``private_key``,
    ``credentials_in_url``, ``url_token`` (token/signature query parameters), ``password``
    ("mot de passe : Azur2024!"), ``high_entropy`` (long random-looking strings mixing cases and
    digits; 32-64 hex digits next to a key word), ``confidential`` (the brand's
    ``confidential_terms``: case/accent-insensitive, whole words, flexible separators so
    "Projet Héron" also matches ``projet-heron`` and ``#ProjetHeron``).
``pii.*`` (block, with documented exceptions)
    ``email``: personal addresses block; *role* addresses (``support@``, ``contact@``,
    ``presse@``...) pass at the brand's ``allowed_link_domains`` (and their sub-domains) and
    warn elsewhere. ``phone``: FR (``06 12 34 56 78``, ``+33 6...``, ``0033...``),
    international E.164 (``+44 20 7946 0958``) and North-American formats block; **public
    support lines** pass when listed in ``public_contacts`` (a :class:`PostReviewer` argument:
    BrandConfig has no such field yet), toll-free / shared-cost service numbers (FR ``08``,
    NA ``800/833/.../888``, UK ``0800/0808/03``) always pass, and a number introduced as a
    support line ("service client au", "call us at") only warns. ``iban``: mod-97 valid and of
    the country's length. ``card``: 13-19 digits, Luhn-valid, known issuer prefix, card-like
    grouping. Digits inside URLs are never read as PII.
``tone.*`` (warn; slurs and insults aimed at a person block)
    ``insult`` (EN+FR small lists; targeted forms such as "you idiot", "vous êtes des
    abrutis", "ta gueule" block), ``slur`` (block), ``shouting`` (a run of 3+ all-caps words
    with 12+ letters, or 60% of letters in all-caps words; hashtags, handles, URLs, words with
    digits and common acronyms such as SNCF, RGPD, USA are ignored), ``punctuation`` ("!!!",
    "???", "?!?"), ``familiar`` (formal voice only: French tutoiement, slang such as lol, mdr,
    wtf, "u"), ``emoji_flood`` (formal: 3+ emojis; neutral: 8+ or a run of 5; casual: 10+ or a
    run of 6), ``too_formal`` (casual voice only: "Veuillez agréer", "Dear Sir or Madam").
``error.*`` (warn)
    ``placeholder`` (``{first_name}``, ``{{name}}``, ``[NAME]``, ``<insert link>``, TODO, TBD,
    XXX, lorem ipsum, ``XX €``, "Bonjour ,"), ``link_malformed`` (``htps://``, ``http//``, hosts
    without a TLD), ``link_domain`` (host not in ``allowed_link_domains`` when the list is set;
    ``t.co``/``x.com``/``twitter.com`` are always allowed since published posts carry
    Twitter's own wrapped links), ``unbalanced`` (brackets, « », “ ”, odd straight double
    quotes; apostrophes, smileys and "1)" list markers are ignored), ``doubled_word`` ("the
    the", "le le"; not "nous nous", "vous vous", "that that", "had had"...),
    ``brand_misspelling`` (a capitalised word, #hashtag or @handle at edit distance 1 of a
    display name/handle of 5-8 letters, 1-2 from 9+ letters; never the name itself nor its
    plural/possessive).
``compliance.*``
    ``forbidden``: the brand's ``forbidden_terms`` block, or warn when negated in the same
    clause ("aucun placement n'est sans risque"). ``claim``: a built-in list of risky claims
    ("guaranteed returns", "rendement garanti", "miracle cure"...) warns for every brand.

The verdict is the highest severity among the reasons (``approve`` when there are none).

Examples
--------
>>> from pipeline.settings import BrandConfig
>>> brand = BrandConfig(name="azur", display_names=["Banque Azur"], voice="formal",
...                     allowed_link_domains=["banque-azur.fr"], forbidden_terms=["sans risque"])
>>> r = PostReviewer(brand, public_contacts=["09 69 32 00 00"])
>>> r.review("Nos conseillers vous répondent au 09 69 32 00 00 ou à aide@banque-azur.fr").verdict
'approve'
>>> review = r.review("Écris-moi : jean.martin@gmail.com, placement sans risque !!!")
>>> review.verdict
'block'
>>> [x.check for x in review.reasons]
['pii.email', 'compliance.forbidden', 'tone.punctuation']
>>> review.to_dict()["reasons"][0]["span"]
[12, 33]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pipeline.risks.post_checks import (
    ComplianceChecks,
    ErrorChecks,
    PiiChecks,
    PostText,
    Reason,
    SecretChecks,
    ToneChecks,
)

if TYPE_CHECKING:  # pragma: no cover
    from rich.text import Text

    from pipeline.settings import BrandConfig

Verdict = Literal["approve", "warn", "block"]
FAMILIES = ("secret", "pii", "tone", "error", "compliance")
_RANK = {"warn": 1, "block": 2}


@dataclass(frozen=True, slots=True)
class Review:
    """The verdict on one post and the reasons behind it (sorted by span).

    Examples
    --------
    >>> Review("approve", ()).to_dict()
    {'verdict': 'approve', 'reasons': []}
    """

    verdict: Verdict
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"verdict", "reasons": [{"check", "span", "message", "severity"}]}``."""
        return {
            "verdict": self.verdict,
            "reasons": [
                {"check": r.check, "span": [r.span[0], r.span[1]], "message": r.message,
                 "severity": r.severity}
                for r in self.reasons
            ],
        }

    @property
    def checks(self) -> tuple[str, ...]:
        """Distinct check names, in span order."""
        return tuple(dict.fromkeys(r.check for r in self.reasons))


class PostReviewer:
    """Reviews own posts of one brand (or brand-agnostic when ``brand`` is None).

    Parameters
    ----------
    brand
        The brand's settings: handles, display names, confidential and forbidden terms,
        allowed link domains and voice. None: only the generic checks (neutral voice).
    public_contacts
        E-mail addresses and phone numbers the brand publishes on purpose (support lines):
        never flagged as personal data.
    voice
        Overrides ``brand.voice``.

    Examples
    --------
    >>> PostReviewer().review("Our new plans start at $19.99/month. Details: acme.com/plans").verdict
    'approve'
    """

    __slots__ = ("brand", "_secret", "_pii", "_tone", "_error", "_compliance")

    def __init__(
        self,
        brand: BrandConfig | None = None,
        *,
        public_contacts: Iterable[str] = (),
        voice: str | None = None,
    ):
        self.brand = brand
        b = brand
        allowed = list(b.allowed_link_domains) if b else []
        self._secret = SecretChecks(b.confidential_terms if b else ())
        self._pii = PiiChecks(allowed, public_contacts)
        self._tone = ToneChecks(voice or (b.voice if b else "neutral"))
        self._error = ErrorChecks(
            b.display_names if b else (), b.handles if b else (), allowed
        )
        self._compliance = ComplianceChecks(b.forbidden_terms if b else ())

    def review(self, text: str, lang: str | None = None) -> Review:
        """Review one post.

        Parameters
        ----------
        text
            The post as it will be (or was) published.
        lang
            ISO 639-1 code when known (``"fr"``, ``"en"``, ``"fr-FR"``); guessed otherwise.
        """
        if not text:
            return _APPROVE
        p = PostText.build(text, lang)
        reasons = self._secret.run(p)
        reasons += self._pii.run(p)
        reasons += self._compliance.run(p)
        reasons += self._tone.run(p)
        reasons += self._error.run(p)
        if not reasons:
            return _APPROVE
        kept = _dedupe(reasons)
        verdict: Verdict = "block" if any(r.severity == "block" for r in kept) else "warn"
        return Review(verdict, tuple(kept))


_APPROVE = Review("approve", ())  # frozen: one for every post without a reason


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    """Drop duplicates, secret/pii reasons nested in another one (a known key format wins over
    ``secret.high_entropy``), and tone/error reasons overlapping a secret (a key or a private
    key header is not prose: its capitals are not shouting, its ``user:pass@`` not a typo);
    ``error.link_domain`` is kept (where a link goes matters on its own)."""
    reasons = sorted(set(reasons), key=lambda r: (
        r.span[0], -r.span[1], -_RANK[r.severity], r.check == "secret.high_entropy"))
    kept: list[Reason] = []
    outer: list[Reason] = []
    for r in reasons:
        if r.family in ("secret", "pii"):
            if any(o.span[0] <= r.span[0] and r.span[1] <= o.span[1] for o in outer):
                continue
            outer.append(r)
        elif any(k.check == r.check and k.span[0] <= r.span[0] and r.span[1] <= k.span[1]
                 for k in kept):
            continue  # "{name}" inside "${name}"
        kept.append(r)
    secret_spans = [r.span for r in outer if r.family == "secret"]
    if secret_spans:
        kept = [r for r in kept if r.family not in ("tone", "error")
                or r.check == "error.link_domain"
                or not any(s < r.span[1] and r.span[0] < e for s, e in secret_spans)]
    return kept


def review_post(text: str, brand: BrandConfig | None = None, lang: str | None = None) -> Review:
    """One-off review (builds a :class:`PostReviewer`; keep one per brand for streams).

    >>> review_post("Merci à tous !").verdict
    'approve'
    """
    return PostReviewer(brand).review(text, lang)


_STYLE = {"block": "bold white on red", "warn": "black on yellow"}


def render_review(text: str, review: Review) -> Text:
    """The text with reason spans highlighted, then the verdict and the reasons listed.

    For ``veille check-post``. Block spans are drawn over warn spans.

    >>> out = render_review("mail: a.b@gmail.com", review_post("mail: a.b@gmail.com"))
    >>> "BLOCK" in out.plain and "pii.email" in out.plain
    True
    """
    from rich.text import Text

    out = Text(text)
    for r in sorted(review.reasons, key=lambda r: _RANK[r.severity]):
        out.stylize(_STYLE[r.severity], r.span[0], r.span[1])
    colour = {"approve": "bold green", "warn": "bold yellow", "block": "bold red"}[review.verdict]
    out.append("\n\n")
    out.append(review.verdict.upper(), style=colour)
    for r in review.reasons:
        out.append("\n  ")
        out.append(f"{r.severity:5}", style="red" if r.severity == "block" else "yellow")
        out.append(f" {r.check:26} [{r.span[0]}:{r.span[1]}] ")
        out.append(repr(text[r.span[0]:r.span[1]]), style="bold")
        out.append(f"  {r.message}", style="dim")
    return out
