"""A replay's output directory: veille's own files in it, and no mixing of two runs.

A replay writes a fixed set of files (:data:`OUTPUT_FILES`; ``veille report`` adds
``report.html`` and, with ``--png``, the plots in ``plots/``). Replaying into a directory that
holds a previous run's files would leave some of them behind (``scored.jsonl.gz`` of a run with
``--scored``, ``diff.json`` of a run with ``--compare-to``, the plots), and the report would mix
the two runs. So before a run, :func:`prepare_outdir` removes the previous run's files, and only
those (a file veille did not write is never deleted); it refuses a non-empty directory that is
not a previous replay's output unless forced.

Examples
--------
>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "diff.json").write_text("{}"); _ = (d / "notes.txt").write_text("mine")
>>> prepare_outdir(d)
Traceback (most recent call last):
...
pipeline.replay.outdir.OutdirError: ...
>>> [p.name for p in prepare_outdir(d, force=True)], sorted(p.name for p in d.iterdir())
(['diff.json'], ['notes.txt'])
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

#: Files of a replay's output directory: the replay's, ``--compare-to``'s and the report's.
OUTPUT_FILES = ("alerts.jsonl", "deadletters.jsonl", "scored.jsonl.gz", "series.json",
                "terms.json", "samples.json", "summary.json", "diff.json", "report.html")
#: The report's plot directory (``veille report --png``).
PLOTS_DIR = "plots"
#: Files of :data:`PLOTS_DIR` the report writes: ``NAME.svg``, ``NAME.png`` and the transient
#: ``.NAME.html`` page, for the plot names of :func:`pipeline.report.html.plots`.
PLOT_FILE = re.compile(r"\.?(?:timeline|(?:volume|sentiment|terms|incident)-[\w.-]+)"
                       r"\.(?:svg|png|html)")


class OutdirError(ValueError):
    """The output directory cannot take a replay (not a directory, or someone else's)."""


def is_replay_output(path: str | Path) -> bool:
    """True if ``path`` holds a replay's ``summary.json`` (a JSON object with incidents)."""
    f = Path(path) / "summary.json"
    try:
        doc = orjson.loads(f.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(doc, dict) and "incidents" in doc


def prepare_outdir(path: str | Path, force: bool = False) -> list[Path]:
    """Make ``path`` ready for a replay: remove a previous run's files (:func:`clear_outputs`).

    Parameters
    ----------
    path
        The output directory (it need not exist).
    force
        Write into a non-empty directory that is not a replay's output (its other files stay).

    Returns
    -------
    list of Path
        The files removed.

    Raises
    ------
    OutdirError
        ``path`` is not a directory, or holds files veille did not write and no previous
        run's ``summary.json`` (unless ``force``).
    """
    p = Path(path)
    if not p.exists():
        return []
    if not p.is_dir():
        raise OutdirError(f"{p} is not a directory")
    others = sorted(e.name for e in p.iterdir()
                    if e.name not in OUTPUT_FILES and e.name != PLOTS_DIR)
    if others and not force and not is_replay_output(p):
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise OutdirError(
            f"{p} is not empty and not a replay's output ({len(others)} other entries: "
            f"{shown}): give an empty or new --out directory, or --force to write into it "
            "(only veille's own files there are replaced)")
    return clear_outputs(p)


def clear_outputs(path: str | Path) -> list[Path]:
    """Delete the files of :data:`OUTPUT_FILES` and the report's plots in ``path`` (``plots/``
    goes too if that leaves it empty); nothing else. Returns the files removed."""
    p = Path(path)
    removed = []
    for name in OUTPUT_FILES:
        f = p / name
        if f.is_file() or f.is_symlink():
            f.unlink()
            removed.append(f)
    plots = p / PLOTS_DIR
    if plots.is_dir() and not plots.is_symlink():
        for f in sorted(plots.iterdir()):
            if PLOT_FILE.fullmatch(f.name) and (f.is_file() or f.is_symlink()):
                f.unlink()
                removed.append(f)
        if not any(plots.iterdir()):
            plots.rmdir()
    return removed
