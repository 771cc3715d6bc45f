"""The Faust worker of ``veille worker``, with Ctrl-C and SIGTERM that stop promptly.

Faust's worker answers every SIGINT with ``-INT- -INT- -INT- -INT- -INT- -INT-`` and a graceful
stop that closes the consumer, which waits for its group join to finish. During startup that
join can last up to the group's session timeout (a minute by default), for instance when a
worker of the same group was killed and the broker still waits for it: Ctrl-C then took from
15 s to 55 s, and further Ctrl-C did nothing but print the line again.

:class:`VeilleWorker` stops at once (exit ``128 + signal``: 130 for Ctrl-C, 143 for SIGTERM),
with one line, when nothing needs a graceful stop: before the worker's first partition
assignment (it has processed nothing, so it has nothing to commit), or at a second signal
(what was processed since the last commit is read again at the next start, as after a crash).
Otherwise the first signal starts Faust's graceful stop (exit 0), announced in one line.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import faust

from agents.logs import quiet_repeats


def _isatty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for anything without ``isatty``)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no such method, or a closed file
        return False


class VeilleWorker(faust.Worker):
    """:class:`faust.Worker` with veille's signal handling (see the module docstring)."""

    def __init__(self, app: faust.App, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        if not _isatty(self.stdout):  # a log file: no spinner's cursor codes and dots in it
            self.spinner = None
        #: True once the group gave this worker an assignment (empty or not)
        self.joined = False
        app.on_partitions_assigned.connect(self._on_assigned)

    async def _on_assigned(self, sender: Any, assigned: Any, **kwargs: Any) -> None:
        self.joined = True

    def on_setup_root_logger(self, logger: Any, level: int) -> None:
        """Once Faust has set up logging: aiokafka's repeated errors at most once per 10 s
        (:func:`agents.logs.quiet_repeats`)."""
        super().on_setup_root_logger(logger, level)
        quiet_repeats()

    def _on_sigint(self) -> None:
        self.on_stop_signal(signal.SIGINT)

    def _on_sigterm(self) -> None:
        self.on_stop_signal(signal.SIGTERM)

    def on_stop_signal(self, sig: signal.Signals) -> None:
        """First signal after the first assignment: graceful stop; otherwise stop at once."""
        key = "Ctrl-C" if sig == signal.SIGINT else sig.name
        if not self.joined:
            self.exit_now(sig, f"{key} during startup: stopped (no partition was assigned "
                          "yet, nothing to commit)")
        if self._signal_stop_time:  # already stopping gracefully
            self.exit_now(sig, f"{key} again: stopped at once (mentions processed since the "
                          "last commit are read again at the next start)")
        self._flag_as_shutdown_by_signal()  # Faust's: stops the spinner
        again = "Ctrl-C again" if sig == signal.SIGINT else "a second SIGTERM"
        self._line(f"{key}: stopping (finishing the batch in hand, committing; {again} stops "
                   "at once)")
        self._schedule_shutdown(sig)

    def exit_now(self, sig: signal.Signals, message: str) -> None:
        """Print ``message`` and end the process with status ``128 + sig``, no cleanup."""
        self._line(message)
        spinner = self.spinner
        if spinner is not None and spinner.count:  # its atexit hook, which os._exit skips
            type(spinner)._finish(spinner.file)  # shows the cursor the spinner hid
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # closed pipe: nothing more to say
                pass
        os._exit(128 + sig)

    def _line(self, message: str) -> None:
        """One line on stderr, on a line of its own (after the spinner's characters)."""
        self.carp(f"\nveille worker: {message}" if self.spinner and self.spinner.count
                  and not self.spinner.stopped else f"veille worker: {message}")
