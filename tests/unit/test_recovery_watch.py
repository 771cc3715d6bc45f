"""The recovery watch: stall detection and the task stacks it logs (agents.recovery_watch)."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from agents import recovery_watch
from agents.app import create_app
from pipeline.settings import Settings


def test_stall_needs_recovery_without_any_event_for_the_whole_delay():
    rec = SimpleNamespace(in_recovery=True, _recovery_started_at=100.0,
                          _active_events_received_at={})
    assert recovery_watch.stalled_for(rec, 100.0 + recovery_watch.STALL_S) == recovery_watch.STALL_S
    assert recovery_watch.stalled_for(rec, 100.0 + recovery_watch.STALL_S - 1) is None
    rec._active_events_received_at["tp"] = 120.0
    assert recovery_watch.stalled_for(rec, 120.0 + recovery_watch.STALL_S - 1) is None
    # one changelog partition had events, the other none since: stalled all the same (the
    # failover hang: the survivor's own partition was read, the dead worker's never)
    assert recovery_watch.stalled_for(rec, 1000.0) == 880.0
    assert recovery_watch.stalled_for(SimpleNamespace(), 1000.0) is None  # no recovery object yet


def test_task_stacks_show_where_each_task_waits():
    async def parked_in_a_named_coroutine(ev: asyncio.Event) -> None:
        await ev.wait()

    async def play() -> str:
        ev = asyncio.Event()
        task = asyncio.ensure_future(parked_in_a_named_coroutine(ev))
        await asyncio.sleep(0)
        stacks = recovery_watch.task_stacks()
        ev.set()
        await task
        return stacks

    stacks = asyncio.run(play())
    assert "parked_in_a_named_coroutine" in stacks and "play" in stacks


def test_the_worker_app_runs_the_watch(tmp_path, monkeypatch):
    registered = []
    real = recovery_watch.register
    monkeypatch.setattr(recovery_watch, "register", lambda app: (registered.append(app),
                                                                  real(app)))
    app = create_app(Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path / "worker"))
    assert registered == [app]
