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


def test_a_stalled_recovery_logs_the_stacks_once_then_stops_the_worker(caplog):
    """The guard of the failover hang: stacks at STALL_S (once per recovery), then the worker
    is crashed at CRASH_S so that a supervisor restarts it from the commits."""
    crashed: list[BaseException] = []

    async def crash(exc: BaseException) -> None:
        crashed.append(exc)

    rec = SimpleNamespace(in_recovery=True, _recovery_started_at=0.0,
                          _active_events_received_at={"changelog-0": 10.0})
    app = SimpleNamespace(tables=SimpleNamespace(recovery=rec), crash=crash)
    watch = recovery_watch.RecoveryWatch(app)
    stall, stop = recovery_watch.STALL_S, recovery_watch.CRASH_S

    async def checks() -> list:
        return [await watch.check(10.0 + t) for t in (stall - 1, stall, stall + 10, stop - 1,
                                                        stop)]

    with caplog.at_level("WARNING", logger="veille.recovery_watch"):
        assert asyncio.run(checks()) == [None, "logged", None, None, "stopped"]
    assert [r.levelname for r in caplog.records] == ["WARNING", "ERROR"]
    assert "stack of every task" in caplog.records[0].getMessage()
    assert len(crashed) == 1 and f"no changelog event for {stop:.0f} s" in str(crashed[0])
    # a new recovery (another rebalance) that stalls too has its stacks logged again
    rec._recovery_started_at, rec._active_events_received_at = 500.0, {}
    assert asyncio.run(watch.check(500.0 + stall)) == "logged"
    rec.in_recovery = False
    assert asyncio.run(watch.check(5000.0)) is None and len(crashed) == 1
