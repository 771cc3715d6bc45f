"""``veille replay``: an archive or a topic's time range through the engine, offline or into Kafka.

Offline (default): the records go in batches of 500 through the same engine as the worker, as
fast as the machine allows; alerts, dead letters, per-bucket series and a summary go to
``--out`` (see :mod:`pipeline.replay.run`), and the incident table is printed.
``--into-kafka``: the archive is re-published to the mentions topic, paced by event time
(``--speed 60`` = one event minute per second; 0 = as fast as possible) for a running worker.
``--compare-to OUTDIR`` prints what changed against an earlier replay (what-if).
Before an offline run, a previous run's files in ``--out`` are removed (and only those, see
:mod:`pipeline.replay.outdir`), so the report never mixes two runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from agents import kafka
from agents.cli_settings import settings_or_exit
from pipeline.replay import (
    BATCH,
    Archive,
    ArchiveError,
    OfflineReplay,
    OutdirError,
    compare,
    check_keys,
    load_run,
    parse_sets,
    prepare_outdir,
    summary_rows,
)
from pipeline.settings import Settings

console = Console(stderr=True)
out_console = Console()
if not out_console.is_terminal:  # piped or captured: wide enough for the incident table
    out_console = Console(width=200)


def _time(value: str | None) -> float | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def build_settings(path: Optional[Path], sets: list[str]) -> Settings:
    """Settings from an optional TOML file, the environment and ``--set`` overrides; a bad
    ``--set`` is a usage error, a bad file or value one 'settings error' line (exit 2)."""
    # pydantic-settings deep-merges keyword values over the file and the environment
    try:
        overrides = parse_sets(sets)
        check_keys(overrides, Settings)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from exc
    return settings_or_exit(path, **overrides)


def _progress(unit: str) -> Progress:
    return Progress(
        TextColumn("[bold]replay"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[n]:,} records"), TextColumn("{task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
        transient=False,
    ) if unit == "bytes" else Progress(
        TextColumn("[bold]replay"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:,.0f}/s"), TimeElapsedColumn(), TextColumn("ETA"),
        TimeRemainingColumn(), console=console,
    )


class UnknownTopic(ValueError):
    """The topic to replay is not on the cluster."""


async def topic_range(settings: Settings, topic: str, since: float | None,
                      until: float | None, batch: int = BATCH,
                      on_total: Callable[[int], None] | None = None,
                      ) -> AsyncIterator[tuple[list[bytes], list[float]]]:
    """Batches ``(values, record timestamps in s)`` of ``topic`` with timestamps in
    ``[since, until)``, located with ``offsets_for_times``; per-partition order is kept."""
    from aiokafka import TopicPartition

    consumer = kafka.consumer(settings)
    await kafka.start(consumer, settings)
    try:
        # a consumer without subscription knows no topic yet: ask the cluster
        parts = (await consumer._client.fetch_all_metadata()).partitions_for_topic(topic)
        if not parts:
            raise UnknownTopic(f"topic {topic!r} does not exist on {settings.kafka_bootstrap}")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        # Tansu answers ListOffsets wrongly (end offsets of multi-record batches, -1 timestamps
        # for "none"): there, the end of a partition is found by reading until it stays idle
        tansu = settings.broker_kind == "tansu"
        begin = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        start: dict[Any, int | None] = dict(begin)
        stop: dict[Any, int | None] = {tp: (None if tansu else end[tp]) for tp in tps}
        if since is not None:
            found = await consumer.offsets_for_times({tp: int(since * 1000) for tp in tps})
            start = {tp: (o.offset if o is not None and o.timestamp >= 0 else None)
                     for tp, o in found.items()}
        if until is not None and not tansu:
            found = await consumer.offsets_for_times({tp: int(until * 1000) for tp in tps})
            stop = {tp: (o.offset if o is not None else end[tp]) for tp, o in found.items()}
        todo = {tp for tp in tps if start[tp] is not None
                and (stop[tp] is None or start[tp] < stop[tp])}  # type: ignore[operator]
        if on_total is not None and not tansu:
            on_total(sum(max(0, stop[tp] - start[tp]) for tp in todo))  # type: ignore[operator]
        for tp in todo:
            consumer.seek(tp, start[tp])
        until_ms = None if until is None else until * 1000
        values: list[bytes] = []
        stamps: list[float] = []
        idle = 0  # polls in a row that returned nothing at all
        while todo:
            got = await consumer.getmany(*todo, timeout_ms=1000, max_records=batch)
            idle = 0 if any(got.values()) else idle + 1
            for tp in list(todo):
                recs = got.get(tp, [])
                for r in recs:
                    if (stop[tp] is not None and r.offset >= stop[tp]) or (
                            tansu and until_ms is not None and r.timestamp >= until_ms):
                        todo.discard(tp)
                        break
                    values.append(r.value if r.value is not None else b"")
                    stamps.append(r.timestamp / 1000.0)
                if tp not in todo:
                    continue
                if stop[tp] is not None:
                    if await consumer.position(tp) >= stop[tp]:
                        todo.discard(tp)
                elif idle >= 3:  # Tansu: three empty polls in a row = the end
                    todo.discard(tp)
            while len(values) >= batch:
                yield values[:batch], stamps[:batch]
                del values[:batch], stamps[:batch]
        if values:
            yield values, stamps
    finally:
        await consumer.stop()


def print_summary(summary: dict[str, Any]) -> None:
    """The incident table and the dead letters, on stdout."""
    if summary["incidents"]:
        t = Table(title=f"incidents ({len(summary['incidents'])})", show_lines=False)
        for col in ("brand", "id", "opened (UTC)", "resolved", "kinds", "severities",
                    "mentions", "top terms"):
            t.add_column(col, overflow="fold")
        for row in summary_rows(summary):
            t.add_row(*row)
        out_console.print(t)
    else:
        out_console.print("incidents: none" + _too_short(summary))
    b = Table(title="brands")
    for col in ("brand", "mentions", "negative", "late", "incidents"):
        b.add_column(col, justify="right" if col != "brand" else "left")
    for name, v in summary["brands"].items():
        b.add_row(name, f"{v['mentions']:,}", f"{v['negative']:,}", f"{v['late']:,}",
                  str(v["incidents"]))
    out_console.print(b)
    dropped = {k: v["slow_waiting_dropped"] for k, v in summary["brands"].items()
               if v.get("slow_waiting_dropped")}
    if dropped:
        limit = summary["settings"]["detection"]["risks"]["slow_max_waiting"]
        out_console.print(
            "slow answers: awaited mentions dropped, more than "
            f"detection.risks.slow_max_waiting = {limit:,} were waiting (their answers are not "
            "measured): " + ", ".join(f"{k} {v:,}" for k, v in dropped.items()))
    dead = summary["deadletters"]
    out_console.print("dead letters: " + (", ".join(f"{k} {v:,}" for k, v in dead.items())
                                          if dead else "none"))
    blank = summary.get("blank_lines", 0)
    out_console.print(f"{summary['records']:,} records"
                      + (f" (and {blank:,} blank lines, skipped)" if blank else "")
                      + f", {summary['mentions']:,} mentions, "
                      f"{summary['duplicates']:,} duplicates, {summary['late']:,} late, "
                      f"{summary['elapsed_s']:.1f} s ({summary['mentions_per_s']:,.0f}/s)")


def _too_short(summary: dict[str, Any]) -> str:
    """Why no volume or crisis alert, when no brand's history reached ``detection.warmup_s``."""
    warmup = summary["settings"]["detection"]["warmup_s"]
    spans = [v["last_bucket"] - v["first_bucket"] for v in summary["brands"].values()
             if v.get("first_bucket") is not None and v.get("last_bucket") is not None]
    if summary["brands"] and max(spans, default=0) < warmup:
        return (f" (no brand has detection.warmup_s = {warmup:,} s of history here, which "
                "volume and crisis alerts need: replay a longer archive, or --set "
                "detection.warmup_s=...)")
    return ""


