"""Watch Faust's table recovery: log every task's stack when it stalls, stop the worker if it
stays stalled.

After a failover under load, a worker waited in Faust's changelog recovery with no changelog
record arriving (Faust's own warning, every 5 s: "No event received for active tp ... since
recovery start") and never committed again. The cause was found (a fetch that returned while
flow was stopped: Faust dropped it, changelog records included, and never sought the
changelog back; :mod:`agents.ingest` now seeks such records back). This watch stays as a
guard against any other way of stalling there: when a recovery has received no changelog
event for :data:`STALL_S` seconds it logs, once per recovery, the stack of every task; after
:data:`CRASH_S` seconds it stops the worker with an error (exit status 1), so that a
supervisor restarts it, which resumes exactly from the committed offsets and the brand
snapshots, instead of a worker that looks alive and does nothing.
"""

from __future__ import annotations

import asyncio
import io
import logging
from time import monotonic
from typing import Any

#: Seconds of recovery without any changelog event before the stacks are logged.
STALL_S = 60.0
#: Seconds of recovery without any changelog event before the worker is stopped.
CRASH_S = 180.0
log = logging.getLogger("veille.recovery_watch")


def stalled_for(recovery: Any, now: float, stall_s: float = STALL_S) -> float | None:
    """Seconds Faust's ``recovery`` has gone without any changelog event (since it started,
    or since its last event), once ``>= stall_s``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> def rec(started, events, active=True):
    ...     return SimpleNamespace(in_recovery=active, _recovery_started_at=started,
    ...                            _active_events_received_at=events)
    >>> stalled_for(rec(0.0, {}), 90.0)
    90.0
    >>> stalled_for(rec(0.0, {"tp": 50.0}), 90.0) is None  # an event 40 s ago
    True
    >>> stalled_for(rec(0.0, {"tp0": 20.0, "tp1": 5.0}), 90.0)  # none since 20 s
    70.0
    >>> stalled_for(rec(50.0, {}), 90.0) is None  # 40 s: not yet
    True
    >>> stalled_for(rec(0.0, {}, active=False), 90.0) is None  # not recovering
    True
    """
    if not getattr(recovery, "in_recovery", False):
        return None
    started = getattr(recovery, "_recovery_started_at", None)
    if started is None:
        return None
    events = getattr(recovery, "_active_events_received_at", None) or {}
    waited = now - max([started, *events.values()])
    return waited if waited >= stall_s else None


def task_stacks(limit: int = 12) -> str:
    """The stack of every task of the running loop, one block per task."""
    blocks = []
    for task in asyncio.all_tasks():
        buf = io.StringIO()
        task.print_stack(limit=limit, file=buf)
        blocks.append(buf.getvalue())
    return "\n".join(blocks)


class RecoveryWatch:
    """What the watch does at each check of the app's table recovery.

    Parameters
    ----------
    app
        The Faust app: its ``tables.recovery`` is watched, its ``crash`` stops the worker.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.logged_for: float | None = None  # the recovery whose stacks were logged

    async def check(self, now: float) -> str | None:
        """Check once at monotonic time ``now``: ``"stopped"`` (the worker was crashed),
        ``"logged"`` (the stacks were logged, once per recovery) or None."""
        recovery = self.app.tables.recovery
        waited = stalled_for(recovery, now)
        if waited is None:
            return None
        if waited >= CRASH_S:
            log.error("table recovery has received no changelog event for %.0f s: stopping "
                      "the worker (a restart resumes from the committed offsets)", waited)
            await self.app.crash(RuntimeError(
                f"table recovery stalled: no changelog event for {waited:.0f} s"))
            return "stopped"
        if self.logged_for == recovery._recovery_started_at:  # noqa: SLF001 - Faust's
            return None
        self.logged_for = recovery._recovery_started_at  # noqa: SLF001
        log.warning("table recovery has received no changelog event for %.0f s; the stack of "
                    "every task follows\n%s", waited, task_stacks())
        return "logged"


def register(app: Any, interval_s: float = 10.0) -> RecoveryWatch:
    """Check the app's table recovery every ``interval_s`` seconds (a Faust timer)."""
    watch = RecoveryWatch(app)

    @app.timer(interval=interval_s)
    async def _watch_recovery() -> None:
        await watch.check(monotonic())

    return watch
