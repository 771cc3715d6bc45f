"""Compliance: the brand's forbidden terms (block) and generic risky claims (warn).

Policy:

* a term from the brand's ``forbidden_terms`` **blocks**, unless it is negated in its own clause
  ("aucun placement n'est sans risque", "no investment is risk-free"): a disclaimer is what
  compliance asks for, so a negated term only **warns** (a human re-reads the wording);
* a built-in list of risky financial/health claims ("guaranteed returns", "rendement garanti",
  "miracle cure"...) **warns** for every brand: the brand did not forbid them, but a compliance
  officer should see them.

Examples
--------
>>> c = ComplianceChecks(["sans risque", "100% safe"])
>>> [(r.check, r.severity) for r in c.run(PostText.build("Un placement sans risque !"))]
[('compliance.forbidden', 'block')]
>>> [(r.check, r.severity) for r in c.run(PostText.build("Aucun placement n'est sans risque."))]
[('compliance.forbidden', 'warn')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._base import PhraseSet, PostText, Reason, negated

CLAIMS = (
    "guaranteed returns", "guaranteed return", "guaranteed profit", "guaranteed profits",
    "risk-free", "risk free", "zero risk", "100% safe", "get rich quick",
    "double your money", "miracle cure", "cures cancer", "no side effects", "clinically proven",
    "rendement garanti", "rendements garantis", "gains garantis", "gain garanti", "sans risque",
    "sans aucun risque", "zero risque", "100% sur", "100% securise", "argent facile",
    "doublez votre argent", "remede miracle", "guerit", "sans effets secondaires",
    "cliniquement prouve",
)
class ComplianceChecks:
    """Forbidden terms of the brand (block) and built-in risky claims (warn)."""

    def __init__(self, forbidden_terms: Iterable[str] = ()):
        self.forbidden = PhraseSet(forbidden_terms, inflect=True)
        self.claims = PhraseSet(CLAIMS, inflect=True)

    def run(self, p: PostText) -> list[Reason]:
        """All compliance reasons of the post."""
        out: list[Reason] = []
        f = p.folded
        hit: list[tuple[int, int]] = []
        for m in self.forbidden.finditer(p):
            term = p.text[m.start():m.end()]
            if negated(f, m.start()):
                out.append(Reason("compliance.forbidden", m.span(),
                                  f"forbidden term {term!r} (negated: check the wording)", "warn"))
            else:
                out.append(Reason("compliance.forbidden", m.span(),
                                  f"forbidden term {term!r}", "block"))
            hit.append(m.span())
        for m in self.claims.finditer(p):
            if any(s < m.end() and m.start() < e for s, e in hit) or negated(f, m.start()):
                continue
            out.append(Reason("compliance.claim", m.span(),
                              f"risky claim {p.text[m.start():m.end()]!r}", "warn"))
        return out
