"""``veille demo``: embedded broker + worker + simulated brands, live alerts in the terminal."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from agents import kafka
from agents.produce import produce_mentions
from agents.workers import WorkerProcess
from agents.cli_settings import settings_or_exit
from pipeline.settings import Settings
from pipeline.simulate import SimConfig, demo_config, generate
from pipeline.simulate.brands import DEMO_BRANDS

console = Console()
SEVERITY_STYLE = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "red",
                  "critical": "bold white on red"}
#: The demo's brands learn for an hour of event time before they may alert (2 h of history).
DEMO_WARMUP_S = 3600


class DemoState:
    """What the terminal shows."""

    def __init__(self) -> None:
        self.produced = 0
        self.event_time: float | None = None
        self.alerts: list[dict] = []
        self.started = time.monotonic()
        self.crisis_seen_at: float | None = None

    def render(self, bootstrap: str, metrics_url: str) -> Group:
        table = Table(title="veille.alerts (latest first)", expand=True)
        for col, kw in (("event time", {"no_wrap": True}), ("brand", {}), ("kind", {}),
                        ("severity", {}), ("update", {}), ("summary", {"ratio": 1})):
            table.add_column(col, **kw)
        for a in reversed(self.alerts[-12:]):
            style = SEVERITY_STYLE.get(a["severity"], "")
            table.add_row(a["updated_at"][11:16], a["brand"], a["kind"],
                          f"[{style}]{a['severity']}[/{style}]", a["update"], a["summary"])
        et = (datetime.fromtimestamp(self.event_time, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
              if self.event_time else "—")
        head = (f"broker [bold]{bootstrap}[/bold]  ·  metrics {metrics_url}  ·  "
                f"event time [bold]{et}[/bold]  ·  mentions sent {self.produced:,}  ·  "
                f"alerts {len(self.alerts)}  ·  wall {time.monotonic() - self.started:,.0f}s"
                "\n[dim]Ctrl-C stops everything.[/dim]")
        return Group(Panel(head, title="veille demo"), table)


async def _produce(settings: Settings, cfg: SimConfig, speedup: float, state: DemoState,
                   stop: asyncio.Event) -> None:
    mentions, _truth = generate(cfg)

    def sent(n: int, ts: float) -> None:
        state.produced, state.event_time = n, ts

    await produce_mentions(settings, mentions, speedup=speedup, live_from=cfg.live_from_ts,
                           stop=stop, on_sent=sent)


async def _watch_alerts(settings: Settings, state: DemoState, stop: asyncio.Event) -> None:
    consumer = kafka.consumer(settings, settings.topics.alerts)
    await kafka.start(consumer, settings)
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for r in records:
                    a = orjson.loads(r.value)
                    state.alerts.append(a)
                    if a["kind"] == "crisis" and state.crisis_seen_at is None:
                        state.crisis_seen_at = time.monotonic() - state.started
    finally:
        await consumer.stop()


async def _run(settings: Settings, cfg: SimConfig, speedup: float, duration: float,
               metrics_url: str, stop_on_crisis: bool) -> DemoState:
    state = DemoState()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await kafka.ensure_topics(settings)
    tasks = [asyncio.create_task(_produce(settings, cfg, speedup, state, stop)),
             asyncio.create_task(_watch_alerts(settings, state, stop))]
    with Live(state.render(settings.kafka_bootstrap, metrics_url), console=console,
              refresh_per_second=4, transient=False) as live:
        while not stop.is_set():
            await asyncio.sleep(0.25)
            live.update(state.render(settings.kafka_bootstrap, metrics_url))
            if duration and time.monotonic() - state.started >= duration:
                stop.set()
            if stop_on_crisis and state.crisis_seen_at is not None:
                stop.set()
            for t in tasks:
                if t.done() and t.exception() is not None:
                    stop.set()
    if not console.is_terminal:  # piped (CI): Live's last render ends without a newline
        console.line()
    for t in tasks:
        t.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError):
            console.print(f"[red]demo task failed:[/red] {r!r}")
    return state


def demo(
    settings: Annotated[Optional[Path], typer.Option(
        "--settings", "-s", help="TOML settings file (else $VEILLE_SETTINGS_FILE).",
        exists=True, dir_okay=False)] = None,
    speedup: Annotated[float, typer.Option(
        min=0, help="Event seconds per wall second (0 = as fast as possible).")] = 60.0,
    duration: Annotated[float, typer.Option(
        min=0, help="Stop after this many wall seconds (0 = Ctrl-C).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 0,
    expect_crisis: Annotated[bool, typer.Option(
        help="Exit 1 unless a crisis alert arrives; stop as soon as one does (for CI).")] = False,
) -> None:
    """Start an embedded broker, a worker and a simulated stream; show live alerts.

    Three brands (acme, nordair, globex; French and English) get two hours of history, then
    a live stream at SPEEDUP× with a scripted crisis on acme about 20 event minutes in (its
    alert about 25 wall seconds after the start at 60×). With KAFKA_BOOTSTRAP set, the demo
    uses that cluster instead of starting a broker.
    """
    from agents.brokers import EmbeddedTansu, free_port, port_is_free

    s = settings_or_exit(settings)
    broker = None
    overrides: dict = {}
    if not s.kafka_bootstrap:
        console.print("starting the embedded broker (Tansu)…")
        broker = EmbeddedTansu().start()
        overrides.update(kafka_bootstrap=broker.bootstrap, broker_kind="tansu")
    if not s.brands:
        overrides["brands"] = list(DEMO_BRANDS)
    if s.metrics_port == 0 or not port_is_free(s.metrics_port):
        overrides["metrics_port"] = free_port()  # another worker has the default: pick one
    detection = s.detection.model_copy(update={"warmup_s": min(s.detection.warmup_s, DEMO_WARMUP_S)})
    overrides["detection"] = detection
    s = s.model_copy(update=overrides)
    cfg = demo_config(seed=seed, speedup=speedup)
    worker = WorkerProcess(s)
    code = 0
    try:
        if broker is None:  # the user's cluster: say so now if it does not answer
            kafka.run(kafka.ensure_topics(s))
        console.print("starting the worker…")
        worker.start()
        state = kafka.run(_run(s, cfg, speedup, duration, worker.metrics_url, expect_crisis))
        if state.crisis_seen_at is not None:
            console.print(f"[bold green]crisis alert after {state.crisis_seen_at:.0f} s of "
                          "demo time[/bold green]")
        elif expect_crisis:
            console.print("[red]no crisis alert arrived[/red]; worker log tail:\n" + worker.tail())
            code = 1
    finally:
        console.print("stopping the worker and the broker…")
        worker.stop()
        if broker is not None:
            broker.stop()
    raise typer.Exit(code)
