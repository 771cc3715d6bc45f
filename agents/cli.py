"""The ``veille`` command line: one command per job, each with ``--help``."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from agents.cli_settings import settings_or_exit

app = typer.Typer(
    name="veille",
    help="veille — real-time watch over a company's Twitter/X presence, on Kafka.\n\n"
    "Try it: `veille demo` (embedded broker, live alerts; Ctrl-C stops it), or offline: "
    "`veille simulate --out sim.jsonl.gz`, then `veille replay sim.jsonl.gz`, then "
    "`veille report var/replay`. Each command has --help.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
console = Console(stderr=True)

SettingsOpt = Annotated[
    Optional[Path],
    typer.Option("--settings", "-s", help="TOML settings file (else $VEILLE_SETTINGS_FILE).",
                 exists=True, dir_okay=False),
]


@app.command()
def broker(
    kind: Annotated[str, typer.Option(help="tansu (embedded, in memory) or kafka (real, KRaft).")]
    = "tansu",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = a free one).")] = 0,
) -> None:
    """Start a broker on loopback and print its bootstrap address; Ctrl-C stops it."""
    from agents.brokers import BrokerError, make_broker

    try:
        b = make_broker(kind, port=port or None)
    except ValueError as exc:  # unknown kind
        raise typer.BadParameter(str(exc), param_hint="--kind") from exc
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # sigwait
    try:
        b.start()
    except BrokerError as exc:  # no jars, no java, port taken, the broker died: say it
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        console.print(f"[red]{b.kind} broker did not start:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    print(b.bootstrap, flush=True)
    console.print(f"[green]{b.kind} broker on {b.bootstrap}[/green] (log: {b.log_path}); Ctrl-C stops it")
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        b.stop()


@app.command()
def worker(
    settings: SettingsOpt = None,
    loglevel: Annotated[str, typer.Option(help="Faust log level: debug, info, warn, error.")]
    = "warn",
) -> None:
    """Run the Faust worker: score mentions, watch brands, publish alerts and /metrics.

    Point it at Kafka with KAFKA_BOOTSTRAP=host:port (or kafka_bootstrap in the settings file).
    Start as many as you like: they share the work by partition (brands are the keys).
    Prometheus metrics on http://127.0.0.1:9464/metrics (metrics_host, metrics_port); one line
    says when it runs. Ctrl-C or SIGTERM stops it gracefully: it commits what it processed
    (exit 0); during startup (nothing assigned yet), or at a second Ctrl-C, it stops at once
    (exit 130; 143 for SIGTERM). No broker answering: exit 2.

    Example:

        KAFKA_BOOTSTRAP=kafka1:9092,kafka2:9092 veille worker --settings veille.toml
    """
    from agents import kafka
    from agents.app import create_app
    from agents.faust_worker import VeilleWorker

    s = settings_or_exit(settings)
    if not s.kafka_bootstrap:
        console.print("[red]no Kafka bootstrap:[/red] set KAFKA_BOOTSTRAP=host:port, "
                      "or run `veille demo` to get an embedded broker")
        raise typer.Exit(2)
    kafka.run(kafka.check_reachable(s))  # no broker: one line and exit 2, not Faust's traceback
    try:
        import uvloop

        uvloop.install()  # mode's worker then runs on uvloop (≈30 % more events/s)
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    s.data_dir.mkdir(parents=True, exist_ok=True)  # Faust makes only the last level
    w = VeilleWorker(create_app(s), loglevel=loglevel, redirect_stdouts=False)
    w.execute_from_commandline()


def _register_optional_commands() -> None:
    """Commands that live in their own modules (kept out of this file)."""
    from agents import check_post_cmd, demo, replay_cmd, report_cmd, simulate_cmd

    app.command(name="demo")(demo.demo)
    app.command(name="simulate")(simulate_cmd.simulate)
    app.command(name="check-post", cls=check_post_cmd.CheckPostCommand)(check_post_cmd.check_post)
    app.command(name="replay")(replay_cmd.replay)
    app.command(name="report")(report_cmd.report)


def main() -> None:
    """Entry point of the ``veille`` script."""
    try:
        _register_optional_commands()
    except KeyboardInterrupt:  # Ctrl-C while the commands load: 130, as Typer exits on it
        raise SystemExit(130) from None
    app()


if __name__ == "__main__":
    main()
