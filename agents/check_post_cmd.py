"""``veille check-post``: review a post before publishing it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.console import Console

from agents.cli_settings import settings_or_exit
from pipeline.risks import PostReviewer, render_review

EXIT = {"approve": 0, "warn": 1, "block": 2}


def check_post(
    text: Annotated[str, typer.Argument(help="The post, as it would be published.")],
    brand: Annotated[Optional[str], typer.Option(
        help="Brand whose settings apply (confidential terms, voice, allowed links...).")] = None,
    lang: Annotated[Optional[str], typer.Option(help="fr or en (guessed when absent).")] = None,
    json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object {verdict, reasons} as the last line.")] = False,
    settings: Annotated[Optional[Path], typer.Option(
        "--settings", "-s", help="TOML settings file with the brands.", exists=True,
        dir_okay=False)] = None,
) -> None:
    """Review a post before publishing: secrets and personal data, tone, errors, compliance.

    Prints the verdict (approve, warn, block) with the problems marked in the text. Exit code
    0 approve, 1 warn, 2 block, so scripts can gate on it (3: no review, e.g. unknown brand).

    Example:

        veille check-post --settings veille.toml --brand acme "Project Falcon ships Monday!"
    """
    s = settings_or_exit(settings, exit_code=3)  # 2 is 'block': a bad file is no review
    cfg = s.brand(brand) if brand else (s.brands[0] if len(s.brands) == 1 else None)
    if brand and cfg is None:
        Console(stderr=True).print(
            f"[red]unknown brand {brand!r}[/red]; configured: "
            + (", ".join(b.name for b in s.brands) if s.brands
               else "none (give the brands with --settings FILE)"), highlight=False)
        raise typer.Exit(3)
    reviewer = PostReviewer(cfg, public_contacts=cfg.public_contacts if cfg else ())
    review = reviewer.review(text, lang)
    if json:
        print(orjson.dumps(review.to_dict()).decode())
    else:
        Console().print(render_review(text, review))
    raise typer.Exit(EXIT[review.verdict])
