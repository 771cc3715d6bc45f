"""Deterministic replay of mention archives through the worker's engine (issue 8).

:mod:`~pipeline.replay.sources` reads archives (JSONL, gzip, CSV; adapters such as the airline
set), :mod:`~pipeline.replay.run` runs them offline through :class:`~pipeline.engine.Engine`
and writes alerts, series and a summary, :mod:`~pipeline.replay.summary` turns alert updates
into incidents, :mod:`~pipeline.replay.whatif` compares two runs, :mod:`~pipeline.replay.outdir`
keeps a run's output directory free of an earlier run's files. ``veille replay`` and
``veille report`` (``agents/``) are the commands.
"""

from pipeline.replay.outdir import OutdirError, prepare_outdir
from pipeline.replay.run import BATCH, OfflineReplay, load_run
from pipeline.replay.sources import ADAPTERS, Archive, ArchiveError, detect_adapter
from pipeline.replay.summary import incidents, parity_key, summary_rows
from pipeline.replay.whatif import check_keys, compare, deep_merge, parse_sets

__all__ = ["ADAPTERS", "BATCH", "Archive", "ArchiveError", "check_keys", "OfflineReplay",
           "OutdirError", "compare", "deep_merge", "detect_adapter", "incidents", "load_run",
           "parity_key", "parse_sets", "prepare_outdir", "summary_rows"]