def print_diff(diff: dict[str, Any], old_dir: Path) -> None:
    """What-if differences, on stdout."""
    out_console.print(f"[bold]against {old_dir}[/bold]: {len(diff['added'])} added, "
                      f"{len(diff['removed'])} removed, {len(diff['changed'])} changed, "
                      f"{diff['same']} unchanged")
    for i in diff["added"]:
        out_console.print(f"  [green]+ {i['id']}[/green] {'→'.join(i['kinds'])} "
                          f"{i['severity']} opened {i['opened_at']}")
    for i in diff["removed"]:
        out_console.print(f"  [red]- {i['id']}[/red] {'→'.join(i['kinds'])} "
                          f"{i['severity']} opened {i['opened_at']}")
    for c in diff["changed"]:
        fields = "; ".join(f"{k}: {_fmt(v[0])} → {_fmt(v[1])}" for k, v in c["fields"].items())
        out_console.print(f"  [yellow]~ {c['new']['id']}[/yellow] {fields}")


def _fmt(v: Any) -> str:
    return "→".join(v) if isinstance(v, list) else str(v)


def replay(
    archive: Annotated[Optional[Path], typer.Argument(
        help="Archive: .jsonl / .ndjson / .csv, optionally .gz.", exists=True, dir_okay=False)]
    = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (offline mode); a "
        "previous replay's files there are replaced.")]
    = Path("var/replay"),
    force: Annotated[bool, typer.Option(
        "--force", help="Write into a non-empty --out that is not a replay's output (only "
        "veille's own files there are replaced).")] = False,
    adapter: Annotated[str, typer.Option(
        help="Archive shape: auto, mention (veille's own) or airline (Twitter US Airline "
        "Sentiment, Delta→JetBlue).")] = "auto",
    from_topic: Annotated[Optional[str], typer.Option(
        "--from-topic", help="Replay this Kafka topic instead of a file.")] = None,
    since: Annotated[Optional[str], typer.Option(
        help="With --from-topic: first record time, ISO-8601 (UTC if no offset).")] = None,
    until: Annotated[Optional[str], typer.Option(
        help="With --from-topic: records before this time, ISO-8601.")] = None,
    into_kafka: Annotated[bool, typer.Option(
        "--into-kafka", help="Re-publish to the mentions topic for a running worker "
        "instead of replaying offline.")] = False,
    speed: Annotated[float, typer.Option(
        "--speed", "--speedup", min=0, help="--into-kafka pacing: event seconds per wall "
        "second (0 = as fast as possible; --speedup as in simulate and demo).")] = 0.0,
    settings: Annotated[Optional[Path], typer.Option(
        "--settings", "-s", help="TOML settings file (thresholds, brands, bootstrap).",
        exists=True, dir_okay=False)] = None,
    set_: Annotated[list[str], typer.Option(
        "--set", help="Override a setting, repeatable: detection.crisis_score=2 "
        "(value parsed as JSON when it can be).")] = [],  # noqa: B006 - typer wants a list
    scored: Annotated[bool, typer.Option(help="Also write the scored mentions.")] = False,
    compare_to: Annotated[Optional[Path], typer.Option(
        "--compare-to", help="Print added / removed / changed incidents against an earlier "
        "replay's output directory.", exists=True, file_okay=False)] = None,
    batch: Annotated[int, typer.Option(
        min=1, help="Records per engine batch (the worker's).")] = BATCH,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Replay an archive (JSONL, gzip, CSV) or a topic's time range through veille's engine:
    offline into an output directory (then `veille report OUTDIR`), or into Kafka.

    A previous replay's files in --out are replaced (none is left to mix into the report;
    other files stay); a non-empty --out that is not a replay's output needs --force.

    Bad records are dead-lettered with their reason (OUTDIR/deadletters.jsonl) and counted.
    A brand alerts only after `detection.warmup_s` of its history (a day by default); give the
    brands (their own handles above all) with --settings, as the worker has them.

    Examples:

        veille replay sim.jsonl.gz --out var/replay --settings veille.toml
        veille replay sim.jsonl.gz -o var/b --set detection.crisis_score=2 --compare-to var/replay
        veille report var/replay
    """
    if (archive is None) == (from_topic is None):
        console.print("[red]give an archive file or --from-topic TOPIC (one of them)[/red]")
        raise typer.Exit(2)
    s = build_settings(settings, set_)
    for name, value in (("--since", since), ("--until", until)):
        try:
            _time(value)
        except ValueError as exc:
            raise typer.BadParameter(f"{value!r} is not ISO-8601 (2026-01-06T00:00:00Z)",
                                     param_hint=name) from exc
    try:
        arc = Archive(archive, adapter) if archive is not None else None
    except ValueError as exc:  # unknown format or adapter
        console.print(f"[red]archive error:[/red] {exc}")
        raise typer.Exit(2) from exc
    old: list[dict[str, Any]] | None = None
    if compare_to is not None:  # before the replay (which clears --out: it may be the same)
        try:
            old = load_run(compare_to)["summary"]["incidents"]
        except (FileNotFoundError, ValueError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--compare-to") from exc
    if not into_kafka:
        try:
            prepare_outdir(out, force)
        except OutdirError as exc:
            console.print(f"[red]--out:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from exc
    try:
        _replay(s, arc, out, from_topic, since, until, into_kafka, speed, scored, batch, quiet,
                compare_to, old)
    except ArchiveError as exc:  # not gzip, truncated, corrupt: a bad record is dead-lettered
        console.print(f"[red]archive error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _replay(s: Settings, arc: Optional[Archive], out: Path, from_topic: Optional[str],
            since: Optional[str], until: Optional[str], into_kafka: bool, speed: float,
            scored: bool, batch: int, quiet: bool, compare_to: Optional[Path],
            old: Optional[list[dict[str, Any]]]) -> None:
    if into_kafka:
        _into_kafka(s, arc, speed, quiet)
        return
    if from_topic is not None and not s.kafka_bootstrap:
        console.print("[red]no Kafka bootstrap:[/red] set KAFKA_BOOTSTRAP=host:port")
        raise typer.Exit(2)
    source = str(arc.path) if arc else f"kafka:{from_topic}[{since or ''},{until or ''})"
    rep = OfflineReplay(s, out, scored=scored, source=source)
    with _progress("bytes" if arc else "records") as progress:
        progress.disable = quiet
        task = progress.add_task("replay", total=None, n=0, rate=0.0)
        if arc is not None:
            progress.update(task, total=arc.size)

            def tick(n: int) -> None:
                el = progress.tasks[0].elapsed or 1e-9
                progress.update(task, completed=arc.position(), n=n, rate=n / el)

            rep.feed(arc.records(), batch=batch, on_batch=tick)
            rep.blank_lines = arc.blank_lines
            summary = rep.finish()
            progress.update(task, completed=arc.size)
        else:
            try:
                summary = kafka.run(_offline_topic(rep, s, from_topic, _time(since),
                                                   _time(until), batch, progress, task))
            except UnknownTopic as exc:
                raise typer.BadParameter(str(exc), param_hint="--from-topic") from exc
    print_summary(summary)
    if not s.brands:
        console.print("[yellow]note:[/yellow] no brands configured (--settings FILE with "
                      "\\[\\[brands]]): veille does not know the brands' own handles, so their "
                      "own accounts may be reported as impostors and their answers are not "
                      "measured")
    console.print(f"outputs in {out}/ — `veille report {out}` builds the HTML report")
    if compare_to is not None and old is not None:
        diff = compare(old, summary["incidents"])
        (Path(out) / "diff.json").write_bytes(orjson.dumps(
            {"against": str(compare_to), **diff}, option=orjson.OPT_INDENT_2))
        print_diff(diff, compare_to)


async def _offline_topic(rep: OfflineReplay, s: Settings, topic: str, since: float | None,
                         until: float | None, batch: int, progress: Progress, task: Any
                         ) -> dict[str, Any]:
    async for values, stamps in topic_range(
            s, topic, since, until, batch, on_total=lambda n: progress.update(task, total=n)):
        rep.process(values, stamps)
        el = progress.tasks[0].elapsed or 1e-9
        progress.update(task, completed=rep.records, rate=rep.records / el)
    return rep.finish()


def _into_kafka(s: Settings, arc: Optional[Archive], speed: float, quiet: bool) -> None:
    from agents.produce import produce_mentions

    if not s.kafka_bootstrap:
        console.print("[red]no Kafka bootstrap:[/red] set KAFKA_BOOTSTRAP=host:port "
                      "(see `veille broker`)")
        raise typer.Exit(2)
    if arc is None:
        console.print("[red]--into-kafka re-publishes an archive file; to re-run a topic range "
                      "use offline mode (--from-topic without --into-kafka)[/red]")
        raise typer.Exit(2)
    skipped: Counter[str] = Counter()  # reason -> records not sent (the engine's reasons)

    def mentions():
        for obj in arc.dicts():
            if not isinstance(obj, dict):  # the raw line: not JSON, or JSON but not an object
                try:
                    orjson.loads(obj)
                    skipped["not_an_object"] += 1
                except orjson.JSONDecodeError:
                    skipped["invalid_json"] += 1
                continue
            created, brand = obj.get("created_at"), obj.get("brand")
            if not isinstance(created, str) or not isinstance(brand, str) or not brand:
                skipped["missing_field"] += 1  # nothing to key it by, or to pace it by
                continue
            try:
                datetime.fromisoformat(created.replace("Z", "+00:00"))
            except ValueError:
                skipped["wrong_type"] += 1
                continue
            yield obj

    with _progress("bytes") as progress:
        progress.disable = quiet
        task = progress.add_task("replay", total=arc.size, n=0, rate=0.0)

        def tick(n: int, ts: float) -> None:
            if n % 200 == 0:
                el = progress.tasks[0].elapsed or 1e-9
                progress.update(task, completed=arc.position(), n=n, rate=n / el)

        n = kafka.run(produce_mentions(s, mentions(), speedup=speed, on_sent=tick))
        progress.update(task, completed=arc.size, n=n)
    blank = (f" ({arc.blank_lines:,} blank lines skipped)" if arc.blank_lines else "")
    console.print(f"{n:,} mentions published to {s.topics.mentions}{blank}" + (
        f"; {sum(skipped.values()):,} records not sent ("
        + ", ".join(f"{k} {v:,}" for k, v in sorted(skipped.items()))
        + "): without a JSON object with a brand and an ISO-8601 created_at, a record can be "
        "neither keyed nor paced" if skipped else ""))
