"""Settings for the commands: a file or value the user got wrong is one message, not a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from pipeline.settings import Settings, load_settings


def settings_or_exit(path: Optional[Path], exit_code: int = 2, **overrides: Any) -> Settings:
    """:func:`~pipeline.settings.load_settings`, or exit ``exit_code`` printing what is wrong
    (TOML syntax, unknown key, bad value) and in which file, instead of a traceback."""
    try:
        return load_settings(path, **overrides)
    except Exception as exc:  # noqa: BLE001 - a settings error is the user's to fix: say it
        where = f" in {path}" if path else ""
        Console(stderr=True).print(f"[red]settings error{where}:[/red] {exc}", markup=True,
                                   highlight=False)
        raise typer.Exit(exit_code) from exc
