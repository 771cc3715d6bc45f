"""Keep the worker's log readable while the broker is away.

With the broker down, aiokafka logs the same errors again and again: "Unable connect to node
with id 1", "Failed fetch messages from 1", "Unable to update metadata from [1]", "Group
Coordinator Request failed"... In the chaos bench's broker restart, about 50 lines a second
(3,240 lines in three runs of a few seconds' outage each), which buries everything else.
:class:`RepeatFilter` lets the first of each message through and then at most one per
``window_s`` seconds, saying how many were held back; :func:`quiet_repeats` puts it on
aiokafka's loggers (the worker does, :class:`agents.faust_worker.VeilleWorker`).
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import Callable

#: Seconds between two records of the same message (logger, level and format string).
REPEAT_WINDOW_S = 10.0
#: Messages remembered at most (a message formatted before logging is its own key: the
#: memory starts over rather than grow).
MAX_KEYS = 1000


class RepeatFilter(logging.Filter):
    """Pass a message once per ``window_s`` seconds; count the others.

    Messages are told apart by logger, level and format string (not by their arguments: "node
    1" and "node 2" are the same message). Records under WARNING pass untouched. A record let
    through after some were held back ends with how many were.

    Examples
    --------
    >>> clock = [0.0]
    >>> f = RepeatFilter(window_s=10, clock=lambda: clock[0])
    >>> rec = lambda: logging.LogRecord("aiokafka", logging.ERROR, "", 0, "down: %s", (1,), None)
    >>> [f.filter(rec()) for _ in range(3)]
    [True, False, False]
    >>> clock[0] = 11.0
    >>> r = rec(); f.filter(r), r.getMessage()
    (True, 'down: 1 (2 more like it in the last 11 s)')
    """

    def __init__(self, window_s: float = REPEAT_WINDOW_S,
                 clock: Callable[[], float] = monotonic) -> None:
        super().__init__()
        self.window_s = window_s
        self.clock = clock
        #: (logger, level, format string) -> [time let through, records held back since]
        self.seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """True to let ``record`` through (see the class docstring)."""
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        entry = self.seen.get(key)
        if entry is None or now - entry[0] >= self.window_s:
            if entry is None and len(self.seen) >= MAX_KEYS:
                self.seen.clear()
            if entry is not None and entry[1]:
                held, since = int(entry[1]), now - entry[0]
                record.msg = f"{record.msg} ({held} more like it in the last {since:.0f} s)"
            self.seen[key] = [now, 0]
            return True
        entry[1] += 1
        return False


def quiet_repeats(prefix: str = "aiokafka", window_s: float = REPEAT_WINDOW_S) -> RepeatFilter:
    """Put one :class:`RepeatFilter` on every logger named ``prefix`` or ``prefix.*`` that
    exists (a logger's filters see only its own records, not its children's); aiokafka's
    modules are imported first, so that their loggers exist."""
    import aiokafka  # noqa: F401 - creates the client, consumer and producer loggers
    import aiokafka.admin  # noqa: F401

    flt = RepeatFilter(window_s)
    names = [n for n in list(logging.root.manager.loggerDict)
             if n == prefix or n.startswith(prefix + ".")]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(flt)
    return flt
