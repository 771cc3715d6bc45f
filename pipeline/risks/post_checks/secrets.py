"""Secrets: API keys and tokens (known formats and high entropy), passwords, confidential terms.

Everything here blocks: a leaked key or code name cannot be taken back once posted.

Examples
--------
>>> c = SecretChecks(confidential_terms=["Projet Héron"])
>>> [r.check for r in c.run(PostText.build("Le projet heron arrive !"))]
['secret.confidential']
>>> [r.check for r in c.run(PostText.build("key AKIAIOSFODNN7EXAMPLE oops"))]
['secret.aws_key']
>>> c.run(PostText.build("Les hérons sont de retour au parc"))
[]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from ._base import PhraseSet, PostText, Reason

# (check, regex, message). Order matters only for overlaps (the first, most specific, wins).
_KEY_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("secret.private_key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
     "private key header"),
    ("secret.aws_key", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])",
     "AWS access key id"),
    ("secret.github_token", r"(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
     "GitHub token"),
    ("secret.slack_token", r"(?<![\w])xox[abposr]-[A-Za-z0-9-]{10,}", "Slack token"),
    ("secret.slack_webhook", r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
     "Slack webhook URL"),
    ("secret.stripe_key", r"(?<![\w])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}", "Stripe secret key"),
    ("secret.google_key", r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])", "Google API key"),
    ("secret.jwt", r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
     "JSON Web Token"),
    ("secret.openai_key", r"(?<![\w-])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}", "OpenAI/Anthropic-style key"),
    ("secret.sendgrid_key", r"(?<![\w])SG\.[\w-]{22}\.[\w-]{43}", "SendGrid API key"),
    ("secret.credentials_in_url", r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[\w.-]+",
     "URL with a user name and password"),
)
# Literal substrings without which a pattern cannot match (cheap gate before the regex).
_KEY_GATES: dict[str, tuple[str, ...]] = {
    "secret.private_key": ("PRIVATE KEY",),
    "secret.aws_key": ("AKIA", "ASIA", "ABIA", "ACCA"),
    "secret.github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "secret.slack_token": ("xox",),
    "secret.slack_webhook": ("hooks.slack.com",),
    "secret.stripe_key": ("_live_", "_test_"),
    "secret.google_key": ("AIza",),
    "secret.jwt": ("eyJ",),
    "secret.openai_key": ("sk-",),
    "secret.sendgrid_key": ("SG.",),
    "secret.credentials_in_url": ("://",),
}
_KEYS = {check: (re.compile(p), msg) for check, p, msg in _KEY_PATTERNS}
_GATE_OF = {g: check for check, gates in _KEY_GATES.items() for g in gates}
_GATE_RE = re.compile("|".join(re.escape(g) for g in sorted(_GATE_OF, key=len, reverse=True)))
_PASSWORD_GATE = frozenset("password passwd pwd passcode passe mdp pin secret".split())
_KEYWORD_GATE = frozenset("key keys token tokens secret cle api password mdp hash sig aws".split())

# "password: hunter2", "mot de passe = ..." (folded text).
_PASSWORD_RE = re.compile(
    r"(?<![\w])(?:password|passwd|pwd|passcode|mot de passe|mdp|code pin|pin code|"
    r"code secret|login/password)\s*[:=]\s*(?P<v>[^\s,;]{4,})"
)
# URL query parameters that carry secrets.
_URL_SECRET_PARAM_RE = re.compile(
    r"(?i)[?&](?:access_token|auth_token|token|api_key|apikey|key|secret|client_secret|password|"
    r"pwd|sig|signature|x-amz-signature|session|sessionid)=([^&#\s]{16,})"
)
_TOKEN_RE = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_TOKEN_BEFORE = frozenset("#@/+=.-_")
_HEX_RE = re.compile(r"[0-9a-fA-F]{32,64}")
_HEX_CTX_RE = re.compile(r"(?:key|token|secret|cle|api|password|mdp|hash|sig)[^\n]{0,40}$")


def shannon_entropy(s: str) -> float:
    """Shannon entropy in bits per character.

    >>> round(shannon_entropy("aaaa"), 2), round(shannon_entropy("abcd"), 2)
    (0.0, 2.0)
    """
    n = len(s)
    if not n:
        return 0.0
    return 0.0 - sum(c / n * math.log2(c / n) for c in Counter(s).values())


def looks_random(tok: str) -> bool:
    """A long token mixing upper case, lower case and digits with frequent class changes.

    CamelCase words, slugs, product codes and hashtags fail one of the conditions.

    >>> looks_random("wJalrXUtnFEMI7K7MDENGbPxRfiCYzEXAMPLEKEY")
    True
    >>> looks_random("MerciATousNosClients2024")
    False
    """
    core = tok.strip("=")
    if len(core) < 20:
        return False
    up = sum(c.isupper() for c in core)
    lo = sum(c.islower() for c in core)
    dg = sum(c.isdigit() for c in core)
    if up < 2 or lo < 2 or dg < 2:
        return False
    cls = ["u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "o" for c in core]
    changes = sum(a != b for a, b in zip(cls, cls[1:]))
    if changes < 0.4 * len(core):
        return False
    return shannon_entropy(core) >= 3.8


def _mixed(tok: str) -> bool:
    return any(c.isupper() for c in tok) and any(c.islower() for c in tok) and any(
        c.isdigit() for c in tok
    )


class SecretChecks:
    """Key/token formats, entropy, passwords and the brand's confidential terms.

    Parameters
    ----------
    confidential_terms
        Internal code names and confidential terms (matched case- and accent-insensitively,
        whole words, with flexible separators).
    """

    def __init__(self, confidential_terms: Iterable[str] = ()):
        self.confidential = PhraseSet(confidential_terms)

    def run(self, p: PostText) -> list[Reason]:
        """All secret reasons of the post."""
        out: list[Reason] = []
        t = p.text
        for check in {_GATE_OF[g] for g in _GATE_RE.findall(t)}:
            rx, msg = _KEYS[check]
            for m in rx.finditer(t):
                out.append(Reason(check, m.span(), msg, "block"))
        for m in _PASSWORD_RE.finditer(p.folded) if not p.words.isdisjoint(_PASSWORD_GATE) else ():
            v = t[m.start("v"): m.end("v")]
            if v.isalpha() and (v.islower() or v.istitle()):
                continue  # "mot de passe : jamais communiqué" is advice, not a password
            out.append(Reason("secret.password", m.span("v"), "password or PIN written out", "block"))
        for s, e, u in p.urls:
            for m in _URL_SECRET_PARAM_RE.finditer(u):
                out.append(Reason("secret.url_token", (s + m.start(1), s + m.end(1)),
                                  "URL carries a token/signature parameter", "block"))
        masked = p.masked
        if len(masked) >= 20:
            keyword = not p.words.isdisjoint(_KEYWORD_GATE)
            for m in _TOKEN_RE.finditer(masked):
                s = m.start()
                if s and (masked[s - 1].isalnum() or masked[s - 1] in _TOKEN_BEFORE):
                    continue
                tok = m.group()
                if looks_random(tok) or (
                    keyword and len(tok) >= 30 and _mixed(tok)
                    and _HEX_CTX_RE.search(p.folded[max(0, s - 60): s])
                ):
                    out.append(Reason("secret.high_entropy", m.span(),
                                      "long random-looking string (possible key or token)", "block"))
            if keyword:
                for m in _HEX_RE.finditer(masked):
                    s, e = m.span()
                    if (s and masked[s - 1].isalnum()) or (e < len(masked) and masked[e].isalnum()):
                        continue
                    if _HEX_CTX_RE.search(p.folded[max(0, s - 60): s]) and any(
                        c.isalpha() for c in m.group()
                    ):
                        out.append(Reason("secret.high_entropy", m.span(),
                                          "hexadecimal key/token next to a key word", "block"))
        for m in self.confidential.finditer(p):
            out.append(Reason("secret.confidential", m.span(),
                                  f"confidential term {t[m.start():m.end()]!r}", "block"))
        return out
