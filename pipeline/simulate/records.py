"""The simulator's internal record (before ids and timestamps are rendered).

A :class:`Rec` becomes a ``Mention`` wire dict when the engine emits it, in event-time order:
only then does it get its id, and may it point at earlier posts (``ref``).
"""

from __future__ import annotations

NEG, NEU, POS = 0, 1, 2


class Rec:
    """A post waiting to be emitted.

    Parameters
    ----------
    ts
        Event time (epoch seconds).
    brand
        Brand key.
    kind
        ``mention`` | ``reply`` | ``quote`` | ``repost`` | ``own_post``.
    text, lang, author, source, url, in_reply_to
        As in the ``Mention`` schema (``author`` is an ``Author`` wire dict).
    sent
        True sentiment index (0 negative, 1 neutral, 2 positive), for annotations and tests.
    scn
        Name of the scenario that injected it, or None for the baseline.
    ref
        ``"reply"``/``"quote"``/``"repost"``: pick the target among recent posts at emission.
    answerable
        Whether the brand may answer it (raids, impostors and hijacked posts are not answered).
    """

    __slots__ = (
        "ts", "brand", "kind", "text", "lang", "author", "source", "url", "in_reply_to",
        "sent", "scn", "ref", "answerable", "id",
    )

    def __init__(
        self,
        ts: float,
        brand: str,
        kind: str,
        text: str,
        lang: str | None,
        author: dict,
        source: str | None,
        url: str | None = None,
        in_reply_to: str | None = None,
        sent: int = NEU,
        scn: str | None = None,
        ref: str | None = None,
        answerable: bool = True,
    ):
        self.ts = ts
        self.brand = brand
        self.kind = kind
        self.text = text
        self.lang = lang
        self.author = author
        self.source = source
        self.url = url
        self.in_reply_to = in_reply_to
        self.sent = sent
        self.scn = scn
        self.ref = ref
        self.answerable = answerable
        self.id: str | None = None
