"""Log every asyncio task's stack when Faust's table recovery stalls (diagnosis of a rare hang).

Once, after a failover under load, a worker waited in Faust's changelog recovery for minutes
with no changelog record arriving (Faust's own warning: "No event received for active tp ...
since recovery start") and never committed again; it has not been reproduced since (see the
session-6 note on issue 4/5's stop). This watch changes nothing in the worker's behaviour: when
a recovery has received no changelog event for :data:`STALL_S` seconds it logs, once per
recovery, the stack of every task, so the next occurrence says which await holds the fetcher.
"""

from __future__ import annotations

import asyncio
import io
import logging
from time import monotonic
from typing import Any

#: Seconds of recovery without any changelog event before the stacks are logged.
STALL_S = 60.0
log = logging.getLogger("veille.recovery_watch")


def stalled_for(recovery: Any, now: float, stall_s: float = STALL_S) -> float | None:
    """Seconds Faust's ``recovery`` has waited with no changelog event, once ``>= stall_s``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> def rec(started, events, active=True):
    ...     return SimpleNamespace(in_recovery=active, _recovery_started_at=started,
    ...                            _active_events_received_at=events)
    >>> stalled_for(rec(0.0, {}), 90.0)
    90.0
    >>> stalled_for(rec(0.0, {"tp": 1.0}), 90.0) is None  # events arrived
    True
    >>> stalled_for(rec(50.0, {}), 90.0) is None  # 40 s: not yet
    True
    >>> stalled_for(rec(0.0, {}, active=False), 90.0) is None  # not recovering
    True
    """
    if not getattr(recovery, "in_recovery", False):
        return None
    started = getattr(recovery, "_recovery_started_at", None)
    if started is None or getattr(recovery, "_active_events_received_at", None):
        return None
    waited = now - started
    return waited if waited >= stall_s else None


def task_stacks(limit: int = 12) -> str:
    """The stack of every task of the running loop, one block per task."""
    blocks = []
    for task in asyncio.all_tasks():
        buf = io.StringIO()
        task.print_stack(limit=limit, file=buf)
        blocks.append(buf.getvalue())
    return "\n".join(blocks)


def register(app: Any, interval_s: float = 10.0) -> None:
    """Check the app's table recovery every ``interval_s`` seconds (a Faust timer)."""
    logged_for: list[float | None] = [None]  # the recovery whose stacks were logged

    @app.timer(interval=interval_s)
    async def _watch_recovery() -> None:  # pragma: no cover - needs a stalled Faust recovery
        recovery = app.tables.recovery
        waited = stalled_for(recovery, monotonic())
        if waited is None or logged_for[0] == recovery._recovery_started_at:
            return
        logged_for[0] = recovery._recovery_started_at
        log.warning("table recovery has received no changelog event for %.0f s; the stack of "
                    "every task follows\n%s", waited, task_stacks())
