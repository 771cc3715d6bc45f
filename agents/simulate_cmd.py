"""``veille simulate``: a simulated mention stream to a topic or a JSONL file, with ground truth."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from agents import kafka
from agents.produce import produce_mentions
from agents.cli_settings import settings_or_exit
from pipeline.simulate import SCENARIOS, SimConfig, generate, write_jsonl

console = Console(stderr=True)


def simulate(
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write JSONL here (.gz = gzip) instead of publishing to Kafka.")] = None,
    truth: Annotated[Optional[Path], typer.Option(
        help="Write the scenarios' ground truth (JSON) here.")] = None,
    hours: Annotated[float, typer.Option(
        min=0.001, help="Event-time length of the stream (> 0).")] = 6.0,
    start: Annotated[str, typer.Option(help="Event-time start, ISO-8601 (UTC if no offset).")]
    = "2026-01-06T00:00:00Z",
    scenario: Annotated[list[str], typer.Option(
        "--scenario", help="Scenario spec, repeatable: NAME[:BRAND][@OFFSET][\\*MAGNITUDE], "
        "e.g. crisis:acme@3h\\*8. Names: " + ", ".join(sorted(SCENARIOS)) + ".")]
    = [],  # noqa: B006 - typer wants a list default
    seed: Annotated[int, typer.Option(help="Everything is deterministic for a seed.")] = 0,
    rate_scale: Annotated[float, typer.Option(
        min=0.001, help="Multiply every brand's base rate (> 0).")] = 1.0,
    speedup: Annotated[float, typer.Option(
        min=0, help="Publish paced at this many event seconds per wall second (0 = as fast "
        "as possible).")]
    = 0.0,
    rate: Annotated[float, typer.Option(
        min=0, help="Or publish at this many mentions per second.")] = 0.0,
    settings: Annotated[Optional[Path], typer.Option(
        "--settings", "-s", help="TOML settings file (topic names, bootstrap).", exists=True,
        dir_okay=False)] = None,
) -> None:
    """Simulate mentions with scripted scenarios, to a JSONL file or the mentions topic.

    Brands acme, nordair and globex, French and English, daily and weekly cycles, realistic
    authors; scenarios inject crises, launches, raids, impostors... with ground truth.

    Example (a day and a half, a crisis on acme after the first day's warm-up):

        veille simulate --out sim.jsonl.gz --hours 36 --scenario crisis:acme@30h --truth truth.json
    """
    try:
        t0 = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"{start!r} is not ISO-8601 (2026-01-06T00:00:00Z)",
                                 param_hint="--start") from exc
    if t0.tzinfo is None:
        t0 = t0.replace(tzinfo=timezone.utc)
    s = None
    if out is None:  # publishing: the broker settings first, before any work
        s = settings_or_exit(settings)
        if not s.kafka_bootstrap:
            console.print("[red]no Kafka bootstrap:[/red] pass --out FILE or set "
                          "KAFKA_BOOTSTRAP=host:port (see `veille broker`)")
            raise typer.Exit(2)
    cfg = SimConfig(start=t0, duration_s=hours * 3600.0, scenarios=list(scenario), seed=seed,
                    rate_scale=rate_scale)
    try:
        mentions, gt = generate(cfg)
    except (KeyError, ValueError) as exc:  # unknown scenario or brand, bad spec
        raise typer.BadParameter(str(exc.args[0] if exc.args else exc),
                                 param_hint="--scenario") from exc
    late = [f"{t['scenario']} on {t['brand']}" for t in gt
            if t["details"]["start_offset_s"] >= cfg.duration_s]
    if late:  # it would inject nothing, yet be listed in the ground truth
        raise typer.BadParameter(f"{', '.join(late)} starts after the end of the simulation "
                                 f"(--hours {hours:g})", param_hint="--scenario")
    end = cfg.start_ts + cfg.duration_s
    with Progress(TextColumn("[bold]simulate"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[n]:,} mentions"), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("sim", total=cfg.duration_s, n=0)

        def tick(n: int, ts: float) -> None:
            if n % 500 == 0:
                progress.update(task, completed=min(ts, end) - cfg.start_ts, n=n)

        if out is not None:
            def counted():
                for n, m in enumerate(mentions, 1):
                    tick(n, datetime.fromisoformat(m["created_at"]).timestamp())
                    yield m
            n = write_jsonl(out, counted())
        else:
            assert s is not None
            n = kafka.run(produce_mentions(s, mentions, speedup=speedup, rate=rate,
                                           on_sent=tick))
        progress.update(task, completed=cfg.duration_s, n=n)
    if truth is not None:
        truth.write_bytes(orjson.dumps(gt, option=orjson.OPT_INDENT_2))
    where = str(out) if s is None else f"{s.topics.mentions} on {s.kafka_bootstrap}"
    console.print(f"{n:,} mentions, {len(gt)} scenario(s) → {where}")
