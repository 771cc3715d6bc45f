"""Command-line output checks that do not depend on the terminal width."""

from __future__ import annotations


def flat(text: str) -> str:
    """``text`` without whitespace and error-box borders: rich wraps (and folds long paths in)
    messages at the console's width, which differs between runs (tmp paths, xdist, COLUMNS).

    >>> flat("│ /tmp/x/b.gz: trunc\\n│ ated or corrupt │") == flat("/tmp/x/b.gz: truncated or corrupt")
    True
    """
    return "".join(text.replace("│", " ").split())
