"""``veille check-post``: review a post before publishing it.

Its exit code is the verdict (0 approve, 1 warn, 2 block), so a script or CI hook can gate on
it; anything that gives no review exits :data:`NO_REVIEW` (3): a usage error (unknown option,
no or empty text, a ``--file`` or ``--settings`` file that does not exist, which Click would
exit 2, read as "block"; a post that is not UTF-8), a bad settings file, an unknown brand, or an
unexpected error (Python's 1 would read as "warn"). The post is an argument, a file
(``--file``) or stdin (``-``).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated, Any, Optional

import click
import orjson
import typer
from rich.console import Console
from typer.core import TyperCommand

from agents.cli_settings import settings_or_exit
from pipeline.risks import PostReviewer, render_review
from pipeline.risks.post_checks._base import normalize_lang

EXIT = {"approve": 0, "warn": 1, "block": 2}
#: Exit code of every outcome without a review (see the module docstring).
NO_REVIEW = 3


class CheckPostCommand(TyperCommand):
    """``check-post``'s command class: whatever gives no review exits :data:`NO_REVIEW`."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except typer.TyperException as exc:  # usage errors (Click's 2 reads as "block")
            exc.exit_code = NO_REVIEW  # type: ignore[attr-defined]
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):  # the verdict's exit code, Ctrl-C
            raise
        except typer.TyperException as exc:  # BadParameter and the like
            exc.exit_code = NO_REVIEW  # type: ignore[attr-defined]
            raise
        except Exception as exc:  # a bug: show it, but as "no review", not 1 ("warn")
            traceback.print_exc()
            raise typer.Exit(NO_REVIEW) from exc


def read_post(text: Optional[str], file: Optional[Path]) -> str:
    """The post: ``text``, or read from ``file`` (``-`` for either means stdin), as UTF-8,
    without the line ends a file or a pipe closes it with."""
    if (text is None) == (file is None):
        raise typer.BadParameter(
            "give the post as TEXT, or --file PATH, or - to read it from stdin (one of them)"
            if text is None else "TEXT and --file both given: one post at a time",
            param_hint="TEXT")
    if text is not None and text != "-":
        return text
    if file is None or str(file) == "-":
        stdin = click.get_binary_stream("stdin")
        if stdin.isatty():
            Console(stderr=True).print("reading the post from stdin (Ctrl-D ends it)")
        raw, where = stdin.read(), "stdin"
    else:
        try:
            raw, where = file.read_bytes(), str(file)
        except OSError as exc:  # no such file, a directory, no permission
            raise typer.BadParameter(f"{file}: {(exc.strerror or str(exc)).lower()}",
                                     param_hint="--file") from exc
    try:
        post = raw.decode("utf-8-sig")  # a BOM from a Windows editor is no part of the post
    except UnicodeDecodeError as exc:
        raise typer.BadParameter(f"{where} is not UTF-8 text ({exc.reason} at byte "
                                 f"{exc.start})", param_hint="--file" if file else "TEXT") from exc
    return post.rstrip("\r\n")


def check_post(
    text: Annotated[Optional[str], typer.Argument(
        help="The post, as it would be published; - reads it from stdin.", metavar="TEXT",
        show_default=False)] = None,
    file: Annotated[Optional[Path], typer.Option(
        "--file", "-f", help="Read the post from this file (UTF-8; - is stdin).",
        show_default=False)] = None,  # checked in read_post: typer's allow_dash misses Paths
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

    Prints the verdict (approve, warn, block) with the problems marked in the text.

    Exit code, so scripts and CI hooks can gate on it: **0** approve, **1** warn, **2** block,
    **3** no review (usage error, empty post, bad settings file, unknown brand, internal error).

    The post is TEXT, or a file (--file PATH), or stdin (- as TEXT or as PATH); the line ends
    that close a file or a pipe are not part of it.

    Examples:

        veille check-post --settings veille.toml --brand acme "Project Falcon ships Monday!"
        veille check-post -s veille.toml --brand acme --file draft.txt
        git show HEAD:post.txt | veille check-post -s veille.toml --brand acme -
    """
    text = read_post(text, file)
    if not text.strip():  # e.g. a hook that read a missing file: no review, not "approve"
        raise typer.BadParameter("the post is empty: nothing to review", param_hint="TEXT")
    if lang is not None and normalize_lang(lang) not in ("fr", "en"):
        raise typer.BadParameter(f"{lang!r}: fr or en (omit it to guess)", param_hint="--lang")
    s = settings_or_exit(settings, exit_code=NO_REVIEW)  # 2 is 'block': a bad file is no review
    cfg = s.brand(brand) if brand else (s.brands[0] if len(s.brands) == 1 else None)
    if brand and cfg is None:
        Console(stderr=True).print(
            f"[red]unknown brand {brand!r}[/red]; configured: "
            + (", ".join(b.name for b in s.brands) if s.brands
               else "none (give the brands with --settings FILE)"), highlight=False)
        raise typer.Exit(NO_REVIEW)
    reviewer = PostReviewer(cfg, public_contacts=cfg.public_contacts if cfg else ())
    review = reviewer.review(text, lang)
    if json:
        print(orjson.dumps(review.to_dict()).decode())
    else:
        Console().print(render_review(text, review))
    raise typer.Exit(EXIT[review.verdict])
