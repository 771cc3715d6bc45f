"""agents.logs: aiokafka's repeated errors while the broker is away, once per window."""

from __future__ import annotations

import logging

from agents import faust_worker
from agents.logs import RepeatFilter, quiet_repeats


def test_quiet_repeats_holds_back_aiokafka_repeats_only(caplog):
    flt = quiet_repeats()
    loggers = [logging.getLogger(n) for n in ("aiokafka", "aiokafka.consumer.fetcher",
                                               "aiokafka.admin")]
    try:
        assert all(flt in lg.filters for lg in loggers)
        assert quiet_repeats() is not flt and all(lg.filters.count(flt) == 1 for lg in loggers)
        with caplog.at_level(logging.INFO):
            for node in range(50):
                logging.getLogger("aiokafka").error("Unable connect to node with id %s", node)
                logging.getLogger("aiokafka.consumer.fetcher").error("Failed fetch messages")
                logging.getLogger("aiokafka").info("info lines pass: %s", node)
                logging.getLogger("veille.other").error("not aiokafka: %s", node)
        got = [(r.name, r.levelname) for r in caplog.records]
        assert got.count(("aiokafka", "ERROR")) == 1
        assert got.count(("aiokafka.consumer.fetcher", "ERROR")) == 1
        assert got.count(("aiokafka", "INFO")) == 50 and got.count(("veille.other", "ERROR")) == 50
        assert flt.seen[("aiokafka", logging.ERROR, "Unable connect to node with id %s")][1] == 49
    finally:
        for lg in logging.root.manager.loggerDict.values():
            if isinstance(lg, logging.Logger):
                for f in [f for f in lg.filters if isinstance(f, RepeatFilter)]:
                    lg.removeFilter(f)


def test_the_worker_quiets_aiokafka_once_logging_is_set_up(monkeypatch):
    called = []
    monkeypatch.setattr(faust_worker, "quiet_repeats", lambda: called.append(True))
    monkeypatch.setattr(faust_worker.faust.Worker, "on_setup_root_logger",
                        lambda self, logger, level: called.append("faust"))
    worker = object.__new__(faust_worker.VeilleWorker)  # no app needed for this hook
    worker.on_setup_root_logger(logging.getLogger(), logging.WARN)
    assert called == ["faust", True]


def test_the_filter_memory_is_bounded():
    from agents import logs

    flt = RepeatFilter()
    for i in range(3 * logs.MAX_KEYS):  # pre-formatted messages: each its own key
        rec = logging.LogRecord("aiokafka", logging.ERROR, "", 0, f"offset {i} failed", (), None)
        assert flt.filter(rec)
    assert len(flt.seen) <= logs.MAX_KEYS
