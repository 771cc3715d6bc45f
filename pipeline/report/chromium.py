"""Headless Chromium, for PNG export of the report's plots (and the report's browser test).

Why Chromium rather than matplotlib: the PNGs are screenshots of the very SVG the report shows
(one plotting code path, identical pictures), and no plotting library joins the dependencies.
The price is the ``chromium`` binary (Debian package ``chromium``; ``$VEILLE_CHROMIUM`` names
another), which ``veille report --png`` asks for only when PNGs are wanted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or None."""
    env = os.environ.get("VEILLE_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run(args: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run Chromium headless with the safe flags and a throw-away profile."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium binary: apt-get install -y chromium "
                                "(or set VEILLE_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="veille-chromium-") as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def screenshot(page: str | Path, png: str | Path, width: int, height: int) -> Path:
    """Screenshot of a local file (HTML or SVG) at ``width`` x ``height`` CSS pixels."""
    png = Path(png).resolve()
    run([f"--screenshot={png}", f"--window-size={width},{height}",
         "--default-background-color=ffffffff", Path(page).resolve().as_uri()])
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot for {page}")
    return png
