"""The HTML report of a replay (``veille report OUTDIR``): self-contained, inline SVG plots,
optional PNG export through headless Chromium. See :mod:`pipeline.report.html`."""

from pipeline.report.html import build, plots, write

__all__ = ["build", "plots", "write"]
