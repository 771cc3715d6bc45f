"""Throughput bench: veille's worker against the transport limit and the bare framework.

Usage::

    .venv/bin/python bench/throughput.py [--broker tansu|kafka] [--events N] [--json]
        [--cpu 1] [--unique] [--workers 1,2,4] [--skip-scale] [--skip-latency] [--skip-bare]
        [--profile DIR] [--nice N]
    .venv/bin/python bench/throughput.py --latency-rate R [--broker kafka] [--nice N]
    .venv/bin/python bench/throughput.py --rss EVERY --events 2000000 [--skip-engine-rss]

``--rss EVERY`` is the memory run instead: the offline engine alone on ``--events`` mentions
at the brands' natural rate (days of event time), then the worker on the same mentions, RSS
printed every ``EVERY`` mentions (and the engine's containers that grew).

One run, one broker (embedded Tansu by default, ``--broker kafka`` for Apache Kafka), the same
``N`` simulated mentions (``pipeline.simulate``: 16 brands, history, then crises on four
brands; ``--unique`` appends a unique word to every text so no cache can help) pre-loaded on an
8-partition topic:

1. **transport**: a raw aiokafka consumer that only fetches and decodes (orjson) the records;
2. **bare Faust**: a Faust agent that only counts them (per event, and with
   ``take_events(500)`` as veille's agent), same Faust settings as the worker, uvloop;
3. **worker**: ``veille worker`` (every detector in ``pipeline.detectors.DETECTORS`` on) from
   first to last scored mention (output record timestamps); RSS sampled as it goes, peak RSS;
   the worker's CPU per mention inside ``Engine.process`` (metric ``veille_engine_seconds``)
   and outside it (the ingestion path: fetch, batching, acks, sends, commits), whose inverse
   is the path's own ceiling in mentions/s on one core, and the CPU by thread (the event
   loop's, Faust's consumer thread's); then the latency from produce to the scored mention
   and to the alert (p50, p99) with mentions produced live at half the sustained rate, on
   their own data (:func:`latency_data`: two waves of crises on all 16 brands, so that tens
   of incident updates are timed; ``alerts_timed`` says how many). An alert is timed from the
   produce time of the mention that made it due to its record timestamp (when the worker
   appended it) and to its arrival at a consumer reading the alerts topic live
   (``*_alert_arrived_ms``: what a downstream service sees); ``latency_worker_load`` is the
   worker's CPU over that phase per wall second (the latency data costs more per mention than
   the throughput data, so half the rate is more than half the load);
4. the ratios worker / bare Faust and worker / transport; parity: the worker's alerts equal the
   offline engine's on the same input; the offline engine's cost split (sentiment share);
5. **scale-out**: 1, 2, 4 worker processes (``--workers``) on the 8-partition topic: mentions/s,
   scaling factor, and distinct alert updates identical to one worker's (an update published
   again after a rebalance, identical, is counted apart: at-least-once).

Every child (transport, bare Faust, worker) is pinned to one core (``--cpu``, default 1) for
one-core figures, except the scale-out workers; the broker is pinned to the other cores. The
machine is shared: figures are noisy; run it several times and take medians. ``--nice N`` runs
the worker phases' worker, broker and producer at nice N (and their scheduler autogroups:
sessions share the CPU first), an approximation of their own cores; without it, others' load
on the same core shows up as latency. ``--latency-rate R`` runs only the latency phase, at R
mentions/s, on a fresh broker.

With ``--json`` the last line is one JSON object: ``{"transport_per_s", "bare_faust_per_s",
"bare_faust_take_per_s", "worker_per_s", "worker_vs_bare", "worker_vs_transport",
"cpu_us_per_mention", "engine_cpu_us_per_mention", "path_us_per_mention",
"path_ceiling_per_s", "bare_faust_cpu_us_per_event", "worker_vs_bare_cpu",
"p50_scored_ms", "p99_scored_ms", "p50_alert_ms", "p99_alert_ms",
"p50_alert_arrived_ms", "p99_alert_arrived_ms", "latency_worker_load", "alerts_timed",
"peak_rss_mb", "rss_mb", "offline_per_s", "sentiment_share", "parity", "scale": {...}}``.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import bisect  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import orjson  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents import kafka  # noqa: E402
from agents.brokers import EmbeddedTansu, LocalKafka, spawn_child  # noqa: E402
from agents.workers import WorkerProcess  # noqa: E402
from pipeline.detectors import DETECTORS  # noqa: E402
from pipeline.engine import Engine  # noqa: E402
from pipeline.sentiment import SentimentModel  # noqa: E402
from pipeline.settings import BrandConfig, Settings  # noqa: E402
from pipeline.simulate import DEMO_BRANDS, SimConfig, generate  # noqa: E402
from pipeline.simulate.brands import profile_for, seasonal_rate  # noqa: E402

CHILD = Path(__file__).resolve().parent / "_throughput_child.py"
CACHE = ROOT / ".cache" / "bench"
START = datetime(2026, 1, 5, tzinfo=timezone.utc)
HOURS = 4.0  # event time the N mentions span (density: ~N / (HOURS * 60 * 16) per brand-bucket)
WARMUP_S = 2 * 3600
CRISES = ["crisis:acme@2.1h*20", "crisis:brand01@2.3h*20", "crisis:brand02@2.5h*20",
          "crisis:brand03@2.65h*20"]
PARTITIONS = 8
LAT_HOURS = 5.5  # latency data: 2 h warm-up, then two waves of crises (see latency_data)
BATCH = 500  # offline engine batch = the worker's batch_size


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ data
def bench_brands() -> list[BrandConfig]:
    return list(DEMO_BRANDS) + [BrandConfig(name=f"brand{i:02d}", handles=[f"brand{i:02d}"])
                                for i in range(1, 14)]


def make_data(n: int, unique: bool, hours: float = HOURS, crises: list[str] = CRISES,
              tag: str = "") -> list[bytes]:
    """``n`` simulated mentions over ``hours`` of event time (orjson bytes), cached in
    .cache/bench/ (``tag`` names a dataset other than the default one; its rate is fitted so
    that the ``n`` mentions cover the ``hours``, crises' extra volume included)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"mentions{tag}-{n}-{int(unique)}-v6.jsonl"
    if path.exists():
        rows = path.read_bytes().split(b"\n")
        if len(rows) == n:
            return rows
    brands = bench_brands()
    # the same volume for every brand, so that 8 partitions can share the load evenly
    profiles = {b.name: replace(profile_for(b), rate_per_min=20.0) for b in brands}
    t0 = START.timestamp()
    ts = np.arange(t0, t0 + hours * 3600, 10.0)
    expected = sum(float(seasonal_rate(p, ts).sum()) * 10.0 for p in profiles.values())
    scale = 1.15 * n / expected  # a margin: the first n are kept
    cfg = SimConfig(start=START, duration_s=hours * 3600, scenarios=crises, brands=brands,
                    profiles=profiles, seed=11, rate_scale=scale)
    if tag:  # the crises add volume the seasonal rate does not count: fit the scale to it
        total = sum(1 for _ in generate(cfg)[0])
        cfg = replace(cfg, rate_scale=scale * 1.02 * n / total)
    mentions, _ = generate(cfg)
    rows = []
    for i, m in enumerate(mentions):
        if len(rows) >= n:
            break
        if unique:
            m["text"] = f"{m['text']} zq{i:x}"
        rows.append(orjson.dumps(m))
    if len(rows) < n:
        raise SystemExit(f"simulator gave {len(rows)} < {n} mentions")
    path.write_bytes(b"\n".join(rows))
    return rows


def latency_data(n: int, unique: bool) -> list[bytes]:
    """The latency phase's mentions: :data:`LAT_HOURS` of event time, two crises on each of
    the 16 brands (staggered; the second after the first's cool-down), so that a few hundred
    incident updates (opened, escalated, deescalated, resolved) are timed, not four."""
    crises = [f"crisis:{b.name}@{at + k * 0.06:.2f}h*25"
              for at in (2.05, 3.5) for k, b in enumerate(bench_brands())]
    return make_data(n, unique, LAT_HOURS, crises, tag="-lat")


def rss_data(n: int) -> Path:
    """``n`` simulated mentions at the bench brands' natural rate (20/min each, so 2 million
    span about 85 hours of event time: days of buckets, daily cycles, a crisis on a rotating
    brand every 3 hours), written to a JSONL file in .cache/bench/ as they are generated."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"rss-{n}-v1.jsonl"
    if path.exists() and path.stat().st_size and _lines(path) == n:
        return path
    brands = bench_brands()
    profiles = {b.name: replace(profile_for(b), rate_per_min=20.0) for b in brands}
    hours = 1.3 * n / (len(brands) * 20 * 60) + 3
    crises = [f"crisis:{brands[k % len(brands)].name}@{2.1 + 3 * k:.2f}h*10"
              for k in range(int((hours - 3) / 3))]
    cfg = SimConfig(start=START, duration_s=hours * 3600, scenarios=crises, brands=brands,
                    profiles=profiles, seed=12)
    mentions, _ = generate(cfg)
    tmp = path.with_suffix(".part")
    written = 0
    with open(tmp, "wb") as fh:
        for m in mentions:
            fh.write(orjson.dumps(m) + b"\n")
            written += 1
            if written >= n:
                break
    if written < n:
        raise SystemExit(f"simulator gave {written} < {n} mentions")
    tmp.rename(path)
    return path


def _lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def settings_for(bootstrap: str, kind: str, run: str, input_topic: str) -> Settings:
    t = f"bench.{run}"
    return Settings(
        kafka_bootstrap=bootstrap, broker_kind=kind, app_id=f"bench-{run}", web_port=0,
        metrics_port=0, brands=bench_brands(), detection={"warmup_s": WARMUP_S},
        topics={"mentions": input_topic, "scored": f"{t}.scored", "alerts": f"{t}.alerts",
                "deadletter": f"{t}.deadletter", "labels": f"{t}.labels",
                "posts_outgoing": f"{t}.posts.outgoing", "posts_reviewed": f"{t}.posts.reviewed",
                "trends": f"{t}.trends", "partitions": PARTITIONS},
        snapshot_every_s=10.0,
    )


# ------------------------------------------------------------------------------ kafka i/o
async def produce(settings: Settings, topic: str, rows: Iterable[bytes], rate: float = 0.0,
                  stamps: list[float] | None = None) -> None:
    """Send rows keyed by brand (as fast as possible, or paced at ``rate``/s); when ``stamps``
    is given, record each row's produce time (also its record timestamp) into it."""
    p = kafka.producer(settings, linger_ms=5 if not rate else 0)
    await p.start()
    try:
        pending = []
        t0 = time.monotonic()
        for i, raw in enumerate(rows):
            if rate:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            key = orjson.loads(raw)["brand"].encode()
            now = time.time()
            if stamps is not None:
                stamps.append(now)
            pending.append(await p.send(topic, raw, key=key, timestamp_ms=int(now * 1000)))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await p.stop()


async def produce_file(settings: Settings, topic: str, path: Path) -> int:
    """Send every line of a JSONL file keyed by brand, as fast as possible (:func:`produce`);
    returns the count."""
    count = 0

    def lines(fh: Any) -> Iterator[bytes]:
        nonlocal count
        for line in fh:
            count += 1
            yield line.rstrip(b"\n")

    with open(path, "rb") as fh:
        await produce(settings, topic, lines(fh))
    return count


async def prime(settings: Settings, topic: str) -> None:
    """One junk record per partition (dead-lettered): tells when every partition is owned."""
    p = kafka.producer(settings)
    await p.start()
    try:
        for part in range(PARTITIONS):
            await p.send_and_wait(topic, b"bench-prime", key=b"prime", partition=part)
    finally:
        await p.stop()


async def read_all(settings: Settings, topic: str, n: int | None = None,
                   idle_s: float = 3.0) -> list:
    """Every record of ``topic`` (until ``n`` are read, or nothing new for ``idle_s``)."""
    from aiokafka import TopicPartition

    c = kafka.consumer(settings, max_partition_fetch_bytes=4 << 20)
    await c.start()
    got: list = []
    try:
        parts = c.partitions_for_topic(topic) or set()
        deadline = time.monotonic() + 10
        while not parts and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            await c._client.force_metadata_update()  # noqa: SLF001
            parts = c.partitions_for_topic(topic) or set()
        if not parts:
            return got
        c.assign([TopicPartition(topic, p) for p in sorted(parts)])
        await c.seek_to_beginning()
        last_new = time.monotonic()
        while (n is None or len(got) < n) and time.monotonic() - last_new < idle_s:
            batch = await c.getmany(timeout_ms=300, max_records=20_000)
            for recs in batch.values():
                got.extend(recs)
                last_new = time.monotonic()
    finally:
        await c.stop()
    return got


# ------------------------------------------------------------------------------ processes
def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of ``pid`` to ``cpus`` (threads made later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_s(pid: int) -> dict[int, float]:
    """CPU seconds per thread of ``pid`` (tid -> user + system)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def run_child(mode: str, bootstrap: str, kind: str, topic: str, n: int, cpu: int | None,
              *extra: str, timeout: float = 600) -> dict:
    out = Path(tempfile.mkdtemp(prefix="veille-bench-")) / "result.json"
    cmd = [sys.executable, str(CHILD), mode, bootstrap, topic, str(n), str(out), "--kind", kind,
           *extra]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    log_path = out.with_suffix(".log")
    with open(log_path, "wb") as fh:
        proc = spawn_child(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"{mode} child timed out; log:\n{log_path.read_text()[-3000:]}")
    if not out.exists():
        raise SystemExit(f"{mode} child failed ({proc.returncode}); log:\n"
                         f"{log_path.read_text()[-3000:]}")
    return orjson.loads(out.read_bytes())


def wait_received(workers: list[WorkerProcess], total: int, timeout: float,
                  on_tick=None, every: float = 0.5) -> float:
    """Poll the workers' /metrics until they received ``total`` records; returns the time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sum(metric(w.metrics(), "veille_mentions_received_total") for w in workers)
        if on_tick is not None:
            on_tick(got)
        if got >= total:
            return time.time()
        time.sleep(every)
    tails = "\n".join(w.tail(15) for w in workers)
    raise SystemExit(f"workers received {got}/{total} after {timeout}s\n{tails}")


def alerts_of(records: list) -> list[dict]:
    key = lambda a: (a["brand"], a["version"], a["id"])  # noqa: E731 - per-brand order
    return sorted((orjson.loads(r.value) for r in records), key=key)


def distinct_updates(alerts: list[dict]) -> list[dict]:
    """Alert updates without identical re-publications (same content), in the same order."""
    seen: set[bytes] = set()
    out = []
    for a in alerts:
        raw = orjson.dumps(a, option=orjson.OPT_SORT_KEYS)
        if raw not in seen:
            seen.add(raw)
            out.append(a)
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


# ------------------------------------------------------------------------------ phases
def offline(rows: list[bytes]) -> dict:
    """The offline engine on the same input (batches of 500): alerts, rate, sentiment share."""
    settings = settings_for("x:1", "auto", "offline", "x")
    engine = Engine(settings)
    alerts = []
    t = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        out = engine.process(rows[i:i + BATCH])
        alerts += [a.model_dump(mode="json") for a in out.alerts]
        for s in out.scored:
            orjson.dumps(s)
    total = time.perf_counter() - t
    # sentiment alone, first pass, on a fresh model (what the engine paid above)
    texts, langs = [], []
    for raw in rows:
        m = orjson.loads(raw)
        texts.append(m["text"])
        langs.append(m.get("lang"))
    model = SentimentModel.default()
    t = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        model.predict_many(texts[i:i + BATCH], langs[i:i + BATCH])
    sent = time.perf_counter() - t
    key = lambda a: (a["brand"], a["version"], a["id"])  # noqa: E731
    return {"alerts": sorted(alerts, key=key), "per_s": len(rows) / total,
            "us_per_mention": total / len(rows) * 1e6,
            "sentiment_us_per_mention": sent / len(rows) * 1e6,
            "sentiment_share": sent / total}


def profile_summary(raw: Path, top: int = 40) -> str:
    """Inclusive share of samples per function from py-spy's raw (collapsed) output."""
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        for fn in {f.split(" (")[0] + " " + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
                   for f in stack.split(";")}:
            incl[fn] = incl.get(fn, 0) + c
    rows = sorted(incl.items(), key=lambda kv: -kv[1])[:top]
    return "\n".join(f"{c / total:6.1%}  {fn}" for fn, c in rows)


def worker_throughput(bootstrap: str, kind: str, topic: str, n: int, cpu: int | None,
                      tmp: Path, profile: Path | None = None, nice: int | None = None,
                      broker_pid: int | None = None) -> dict:
    s = settings_for(bootstrap, kind, f"w{uuid.uuid4().hex[:6]}", topic)
    asyncio.run(kafka.ensure_topics(s))
    w = WorkerProcess(s, tmp / "worker").start(timeout=120)
    samples: list[tuple[float, float]] = []
    spy = None
    cpu0 = cpu_s(w.pid)  # startup (imports, model) left out
    threads0 = thread_cpu_s(w.pid)
    try:
        if cpu is not None:
            pin(w.pid, {cpu})
        if nice is not None:
            renice([w.pid, broker_pid], nice)
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(w.pid),
                 "--rate", "250", "--gil", "--format", "raw", "--output", str(profile / "worker.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        last = [0.0]

        def tick(got: float) -> None:
            if time.monotonic() - last[0] >= 2.0:
                last[0] = time.monotonic()
                samples.append((got, rss_mb(w.pid)))
                log(f"  worker: {int(got):>8} received, RSS {samples[-1][1]:.0f} MB")

        # every 2 s: each /metrics scrape costs the worker CPU (a thread renders every series)
        wait_received([w], n, timeout=max(300, n / 300), on_tick=tick, every=2.0)
        samples.append((n, rss_mb(w.pid)))
        peak = rss_mb(w.pid, "VmHWM")
        engine_s = metric(w.metrics(), "veille_engine_seconds_total")
        worker_cpu = cpu_s(w.pid) - cpu0
        threads = {t: c - threads0.get(t, 0.0) for t, c in thread_cpu_s(w.pid).items()}
        main_cpu = threads.pop(w.pid, 0.0)
    finally:
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        w.stop()
        if nice is not None:
            renice([broker_pid], 0)
    if profile is not None and (profile / "worker.txt").exists():
        summary = profile_summary(profile / "worker.txt")
        (profile / "worker-summary.txt").write_text(summary + "\n")
        log("  profile (py-spy, inclusive share of the worker's samples):\n" + summary)
    scored = asyncio.run(read_all(s, s.topics.scored, n))
    stamps = [r.timestamp / 1000 for r in scored]
    span = max(stamps) - min(stamps)
    alerts = alerts_of(asyncio.run(read_all(s, s.topics.alerts, idle_s=2.0)))
    return {"per_s": (len(scored) - 1) / span, "scored": len(scored), "span_s": span,
            "peak_rss_mb": peak, "rss": samples, "alerts": alerts, "engine_s": engine_s,
            "cpu_s": worker_cpu, "main_thread_cpu_s": main_cpu,
            "other_threads_cpu_s": sorted((c for c in threads.values() if c > 0), reverse=True)}


def series_count(text: str) -> int:
    """Samples in a /metrics page (label cardinality: one line per series and bucket)."""
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def rss_run(broker_kind: str, n: int, every: int, cpu: int | None, tmp: Path,
            skip_engine: bool) -> dict:
    """RSS as events grow: the offline engine alone (a child, no broker), then the worker on
    the same ``n`` mentions (produced as it consumes them), RSS printed every ``every``
    mentions received."""
    path = rss_data(n)
    res: dict = {"events": n, "broker": broker_kind, "mode": "rss"}
    if not skip_engine:
        log(f"offline engine alone on {n} mentions (RSS every {every}) ...")
        eng = run_child("engine", "-", broker_kind, str(path), n, cpu, "--every", str(every),
                        timeout=max(1800, n / 200))
        res["engine_rss_mb"] = eng["rss"]
        res["engine_containers"] = eng["containers"]
        res["engine_per_s"] = round(eng["per_s"])
        for (k, mb) in eng["rss"]:
            log(f"  engine: {int(k):>9} mentions, RSS {mb:.0f} MB")
        for k, sizes in sorted(eng["containers"].items(), key=lambda kv: -kv[1][-1])[:15]:
            log(f"  grew: {k}: {sizes}")
    broker = LocalKafka(fast_start=False) if broker_kind == "kafka" else EmbeddedTansu()
    broker.start(timeout=120)
    keep_off(broker.pid, cpu)
    try:
        s = settings_for(broker.bootstrap, broker.kind, f"rss{uuid.uuid4().hex[:6]}",
                         f"bench.rss{uuid.uuid4().hex[:6]}.in")
        asyncio.run(kafka.ensure_topics(s))
        w = WorkerProcess(s, tmp / "rss-worker").start(timeout=120)
        samples: list[list[float]] = []
        # the mentions are produced while the worker consumes them (no pre-load wait)
        feeder = threading.Thread(
            target=lambda: asyncio.run(produce_file(s, s.topics.mentions, path)), daemon=True)
        feeder.start()
        try:
            if cpu is not None:
                pin(w.pid, {cpu})
            series0 = series_count(w.metrics())
            nxt = [every]
            t0 = time.perf_counter()

            def tick(got: float) -> None:
                if got >= nxt[0]:
                    while nxt[0] <= got:
                        nxt[0] += every
                    samples.append([int(got), round(rss_mb(w.pid), 1)])
                    log(f"  worker: {int(got):>9} received, RSS {samples[-1][1]:.0f} MB, "
                        f"{got / (time.perf_counter() - t0):,.0f}/s")

            wait_received([w], n, timeout=max(600, n / 100), on_tick=tick, every=1.0)
            samples.append([n, round(rss_mb(w.pid), 1)])
            peak = rss_mb(w.pid, "VmHWM")
            text = w.metrics()
            series1 = series_count(text)
            dead = metric(text, "veille_deadletter_total")
        finally:
            w.stop()
    finally:
        broker.cleanup()
    res.update(worker_rss_mb=samples, peak_rss_mb=round(peak, 1), metrics_series=[series0, series1],
               deadlettered=dead)
    half = [mb for k, mb in samples if k >= n // 2]
    res["rss_growth_second_half_mb"] = round(half[-1] - half[0], 1) if half else None
    log(f"worker peak RSS {peak:.0f} MB; RSS over the second half: {half[0]:.0f} -> "
        f"{half[-1]:.0f} MB; /metrics samples {series0} -> {series1}")
    return res


class LiveReader:
    """Reads ``topic`` from its beginning in a thread of its own while the bench runs, noting
    when each record arrives (the wall time a consumer could act on it): ``records`` holds
    ``(arrival, record)``."""

    def __init__(self, settings: Settings, topic: str, fetch_max_wait_ms: int = 10) -> None:
        self.settings, self.topic, self.wait_ms = settings, topic, fetch_max_wait_ms
        self.records: list[tuple[float, Any]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self, timeout: float = 60.0) -> LiveReader:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise SystemExit(f"no partitions for {self.topic} after {timeout}s")
        return self

    def stop(self, idle_s: float = 1.0) -> list[tuple[float, Any]]:
        """Stop once nothing new arrived for ``idle_s``; the records read."""
        n = -1
        while n != len(self.records):
            n = len(self.records)
            time.sleep(idle_s)
        self._stop.set()
        self._thread.join(30)
        return self.records

    async def _run(self) -> None:
        from aiokafka import TopicPartition

        c = kafka.consumer(self.settings, fetch_max_wait_ms=self.wait_ms)
        await c.start()
        try:
            parts = c.partitions_for_topic(self.topic)
            while not parts and not self._stop.is_set():
                await asyncio.sleep(0.2)
                await c._client.force_metadata_update()  # noqa: SLF001 - topic just made
                parts = c.partitions_for_topic(self.topic)
            c.assign([TopicPartition(self.topic, p) for p in sorted(parts or ())])
            await c.seek_to_beginning()
            self._ready.set()
            while not self._stop.is_set():
                batch = await c.getmany(timeout_ms=100)
                now = time.time()
                for recs in batch.values():
                    self.records.extend((now, r) for r in recs)
        finally:
            await c.stop()


def keep_off(pid: int | None, cpu: int | None) -> None:
    """Pin every thread of ``pid`` (the broker) to the cores other than ``cpu`` (the worker's):
    on this machine the broker is not the worker's neighbour on its one core."""
    others = {c for c in os.sched_getaffinity(0) if c != cpu}
    if pid is not None and cpu is not None and others:
        pin(pid, others)


def renice(pgids: Iterable[int | None], nice: int) -> None:
    """Set the nice value of every thread of the process groups ``pgids`` and of the calling
    thread (threads it starts later inherit it), and of their scheduler autogroups: with
    ``kernel.sched_autogroup_enabled`` the CPU is shared between sessions first, whatever the
    threads' nice values. Lowering it needs root."""
    for pgid in pgids:
        if pgid is not None:
            os.setpriority(os.PRIO_PGRP, pgid, nice)
            _autogroup(pgid, nice)
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    _autogroup("self", nice)


def _autogroup(pid: int | str, nice: int) -> None:
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:  # no autogroups (or not allowed): the nice values above still count
        pass


def latency(bootstrap: str, kind: str, rows: list[bytes], rate: float, cpu: int | None,
            tmp: Path, nice: int | None = None, broker_pid: int | None = None) -> dict:
    """Produce ``rows`` live at ``rate``/s; produce -> scored and produce -> alert latencies.

    ``nice`` (``--nice``): the worker, the broker (``broker_pid``'s process group) and this
    bench's producer run at that nice value, an approximation of their own cores on a machine
    shared with other work (the latencies are wall-clock figures)."""
    run = f"lat{uuid.uuid4().hex[:6]}"
    topic = f"bench.{run}.in"
    s = settings_for(bootstrap, kind, run, topic)
    asyncio.run(kafka.ensure_topics(s, [topic]))
    w = WorkerProcess(s, tmp / "latency").start(timeout=120)
    produced: list[float] = []
    try:
        if cpu is not None:
            pin(w.pid, {cpu})
        if nice is not None:
            renice([w.pid, broker_pid], nice)
        asyncio.run(prime(s, topic))
        wait_received([w], PARTITIONS, timeout=120)
        if cpu is not None:
            os.sched_setaffinity(0, {c for c in os.sched_getaffinity(0) if c != cpu} or {0})
        live = LiveReader(s, s.topics.alerts).start()
        cpu0, t0 = cpu_s(w.pid), time.monotonic()
        asyncio.run(produce(s, topic, rows, rate=rate, stamps=produced))
        load = (cpu_s(w.pid) - cpu0) / (time.monotonic() - t0)
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        wait_received([w], len(rows) + PARTITIONS, timeout=300)
        arrived = live.stop()
    finally:
        w.stop()
        if nice is not None:
            renice([broker_pid], 0)
    at = {}
    brand_seq: dict[str, tuple[list[float], list[float]]] = {}
    for raw, t in zip(rows, produced):
        m = orjson.loads(raw)
        at[m["id"]] = t
        ev = datetime.fromisoformat(m["created_at"]).timestamp()
        seq = brand_seq.setdefault(m["brand"], ([], []))
        seq[0].append(ev)
        seq[1].append(t)
    # event times per brand are non-decreasing in the stream, so bisect finds the first
    # mention at or after a time: the one that made a bucket close
    scored = asyncio.run(read_all(s, s.topics.scored, len(rows)))
    sent = [at[orjson.loads(r.value)["mention"]["id"]] for r in scored]
    lat_scored = [r.timestamp / 1000 - t for r, t in zip(scored, sent)]
    # an alert is timed from the produce time of the mention that made it due to the record's
    # timestamp (when the worker appended it) and to its arrival at a consumer reading live
    lat_alert, lat_arrived = [], []
    untimed = 0
    for t_arrived, r in arrived:
        a = orjson.loads(r.value)
        evs, pts = brand_seq[a["brand"]]
        cause = None
        if a["kind"] in ("crisis", "surge", "silence"):  # made due by a bucket close
            due = datetime.fromisoformat(a["updated_at"]).timestamp() + s.detection.allowed_lateness_s
            i = bisect.bisect_left(evs, due)
            if i < len(pts):
                cause = pts[i]
        if cause is None:
            samples = [at[x] for x in a.get("sample_mention_ids", []) if x in at]
            cause = max(samples) if samples else None
        if cause is None:
            untimed += 1
            continue
        lat_alert.append(r.timestamp / 1000 - cause)
        lat_arrived.append(t_arrived - cause)
    ms = lambda v: round(v * 1000, 1)  # noqa: E731
    # produce->scored over the run (tenths of the produce span): a backlog that grows, or
    # spikes at the commit period, shows here
    t_first, span = min(produced), max(produced) - min(produced)
    tenths: list[list[float]] = [[] for _ in range(10)]
    for t, v in zip(sent, lat_scored):
        tenths[min(9, int((t - t_first) / max(span, 1e-9) * 10))].append(v)
    over_time = [[ms(pct(v, 0.5)), ms(pct(v, 0.99))] for v in tenths]
    return {"rate": rate, "scored_p50_p99_by_tenth_ms": over_time, "p50_scored_ms": ms(pct(lat_scored, 0.5)),
            "p99_scored_ms": ms(pct(lat_scored, 0.99)), "max_scored_ms": ms(max(lat_scored)),
            "p50_alert_ms": ms(pct(lat_alert, 0.5)), "p99_alert_ms": ms(pct(lat_alert, 0.99)),
            "max_alert_ms": ms(max(lat_alert)) if lat_alert else None,
            "p50_alert_arrived_ms": ms(pct(lat_arrived, 0.5)),
            "p99_alert_arrived_ms": ms(pct(lat_arrived, 0.99)),
            "alerts_timed": len(lat_alert), "alerts_untimed": untimed,
            "latency_worker_load": round(load, 3)}


def scale_out(bootstrap: str, kind: str, rows: list[bytes], k: int, tmp: Path) -> dict:
    """``k`` workers (not pinned) on a fresh 8-partition topic; rows produced once all own
    their partitions; mentions/s from the first to the last scored record."""
    run = f"s{k}x{uuid.uuid4().hex[:6]}"
    topic = f"bench.{run}.in"
    s = settings_for(bootstrap, kind, run, topic)
    asyncio.run(kafka.ensure_topics(s, [topic]))
    workers = []
    try:
        for i in range(k):
            workers.append(WorkerProcess(s, tmp / f"{run}-{i}"))
        for w in workers:  # start together, so they join one group generation
            w.start(timeout=120)
        asyncio.run(prime(s, topic))
        wait_received(workers, PARTITIONS, timeout=120)
        owned = [metric(w.metrics(), "veille_mentions_received_total") for w in workers]
        asyncio.run(produce(s, topic, rows))
        wait_received(workers, len(rows) + PARTITIONS, timeout=max(300, len(rows) / 200))
        per_worker = [metric(w.metrics(), "veille_mentions_received_total") - o
                      for w, o in zip(workers, owned)]
    finally:
        for w in workers:
            w.stop()
    scored = asyncio.run(read_all(s, s.topics.scored, len(rows)))
    stamps = [r.timestamp / 1000 for r in scored]
    span = max(stamps) - min(stamps)
    alerts = alerts_of(asyncio.run(read_all(s, s.topics.alerts, idle_s=2.0)))
    return {"workers": k, "per_s": (len(scored) - 1) / span, "span_s": span,
            "per_worker": [int(x) for x in per_worker], "alerts": alerts}


def log_latency(lat: dict) -> None:
    log(f"  worker load {lat['latency_worker_load']:.0%} of a core; produce->scored p50 "
        f"{lat['p50_scored_ms']} ms, p99 {lat['p99_scored_ms']} ms; produce->alert (record "
        f"timestamp) p50 {lat['p50_alert_ms']} ms, p99 {lat['p99_alert_ms']} ms; arrived at a "
        f"consumer p50 {lat['p50_alert_arrived_ms']} ms, p99 {lat['p99_alert_arrived_ms']} ms "
        f"({lat['alerts_timed']} alerts timed); scored p50/p99 by tenth of the run: "
        f"{lat['scored_p50_p99_by_tenth_ms']}")


def latency_only(broker_kind: str, n: int, unique: bool, rate: float, cpu: int | None,
                 tmp: Path, nice: int | None = None) -> dict:
    """Only the latency phase (``--latency-rate``): its ``n`` mentions produced live at
    ``rate``/s to a worker on a fresh broker."""
    rows = latency_data(n, unique)
    broker = LocalKafka(fast_start=False) if broker_kind == "kafka" else EmbeddedTansu()
    broker.start(timeout=120)
    keep_off(broker.pid, cpu)
    try:
        lat = latency(broker.bootstrap, broker.kind, rows, rate, cpu, tmp, nice, broker.pid)
    finally:
        broker.cleanup()
    log_latency(lat)
    return {"events": n, "broker": broker_kind, "latency_rate": round(rate),
            **{k: v for k, v in lat.items() if k != "rate"}}


# ------------------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--broker", choices=["tansu", "kafka"], default="tansu")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--cpu", type=int, default=1, help="core for one-core figures (-1: none)")
    ap.add_argument("--unique", action="store_true", help="a unique word in every text")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-offline", action="store_true")
    ap.add_argument("--skip-bare", action="store_true", help="no transport / bare Faust phases")
    ap.add_argument("--profile", type=Path, help="py-spy the worker; raw stacks + summary here")
    ap.add_argument("--rss", type=int, metavar="EVERY", default=0,
                    help="only the memory run: offline engine then worker on --events "
                         "mentions at the natural rate, RSS printed every EVERY mentions")
    ap.add_argument("--skip-engine-rss", action="store_true", help="--rss: worker only")
    ap.add_argument("--nice", type=int, metavar="N",
                    help="worker phases: worker, broker and this bench at nice N (root for N<0), "
                         "an approximation of their own cores on a shared machine")
    ap.add_argument("--latency-rate", type=float, default=0.0, metavar="R",
                    help="only the latency phase, mentions produced live at R/s")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    cpu = None if a.cpu < 0 else a.cpu
    n = a.events
    tmp = Path(tempfile.mkdtemp(prefix="veille-bench-"))
    if a.rss:
        res = rss_run(a.broker, n, a.rss, cpu, tmp, a.skip_engine_rss)
        print(orjson.dumps(res).decode() if a.json else
              "\n".join(f"{k}: {v}" for k, v in res.items()))
        return 0

    if a.latency_rate:
        res = latency_only(a.broker, n, a.unique, a.latency_rate, cpu, tmp, a.nice)
        print(orjson.dumps(res).decode() if a.json else
              "\n".join(f"{k}: {v}" for k, v in res.items()))
        return 0

    log(f"data: {n} simulated mentions{' (unique texts)' if a.unique else ''} ...")
    rows = make_data(n, a.unique)
    log(f"detectors on: {[getattr(f, '__name__', repr(f)) for f in DETECTORS] or 'none registered'}")
    res: dict = {"events": n, "broker": a.broker, "unique_texts": a.unique,
                 "detectors": len(DETECTORS)}
    if not a.skip_offline:
        log("offline engine (parity reference, cost split) ...")
        off = offline(rows)
        res.update(offline_per_s=round(off["per_s"]),
                   offline_us_per_mention=round(off["us_per_mention"], 1),
                   sentiment_us_per_mention=round(off["sentiment_us_per_mention"], 1),
                   sentiment_share=round(off["sentiment_share"], 3))
        log(f"  offline engine: {off['per_s']:.0f}/s ({off['us_per_mention']:.1f} µs/mention); "
            f"sentiment first pass {off['sentiment_us_per_mention']:.1f} µs/mention = "
            f"{off['sentiment_share']:.0%} of it; {len(off['alerts'])} alerts")

    broker = LocalKafka(fast_start=False) if a.broker == "kafka" else EmbeddedTansu()
    broker.start(timeout=120)
    keep_off(broker.pid, cpu)
    try:
        boot = broker.bootstrap
        topic = "bench.mentions"
        s0 = settings_for(boot, broker.kind, "load", topic)
        asyncio.run(kafka.ensure_topics(s0, [topic]))
        t = time.perf_counter()
        asyncio.run(produce(s0, topic, rows))
        log(f"pre-loaded {n} on {broker.kind} in {time.perf_counter() - t:.1f}s")

        tr = bf = bt = {"per_s": float("nan")}
        if not a.skip_bare:
            tr = run_child("transport", boot, broker.kind, topic, n, cpu)
            res["transport_per_s"] = round(tr["per_s"])
            log(f"transport (aiokafka fetch + orjson): {tr['per_s']:,.0f}/s")
            bf = run_child("faust", boot, broker.kind, topic, n, cpu)
            res["bare_faust_per_s"] = round(bf["per_s"])
            log(f"bare Faust (count per event, uvloop): {bf['per_s']:,.0f}/s")
            bt = run_child("faust", boot, broker.kind, topic, n, cpu, "--take", str(BATCH))
            res["bare_faust_take_per_s"] = round(bt["per_s"])
            log(f"bare Faust (count, take_events({BATCH}), uvloop): {bt['per_s']:,.0f}/s")

        log("veille worker on the pre-loaded mentions ...")
        wk = worker_throughput(boot, broker.kind, topic, n, cpu, tmp, a.profile, a.nice,
                               broker.pid)
        res.update(worker_per_s=round(wk["per_s"]), peak_rss_mb=round(wk["peak_rss_mb"], 1),
                   rss_mb=[[int(g), round(r, 1)] for g, r in wk["rss"]],
                   worker_vs_bare=round(wk["per_s"] / bf["per_s"], 3),
                   worker_vs_bare_take=round(wk["per_s"] / bt["per_s"], 3),
                   worker_vs_transport=round(wk["per_s"] / tr["per_s"], 4))
        # CPU (shared machine: wall time mixes in other people's load): the worker's CPU per
        # mention, inside Engine.process and outside it (fetch, batching, acks, output
        # encoding and sends, metrics, commits, snapshots): the ingestion path's own cost; its
        # inverse is the rate one core allows the worker if the engine cost nothing
        outside = max(wk["cpu_s"] - wk["engine_s"], 1e-9)
        res.update(cpu_us_per_mention=round(wk["cpu_s"] / n * 1e6, 1),
                   engine_cpu_us_per_mention=round(wk["engine_s"] / n * 1e6, 1),
                   path_us_per_mention=round(outside / n * 1e6, 1),
                   path_ceiling_per_s=round(n / outside))
        if "per_cpu_s" in bf:  # the same comparison in CPU time (robust to others' load)
            res["bare_faust_cpu_us_per_event"] = round(1e6 / bf["per_cpu_s"], 1)
            res["worker_vs_bare_cpu"] = round(
                res["bare_faust_cpu_us_per_event"] / res["cpu_us_per_mention"], 3)
            log(f"  bare Faust {res['bare_faust_cpu_us_per_event']} CPU µs/event: worker "
                f"x{res['worker_vs_bare_cpu']} bare Faust in CPU time")
        others = wk["other_threads_cpu_s"]
        res.update(main_thread_us_per_mention=round(wk["main_thread_cpu_s"] / n * 1e6, 1),
                   other_threads_us_per_mention=[round(c / n * 1e6, 1) for c in others[:4]])
        log(f"  by thread, CPU µs/mention: main (event loop, engine) "
            f"{res['main_thread_us_per_mention']}, others (Faust's consumer thread, ...) "
            f"{res['other_threads_us_per_mention']}")
        log(f"  worker CPU {res['cpu_us_per_mention']} µs/mention: engine "
            f"{res['engine_cpu_us_per_mention']}, outside the engine "
            f"{res['path_us_per_mention']} (path ceiling {res['path_ceiling_per_s']:,}/s)")
        log(f"worker: {wk['per_s']:,.0f} mentions/s ({wk['scored']} scored in "
            f"{wk['span_s']:.1f}s), peak RSS {wk['peak_rss_mb']:.0f} MB; "
            f"x{res['worker_vs_bare']} bare Faust, x{res['worker_vs_transport']} transport")
        if not a.skip_offline:
            res["parity"] = wk["alerts"] == off["alerts"]
            log(f"  alerts: worker {len(wk['alerts'])}, offline {len(off['alerts'])}, "
                f"identical: {res['parity']}")

        if not a.skip_latency:
            rate = wk["per_s"] / 2
            log(f"latency at half load ({rate:,.0f} mentions/s produced live) ...")
            lat = latency(boot, broker.kind, latency_data(n, a.unique), rate, cpu, tmp, a.nice,
                          broker.pid)
            res.update({k: v for k, v in lat.items() if k != "rate"}, latency_rate=round(rate))
            log_latency(lat)

        if not a.skip_scale:
            ks = [int(x) for x in a.workers.split(",")]
            scale = {}
            base = None
            for k in ks:
                log(f"scale-out: {k} worker(s) ...")
                sc = scale_out(boot, broker.kind, rows, k, tmp)
                if base is None:
                    base = sc
                # at-least-once: a rebalance may publish an identical update again (consumers
                # dedup by (id, version)); the distinct updates must be the same
                distinct = distinct_updates(sc["alerts"])
                same = distinct == distinct_updates(base["alerts"])
                dups = len(sc["alerts"]) - len(distinct)
                scale[str(k)] = {"per_s": round(sc["per_s"]), "per_worker": sc["per_worker"],
                                 "factor": round(sc["per_s"] / base["per_s"], 2),
                                 "alerts": len(distinct), "alerts_identical": same,
                                 "republished_updates": dups}
                log(f"  {k} worker(s): {sc['per_s']:,.0f}/s (x{scale[str(k)]['factor']}), "
                    f"per worker {sc['per_worker']}, alerts identical to 1 worker: {same} "
                    f"({dups} identical update(s) published again)")
            res["scale"] = scale
            res["scale_cores"] = os.cpu_count()
    finally:
        broker.cleanup()
    if a.json:
        print(orjson.dumps(res).decode())
    else:
        for k, v in res.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
