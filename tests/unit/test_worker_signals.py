"""`veille worker` and Ctrl-C / SIGTERM: at once during startup or at a second signal, one line."""

from __future__ import annotations

import asyncio
import os
import io
import signal

import pytest

from agents.app import create_app
from agents.faust_worker import VeilleWorker
from pipeline.settings import Settings


class Exited(Exception):
    """Raised by the test's ``os._exit``."""


@pytest.fixture
def worker(monkeypatch, tmp_path):
    """A worker (not started; its stderr a buffer) whose ``os._exit`` and graceful stop are
    recorded."""
    s = Settings(kafka_bootstrap="127.0.0.1:1", metrics_port=0, web_port=0,
                 data_dir=tmp_path / "worker")
    w = VeilleWorker(create_app(s), loglevel="warn", redirect_stdouts=False)
    w.stderr = io.StringIO()
    w.exits, w.graceful = [], []

    def exit_(code: int) -> None:
        w.exits.append(code)
        raise Exited

    def schedule(sig: signal.Signals) -> None:  # mode's: remembers it is stopping, then stops
        w._signal_stop_time = 1.0
        w.graceful.append(sig)

    monkeypatch.setattr(os, "_exit", exit_)
    monkeypatch.setattr(w, "_schedule_shutdown", schedule)
    return w


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_before_the_first_assignment_stops_at_once(worker, sig, code):
    """Nothing processed, nothing to commit: no graceful stop (that waited for the group join,
    up to the session timeout)."""
    with pytest.raises(Exited):
        (worker._on_sigint if sig == signal.SIGINT else worker._on_sigterm)()
    assert worker.exits == [code] and not worker.graceful
    err = worker.stderr.getvalue()
    assert "during startup: stopped" in err and "-INT-" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_after_the_assignment_graceful_then_at_once_at_a_second_ctrl_c(worker):
    asyncio.run(worker.app.on_partitions_assigned.send(set()))  # as Faust's rebalance does
    assert worker.joined
    worker._on_sigint()
    assert worker.graceful == [signal.SIGINT] and not worker.exits
    err = worker.stderr.getvalue()
    assert "Ctrl-C: stopping" in err and "Ctrl-C again stops at once" in err
    assert "-INT-" not in err
    with pytest.raises(Exited):
        worker._on_sigint()
    assert worker.exits == [130] and worker.graceful == [signal.SIGINT]
    assert "Ctrl-C again: stopped at once" in worker.stderr.getvalue()[len(err):]


def test_no_spinner_when_the_output_is_not_a_terminal(tmp_path):
    """Faust's startup spinner wrote cursor codes and dots into worker logs ("[?25l ... OK ^")
    and kept the root logger at DEBUG for itself; it is for terminals only."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    s = Settings(kafka_bootstrap="127.0.0.1:1", metrics_port=0, web_port=0,
                 data_dir=tmp_path / "worker")
    to_file = VeilleWorker(create_app(s), loglevel="warn", redirect_stdouts=False,
                           stdout=io.StringIO())
    to_terminal = VeilleWorker(create_app(s), loglevel="warn", redirect_stdouts=False,
                               stdout=Terminal())
    assert to_file.spinner is None and to_terminal.spinner is not None
