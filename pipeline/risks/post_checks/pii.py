"""Personal and payment data: e-mail addresses, phone numbers, IBANs, payment cards.

Policy (documented in :mod:`pipeline.risks.post_review`):

* **E-mail** -> block, except *public role addresses* (``support@``, ``contact@``, ``presse@``...)
  at one of the brand's ``allowed_link_domains`` (or a sub-domain), which pass, and role
  addresses at other domains, which only warn. Addresses listed in ``public_contacts`` pass.
* **Phone** -> block, except numbers listed in ``public_contacts`` (pass), toll-free and
  shared-cost service numbers (French ``08``, North-American ``8xx``, UK ``0800/0808/03``),
  which pass, and numbers introduced as a support line ("service client au", "call us at"),
  which only warn.
* **IBAN** -> block only when the mod-97 checksum holds (and the country length matches).
* **Payment card** -> block only for 13-19 digits passing Luhn, with a known issuer prefix and
  card-like grouping.

Examples
--------
>>> luhn_ok("4111 1111 1111 1111"), luhn_ok("4111 1111 1111 1112")
(True, False)
>>> iban_ok("FR76 3000 6000 0112 3456 7890 189"), iban_ok("FR76 3000 6000 0112 3456 7890 188")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._base import PostText, Reason

ROLE_LOCAL_PARTS = frozenset(
    """support contact contacts help aide hello hi bonjour info infos information informations
    press presse media medias pr communication com sav service serviceclient service-client
    service.client clients client customercare customer-care care careers jobs recrutement
    emploi rh privacy dpo rgpd gdpr legal juridique partenariats partners partnerships
    business sales ventes commercial newsletter events evenements team equipe feedback
    reclamation reclamations reclamations-clients investors investisseurs ir accessibility
    accessibilite security securite abuse noreply no-reply webmaster""".split()
)

_EMAIL_DOMAIN_RE = re.compile(
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![\w-])"
)
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")

# French numbers: 0X XX XX XX XX with one consistent separator, or +33 / 0033 forms.
_PHONE_FR = (
    r"(?<![\w+])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?|0)[1-9](?P<s1>[ .-]?)\d{2}"
    r"(?:(?P=s1)\d{2}){3}(?![\w])"
)
# International E.164 with optional groups: + then 8-15 digits.
_PHONE_INTL = r"(?<![\w+])\+[1-9](?:[ .-]?\(?\d{1,4}\)?){2,7}(?![\w])"
# North American domestic: (415) 555-0132, 415-555-0132, 415.555.0132
_PHONE_NA = (
    r"(?<![\w(])(?:\(\d{3}\)[ ]?|\d{3}(?P<s2>[-.]))\d{3}(?(s2)(?P=s2)|[-. ])\d{4}(?![\w])"
)
_PHONE_RE = re.compile("|".join(f"(?:{p})" for p in (_PHONE_FR, _PHONE_INTL, _PHONE_NA)))
# 8+ digits with at most two separator characters between them: gate for phones and cards.
_DIGIT_RUN_RE = re.compile(r"\d(?:[ .()+-]{0,2}\d){7,}")
_THOUSANDS_RE = re.compile(r"^\+\d{1,3}(?:[ ,.]\d{3})+$")
_SUPPORT_CTX_RE = re.compile(
    r"(?:service[- ]client|service consommateurs?|sav|hotline|support|assistance|standard|"
    r"conseillers?|appelez[- ]nous|contactez[- ]nous|customer (?:service|care|support)|"
    r"help ?line|call us|contact us|reach us|press contact|contact presse|service presse|"
    r"press office|relations presse)[^.!?\n]{0,30}$"
)

_IBAN_START_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})(\d{2})(?=[ -]?[A-Z0-9])")
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26,
}

_CARD_RE = re.compile(r"(?<![\d.,-])\d(?:[ -]?\d){12,18}(?![\d])")
_CARD_GROUPINGS = {(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1), (4, 4, 4, 3),
                   (4, 4, 4, 2), (4, 4, 4, 4, 1), (4, 4, 4, 4, 2), (4, 4, 5)}


def luhn_ok(number: str) -> bool:
    """Luhn checksum of the digits in ``number`` (separators ignored).

    >>> luhn_ok("79927398713")
    True
    """
    digits = [int(c) for c in number if c.isdigit()]
    if not digits:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """Issuer network from the leading digits (IIN), or None when no known network fits.

    >>> card_issuer("4111111111111111"), card_issuer("1234567890123")
    ('visa', None)
    """
    n = len(digits)
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    p2, p4 = int(digits[:2]), int(digits[:4])
    if n == 16 and (51 <= p2 <= 55 or 2221 <= p4 <= 2720):
        return "mastercard"
    if n == 15 and p2 in (34, 37):
        return "amex"
    if n in (16, 19) and (digits.startswith("6011") or p2 == 65 or 644 <= int(digits[:3]) <= 649):
        return "discover"
    if n in (16, 19) and 3528 <= p4 <= 3589:
        return "jcb"
    if 16 <= n <= 19 and p2 == 62:
        return "unionpay"
    if n == 14 and (p2 in (36, 38) or 300 <= int(digits[:3]) <= 305):
        return "diners"
    if 12 <= n <= 19 and (p2 in (50, 56, 57, 58) or p2 == 67 or p2 == 63):
        return "maestro"
    return None


def iban_ok(candidate: str) -> bool:
    """Whether ``candidate`` (spaces/dashes allowed) is an IBAN with a valid mod-97 checksum.

    >>> iban_ok("GB82 WEST 1234 5698 7654 32"), iban_ok("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    s = re.sub(r"[ -]", "", candidate).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    expected = IBAN_LENGTHS.get(s[:2])
    if expected is not None and len(s) != expected:
        return False
    rearranged = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in rearranged)
    return int(num) % 97 == 1


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _domain_allowed(domain: str, allowed: Iterable[str]) -> bool:
    d = domain.lower().rstrip(".")
    return any(d == a or d.endswith("." + a) for a in allowed)


