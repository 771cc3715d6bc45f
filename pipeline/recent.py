"""The texts of the most recent mentions, by id, in bounded and compact memory.

The engine remembers the text and language of its last mentions to complete analysts' labels
(a label may carry only the mention id) and replay's alert samples. :class:`RecentTexts` holds
the last ``capacity`` distinct ids in first-seen order, like an ``OrderedDict`` that drops its
oldest key past ``capacity`` (re-adding a known id updates it in place, it does not move), but
with no per-entry list node and the text kept as UTF-8 bytes: a third of the memory of a Python
``str`` for tweets with emoji (4 bytes per character). So memory grows until ``capacity`` ids,
then stays flat.

Examples
--------
>>> r = RecentTexts(capacity=2)
>>> r.add("1", "hello 👋", "en"); r.add("2", "salut", "fr"); r.add("3", "hi", None)
>>> r.get("1"), r.get("3"), "2" in r, len(r)
(None, ('hi', None), True, 2)
>>> r["2"]
('salut', 'fr')
"""

from __future__ import annotations

import sys

_intern = sys.intern


class RecentTexts:
    """Text and language of the last ``capacity`` distinct mention ids (see the module docstring).

    Parameters
    ----------
    capacity
        How many ids are kept.
    """

    __slots__ = ("capacity", "_entries", "_ring", "_next", "_langs")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        #: id -> (UTF-8 text, language)
        self._entries: dict[str, tuple[bytes, str | None]] = {}
        #: ids in first-seen order, a ring (slot ``_next`` holds the oldest once full)
        self._ring: list[str | None] = []
        self._next = 0
        #: one shared string per language code seen
        self._langs: dict[str, str] = {}

    def add(self, mention_id: str, text: str, lang: str | None) -> None:
        """Remember ``text`` and ``lang`` for ``mention_id``; forget the oldest id past capacity."""
        entries = self._entries
        if lang is not None:
            lang = self._langs.get(lang) or self._lang(lang)
        value = (text.encode("utf-8", "surrogatepass"), lang)
        if mention_id in entries:
            entries[mention_id] = value
            return
        entries[mention_id] = value
        ring = self._ring
        if len(ring) < self.capacity:
            ring.append(mention_id)
            return
        slot = self._next
        del entries[ring[slot]]
        ring[slot] = mention_id
        self._next = slot + 1 if slot + 1 < self.capacity else 0

    def _lang(self, lang: str) -> str:
        if len(self._langs) < 1000:  # language codes are few; odd values are not all kept
            self._langs[lang] = lang = _intern(lang)
        return lang

    def get(self, mention_id: str) -> tuple[str, str | None] | None:
        """``(text, lang)`` of a remembered mention, or None."""
        value = self._entries.get(mention_id)
        if value is None:
            return None
        return value[0].decode("utf-8", "surrogatepass"), value[1]

    def __getitem__(self, mention_id: str) -> tuple[str, str | None]:
        value = self.get(mention_id)
        if value is None:
            raise KeyError(mention_id)
        return value

    def __contains__(self, mention_id: object) -> bool:
        return mention_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self._ring.clear()
        self._next = 0
