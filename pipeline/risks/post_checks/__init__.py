"""The own-post checks, one module per family (see :mod:`pipeline.risks.post_review`)."""

from ._base import PostText, Reason, fold
from .compliance import ComplianceChecks
from .errors import ErrorChecks
from .pii import PiiChecks, iban_ok, luhn_ok
from .secrets import SecretChecks
from .tone import ToneChecks

__all__ = [
    "ComplianceChecks",
    "ErrorChecks",
    "PiiChecks",
    "PostText",
    "Reason",
    "SecretChecks",
    "ToneChecks",
    "fold",
    "iban_ok",
    "luhn_ok",
]