def _is_service_number(raw: str) -> bool:
    """Toll-free / shared-cost numbers: not personal, public by design."""
    d = _digits(raw)
    toll_na = {"800", "833", "844", "855", "866", "877", "888"}
    if raw.lstrip().startswith("+") or d.startswith("00"):
        d = d.removeprefix("00")
        if d.startswith("33"):
            return d[2:].lstrip("0")[:1] == "8"
        if d.startswith("1"):
            return d[1:4] in toll_na
        if d.startswith("44"):
            rest = d[2:].lstrip("0")
            return rest[:3] in {"800", "808"} or rest[:1] == "3"
        return False
    if len(d) == 10 and d[0] == "0":
        return d[1] == "8"
    if len(d) == 10:
        return d[:3] in toll_na
    return False


class PiiChecks:
    """E-mail, phone, IBAN and payment-card detection for one brand.

    Parameters
    ----------
    allowed_domains
        The brand's ``allowed_link_domains`` (lower-case, without ``www.``).
    public_contacts
        E-mail addresses and phone numbers the brand publishes on purpose: never flagged.

    Examples
    --------
    >>> c = PiiChecks(["acme.fr"], ["01 23 45 67 89"])
    >>> [r.check for r in c.run(PostText.build("Écrivez à support@acme.fr ou au 01 23 45 67 89"))]
    []
    >>> [(r.check, r.severity) for r in c.run(PostText.build("Mail: jean.dupont@gmail.com"))]
    [('pii.email', 'block')]
    """

    def __init__(self, allowed_domains: Iterable[str] = (), public_contacts: Iterable[str] = ()):
        self.allowed = tuple(a.lower().removeprefix("www.") for a in allowed_domains if a)
        contacts = [c.strip() for c in public_contacts if c and c.strip()]
        self.public_emails = frozenset(c.lower() for c in contacts if "@" in c)
        self.public_phones = frozenset(
            self._phone_key(c) for c in contacts if "@" not in c and len(_digits(c)) >= 6
        )

    @staticmethod
    def _phone_key(raw: str) -> str:
        """Last nine digits: the same key for ``01 23 45 67 89`` and ``+33 1 23 45 67 89``."""
        return _digits(raw)[-9:]

    def run(self, p: PostText) -> list[Reason]:
        """All PII reasons of the post."""
        out: list[Reason] = []
        masked = p.masked
        if "@" in masked:
            self._emails(p, out)
        if _DIGIT_RUN_RE.search(masked):
            self._phones(p, out)
            self._cards(p, out)
            self._ibans(p, out)
        return out

    def _emails(self, p: PostText, out: list[Reason]) -> None:
        t = p.masked
        at = t.find("@")
        while at >= 0:
            s = at
            while s and t[s - 1] in _LOCAL_CHARS:
                s -= 1
            while s < at and not t[s].isalnum():
                s += 1
            dm = _EMAIL_DOMAIN_RE.match(t, at + 1) if s < at else None
            nxt = t.find("@", at + 1)
            if dm is None:
                at = nxt
                continue
            at = nxt
            local, domain = t[s:dm.start() - 1], dm.group(1)
            span = (s, dm.end())
            addr = t[s:dm.end()].lower()
            if addr in self.public_emails:
                continue
            role = local.lower() in ROLE_LOCAL_PARTS
            at_brand = _domain_allowed(domain, self.allowed)
            if role and at_brand:
                continue
            if role:
                out.append(Reason("pii.email", span,
                                  f"role address {addr!r} at a domain outside the brand's "
                                  "allowed_link_domains: check it is public", "warn"))
            else:
                out.append(Reason("pii.email", span,
                                  f"e-mail address {addr!r} looks personal", "block"))

    def _phones(self, p: PostText, out: list[Reason]) -> None:
        for m in _PHONE_RE.finditer(p.masked):
            raw = m.group()
            d = _digits(raw)
            if raw.startswith("+"):
                if not 8 <= len(d) <= 15 or _THOUSANDS_RE.match(raw):
                    continue
            if self._phone_key(raw) in self.public_phones:
                continue
            if _is_service_number(raw):
                continue
            before = p.folded[max(0, m.start() - 60): m.start()]
            if _SUPPORT_CTX_RE.search(before):
                out.append(Reason("pii.phone", m.span(),
                                  "phone number presented as a support line but not in the "
                                  "brand's public contacts", "warn"))
            else:
                out.append(Reason("pii.phone", m.span(), "phone number", "block"))

    def _cards(self, p: PostText, out: list[Reason]) -> None:
        for m in _CARD_RE.finditer(p.masked):
            raw = m.group()
            d = _digits(raw)
            if not 13 <= len(d) <= 19:
                continue
            seps = {c for c in raw if not c.isdigit()}
            if len(seps) > 1:
                continue
            if seps:
                groups = tuple(len(g) for g in re.split(r"[ -]", raw))
                if groups not in _CARD_GROUPINGS:
                    continue
            if card_issuer(d) is None or not luhn_ok(d):
                continue
            out.append(Reason("pii.card", m.span(),
                              f"payment card number ({card_issuer(d)}, Luhn-valid)", "block"))

    def _ibans(self, p: PostText, out: list[Reason]) -> None:
        t = p.masked
        for m in _IBAN_START_RE.finditer(t):
            country = m.group(1)
            want = IBAN_LENGTHS.get(country)
            lengths = (want,) if want else tuple(range(34, 14, -1))
            # consume alnum chars, single spaces/dashes between them
            i, chars, ends = m.start(), 0, {}
            n = len(t)
            while i < n and chars < 34:
                c = t[i]
                if c.isascii() and c.isalnum() and (c.isdigit() or c.isupper()):
                    chars += 1
                    ends[chars] = i + 1
                    i += 1
                elif c in " -" and i + 1 < n and t[i + 1].isascii() and t[i + 1].isalnum():
                    i += 1
                else:
                    break
            for L in lengths:
                if L in ends:
                    e = ends[L]
                    if e < n and t[e].isascii() and t[e].isalnum():
                        continue
                    if iban_ok(t[m.start():e]):
                        out.append(Reason("pii.iban", (m.start(), e),
                                          f"IBAN ({country}, mod-97 valid)", "block"))
                        break
