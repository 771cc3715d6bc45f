"""``veille report OUTDIR``: a replay's output as one self-contained HTML file (plus PNGs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def report(
    outdir: Annotated[Path, typer.Argument(
        help="Output directory of `veille replay`.", exists=True, file_okay=False)],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="HTML file to write (default OUTDIR/report.html).")] = None,
    png: Annotated[bool, typer.Option(
        help="Also export each plot as PNG (and SVG) into plots/ next to the report, rendered "
        "by headless Chromium (needs the `chromium` binary).")] = False,
    title: Annotated[Optional[str], typer.Option(help="Report title.")] = None,
) -> None:
    """Build a self-contained HTML report (no JavaScript, no network) from a replay: volume
    against the expected band, negative share against its baseline, incident timeline and
    evidence, top terms."""
    from pipeline.report import write
    from pipeline.report.chromium import find_chromium

    if png and find_chromium() is None:
        console.print("[red]--png needs Chromium:[/red] apt-get install -y chromium "
                      "(or set VEILLE_CHROMIUM=/path/to/chrome)")
        raise typer.Exit(2)
    with Progress(TextColumn("[bold]png plots"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not png) as progress:  # Chromium: about a second a plot
        task = progress.add_task("png", total=None)
        try:
            path, pngs = write(outdir, out, png=png, title=title,
                               on_png=lambda n, total: progress.update(task, completed=n,
                                                                       total=total))
        except (FileNotFoundError, ValueError) as exc:  # not a replay output, or a broken one
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    console.print(f"report: {path}" + (f"; {len(pngs)} PNG plots in {pngs[0].parent}" if pngs else ""))
