"""Chaos harness: a sequence-numbered mention source, fault scenarios and a verifier.

The source (:func:`generate`) is the synthetic stream of :mod:`tests.support.streams` renumbered
so that mention ids are ``<brand>-<seq>`` with ``seq`` increasing in each brand's stream order
(Flink's sequence-numbered source). After a scenario, :func:`verify` reads every topic back and
reports per brand:

* **lost**: sequence numbers produced but neither scored nor dead-lettered (must be 0);
* **duplicated**: sequence numbers scored more than once (allowed under at-least-once: replays
  after a crash re-publish identical outputs; must be 0 for read-committed under exactly_once);
* **reordered**: first deliveries whose sequence number is lower than an earlier one's;
* **state**: the brand's last snapshot in the ``brand-state`` changelog equals the state an
  offline :class:`~pipeline.engine.Engine` reaches on the same topic (an exact recount);
* incidents: alert updates with the same ``(id, version)`` must be identical, an incident id
  the offline run does not have is an incident *opened twice* (or spuriously), and every update
  of the offline run must have been published (none dropped).

Scenarios (:data:`SCENARIOS`) run a real ``veille worker`` process (:class:`WorkerProcess`)
against a broker and inject one kind of fault; ``bench/chaos.py`` runs them all and
``tests/chaos/test_chaos.py`` runs them in the suite.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from agents import kafka
from agents.produce import produce_mentions
from agents.snapshots import decode_snapshot
from agents.workers import WorkerProcess
from pipeline.engine import Engine
from pipeline.settings import BrandConfig, Settings
from tests.support.kafka_io import send_values
from tests.support.streams import stream

#: Keyed onto three different partitions of four (murmur2: acme 0, vela 1, nordair 2), so
#: whichever two partitions a worker of two owns, it owns at least one brand.
BRANDS = ("acme", "nordair", "vela")
BAD = [b"{not json", b"\xff\xfe", b"[1,2]", orjson.dumps({"id": "x", "brand": "acme"})]


# ------------------------------------------------------------------------------ source
def generate(hours: float = 11.0, per_min: float = 6.0, seed: int = 7) -> list[dict]:
    """Mentions of :data:`BRANDS` (an angry burst on ``acme`` at 10 h), ids ``brand-seq``."""
    out: list[dict] = []
    for i, brand in enumerate(BRANDS):
        bursts = [(hours - 1.0, 30, 40, "angry")] if brand == "acme" else []
        for seq, m in enumerate(stream(brand, hours, per_min, seed=seed + i, bursts=bursts)):
            m["id"] = f"{brand}-{seq:07d}"
            out.append(m)
    out.sort(key=lambda m: m["created_at"])
    return out


def seq_of(mention_id: str) -> tuple[str, int] | None:
    brand, _, seq = mention_id.rpartition("-")
    return (brand, int(seq)) if seq.isdigit() else None


def chaos_settings(bootstrap: str, kind: str, name: str, **kw: Any) -> Settings:
    """Worker settings for one scenario: unique app id and topics, snapshots every second."""
    tag = f"{name}-{uuid.uuid4().hex[:6]}"
    topics = {f: f"chaos.{tag}.{f}" for f in (
        "mentions", "scored", "alerts", "deadletter", "labels", "posts_outgoing",
        "posts_reviewed", "trends")}
    return Settings(
        kafka_bootstrap=bootstrap, broker_kind=kind, app_id=f"veille-chaos-{tag}",
        brands=[BrandConfig(name="acme", handles=["acme"]), BrandConfig(name="nordair"),
                BrandConfig(name="vela")],
        detection={"warmup_s": 6 * 3600}, topics={**topics, "partitions": 4},
        snapshot_every_s=1.0, metrics_port=0, **kw)


# ------------------------------------------------------------------------------ reading
async def read_all(settings: Settings, topic: str, *, committed_only: bool = False,
                   stall_s: float = 60.0) -> list[Any]:
    """Every record of ``topic`` up to its current end, in partition order.

    Raises TimeoutError when the read stops making progress for ``stall_s`` seconds: a partial
    read would show as lost mentions or a state mismatch (no fixed deadline: a loaded machine
    reads slowly, not wrongly).
    """
    c = kafka.consumer(settings, isolation_level="read_committed" if committed_only
                       else "read_uncommitted")
    await c.start()
    try:
        parts = await _partitions(c, topic, time.monotonic() + stall_s)
        tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
        if not tps:
            return []
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        end = await c.end_offsets(tps)
        got: list[Any] = []
        moved = time.monotonic()
        while True:
            pos = {tp: await c.position(tp) for tp in tps}
            if all(pos[tp] >= end[tp] for tp in tps):
                break
            if time.monotonic() - moved > stall_s:
                raise TimeoutError(f"reading {topic}: no progress for {stall_s:.0f}s after "
                                   f"{len(got)} records (position {pos}, end {end})")
            batch = await c.getmany(*tps, timeout_ms=300)
            if batch:
                moved = time.monotonic()
            for recs in batch.values():
                got.extend(recs)
        got.sort(key=lambda r: (r.partition, r.offset))
        return got
    finally:
        await c.stop()


async def _partitions(c: Any, topic: str, deadline: float) -> set[int]:
    """Partition ids of ``topic`` (an unsubscribed consumer's metadata does not list them)."""
    while True:
        await c._client._metadata_update(c._client.cluster, [topic])
        parts = c._client.cluster.partitions_for_topic(topic)
        if parts or time.monotonic() > deadline:
            return set(parts or ())
        await asyncio.sleep(0.3)


async def group_progress(settings: Settings) -> tuple[int, int]:
    """(committed, end) offsets summed over the mentions topic for the worker's group (end
    read after committed: ``end - committed`` is never below the lag at the first read)."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs(settings))
    await admin.start()
    c = kafka.consumer(settings)
    await c.start()
    try:
        topic = settings.topics.mentions
        parts = await _partitions(c, topic, time.monotonic() + 10)
        tps = [TopicPartition(topic, p) for p in parts]
        # committed first: read after them, the end offsets bound them (a lag read the other
        # way round could come out too low, even negative, if the workers committed in between)
        committed = await admin.list_consumer_group_offsets(settings.app_id)
        end = await c.end_offsets(tps) if tps else {}
        done = sum(max(0, committed[tp].offset) for tp in tps if tp in committed)
        return done, sum(end.values())
    finally:
        await c.stop()
        await admin.close()


def wait_caught_up(settings: Settings, workers: list[WorkerProcess], *, stall_s: float = 150.0,
                   limit_s: float = 900.0) -> float:
    """Block until the group committed every mention; return the seconds it took.

    Bounded by progress, not by a fixed time: TimeoutError when the committed offsets stop
    advancing for ``stall_s`` seconds (more than a session timeout plus a rebalance and the
    table recovery, on a loaded machine), or after ``limit_s`` in all; RuntimeError when a
    worker dies.
    """
    t0 = moved = time.monotonic()
    last: tuple[int, int] | str = (-1, -1)
    best = -1
    while time.monotonic() - moved < stall_s and time.monotonic() - t0 < limit_s:
        for w in workers:
            if not w.running():
                raise RuntimeError(f"worker died; log:\n{w.tail()}")
        try:
            last = asyncio.run(group_progress(settings))
        except Exception as exc:  # noqa: BLE001 - broker briefly unavailable: ask again
            last = repr(exc)
        else:
            if last[1] and last[0] >= last[1]:
                return time.monotonic() - t0
            if last[0] > best:
                best, moved = last[0], time.monotonic()
        time.sleep(1.0)
    logs = "\n".join(w.tail(30) for w in workers)
    raise TimeoutError(f"not caught up: no commit progress for {stall_s:.0f}s or over "
                       f"{limit_s:.0f}s in all, after {time.monotonic() - t0:.0f}s "
                       f"(committed, end)={last}\n{logs}")


def received(worker: WorkerProcess) -> float:
    """Mention records this worker process has taken through its engine (its /metrics)."""
    for family in text_string_to_metric_families(worker.metrics()):
        if family.name == "veille_mentions_received":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def wait_received(worker: WorkerProcess, n: float, stall_s: float = 120.0) -> float:
    """Block until ``worker`` has processed ``n`` mention records; return how many it has.

    TimeoutError when its count stops advancing for ``stall_s`` seconds (start-up, a
    rebalance and the labels catch-up included), RuntimeError when it dies.
    """
    moved, got = time.monotonic(), -1.0
    while True:
        if not worker.running():
            raise RuntimeError(f"worker died before processing {n:.0f}; log:\n{worker.tail()}")
        try:
            now = received(worker)
        except OSError:  # /metrics briefly slow under load: ask again
            now = got
        if now >= n:
            return now
        if now > got:
            got, moved = now, time.monotonic()
        elif time.monotonic() - moved > stall_s:
            raise TimeoutError(f"worker processed {got:.0f} < {n:.0f} mentions, no progress "
                               f"for {stall_s:.0f}s; log:\n{worker.tail()}")
        time.sleep(0.1)


# ------------------------------------------------------------------------------ verifying
@dataclass
class Report:
    """What :func:`verify` found (see the module docstring)."""

    name: str
    events: int
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    duplicated_incidents: int = 0
    conflicting_updates: int = 0
    missing_updates: int = 0
    state_mismatch: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not (self.lost or self.duplicated_incidents or self.conflicting_updates
                    or self.missing_updates or self.state_mismatch
                    or self.notes.get("failure"))

    def row(self) -> dict[str, Any]:
        return {"name": self.name, "events": self.events, "lost": self.lost,
                "duplicated_incidents": self.duplicated_incidents, "passed": self.passed,
                "duplicated_outputs": self.duplicated, "reordered": self.reordered,
                "conflicting_updates": self.conflicting_updates,
                "missing_updates": self.missing_updates, "state_mismatch": self.state_mismatch,
                **self.notes}


def offline_run(settings: Settings, records: list[Any]) -> Engine:
    """The offline recount: the same engine over the topic, each partition in order."""
    engine = Engine(settings)
    by_part: dict[int, list[Any]] = defaultdict(list)
    for r in records:
        by_part[r.partition].append(r)
    alerts = []
    for p in sorted(by_part):
        recs = by_part[p]
        for i in range(0, len(recs), 500):
            chunk = recs[i:i + 500]
            out = engine.process([r.value for r in chunk], [r.timestamp / 1000 for r in chunk])
            alerts += [a.model_dump(mode="json") for a in out.alerts]
    engine.alerts = alerts  # type: ignore[attr-defined]
    return engine


def _norm(x: Any) -> Any:
    return orjson.loads(orjson.dumps(x))


def verify(settings: Settings, name: str, sent_ids: list[str], *,
           committed_only: bool = False) -> Report:
    """Read every topic back and compare with the source and an offline recount."""
    t = settings.topics
    source = asyncio.run(read_all(settings, t.mentions))
    scored = asyncio.run(read_all(settings, t.scored, committed_only=committed_only))
    dead = asyncio.run(read_all(settings, t.deadletter, committed_only=committed_only))
    alerts = asyncio.run(read_all(settings, t.alerts, committed_only=committed_only))
    changelog = asyncio.run(read_all(settings, f"{settings.app_id}-brand-state-changelog"))
    rep = Report(name, len(source))

    # every mention accounted for; duplicates and order of first deliveries
    seen: Counter[str] = Counter()
    last_seq: dict[str, int] = {}
    for r in scored:
        mid = orjson.loads(r.value)["mention"]["id"]
        seen[mid] += 1
        s = seq_of(mid)
        if seen[mid] == 1 and s is not None:
            if s[1] < last_seq.get(s[0], -1):
                rep.reordered += 1
            last_seq[s[0]] = max(s[1], last_seq.get(s[0], -1))
    dead_values = Counter(r.value for r in dead)
    rep.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    rep.lost = sum(1 for i in sent_ids if i not in seen)
    source_bad = Counter(r.value for r in source if r.value in BAD)
    rep.lost += sum(max(0, n - dead_values.get(v, 0)) for v, n in source_bad.items())

    # incidents
    offline = offline_run(settings, source)
    live: dict[tuple[str, int], Any] = {}
    for r in alerts:
        a = orjson.loads(r.value)
        key = (a["id"], a["version"])
        if key in live and live[key] != a:
            rep.conflicting_updates += 1
        live.setdefault(key, a)
    expected = {(a["id"], a["version"]): _norm(a) for a in offline.alerts}
    rep.duplicated_incidents = len({i for i, _ in live} - {i for i, _ in expected})
    rep.missing_updates = sum(1 for k in expected if k not in live)
    rep.conflicting_updates += sum(1 for k, a in expected.items() if k in live and live[k] != a)
    rep.notes["alert_updates"] = len(expected)
    rep.notes["incidents"] = len({i for i, _ in expected})

    # state: last snapshot per brand vs the offline recount
    snaps: dict[str, dict[str, Any]] = {}
    for r in changelog:
        if r.value is not None:
            snaps[r.key.decode()] = decode_snapshot(r.value)[2]
    for brand, watch in offline.watches.items():
        got = snaps.get(brand)
        if got is None or _norm(got) != _norm(watch.to_state()):
            diff = sorted(k for k in _norm(watch.to_state())
                          if got is None or _norm(got).get(k) != _norm(watch.to_state())[k])
            rep.state_mismatch.append(f"{brand}: {diff[:6]}")
    return rep


# ------------------------------------------------------------------------------ faults
class Producer:
    """Produce the source in the background at ``rate`` mentions/s (a thread with its loop).

    ``holds``: indices of ``mentions`` where the stream waits for the scenario. From
    ``mentions[i]`` on, it only trickles (``slow_rate`` mentions/s) until :meth:`release`
    ``(i)``; then it goes on at ``rate``. A scenario holds back part of its stream until its
    faults are done, so that a fault waiting for a worker's progress never waits for input
    that was all produced (and processed) while a worker was starting on a loaded machine: the
    stream ends after the faults, not after a fixed time. The trickle keeps input arriving
    meanwhile (mid-stream, every partition's worker has some to process).
    """

    def __init__(self, settings: Settings, mentions: list[dict], rate: float,
                 holds: tuple[int, ...] = (), slow_rate: float = 20.0) -> None:
        self.settings, self.mentions, self.rate = settings, mentions, rate
        self.slow_rate = slow_rate
        self.sent = 0
        self.error: BaseException | None = None
        self._holds = {i: threading.Event() for i in holds}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._stream())
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    async def _stream(self) -> None:
        """Send the mentions: at ``rate`` up to the next hold, at ``slow_rate`` past one not
        released yet (until it is)."""
        n = len(self.mentions)
        while self.sent < n:
            base = self.sent
            held = [ev for i, ev in self._holds.items() if i <= base and not ev.is_set()]
            stop: asyncio.Event | None = None
            watch: asyncio.Future | None = None
            if held:  # trickle until released
                rate, end, stop = self.slow_rate, n, asyncio.Event()
                watch = asyncio.ensure_future(_set_when(held[0], stop))
            else:  # at rate, up to the next hold
                rate = self.rate
                end = min([i for i, ev in self._holds.items() if i > base and not ev.is_set()],
                          default=n)
            try:
                sent = await produce_mentions(
                    self.settings, self.mentions[base:end], rate=rate, stop=stop,
                    on_sent=lambda k, _ts: setattr(self, "sent", base + k))
            finally:
                if watch is not None:
                    watch.cancel()
            self.sent = base + sent

    def start(self) -> Producer:
        self._thread.start()
        return self

    def release(self, hold: int) -> None:
        """Let the stream go on at ``rate`` past ``hold`` (one of ``holds``)."""
        self._holds[hold].set()

    @property
    def unsent(self) -> int:
        """Mentions not sent yet (input still to come)."""
        return len(self.mentions) - self.sent

    def wait_sent(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.sent < n and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.1)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("producer still running")
        if self.error is not None:
            raise self.error


async def _set_when(released: threading.Event, stop: asyncio.Event) -> None:
    """Set ``stop`` once ``released`` is (polled: it is set from another thread)."""
    while not released.is_set():
        await asyncio.sleep(0.05)
    stop.set()


def rss_kb(pid: int) -> int:
    """Resident set size of a process, in kB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Run:
    """One scenario's context: settings, source, workers started (all stopped at the end)."""

    broker: Any
    settings: Settings
    workdir: Path
    mentions: list[dict]
    workers: list[WorkerProcess] = field(default_factory=list)
    log: Callable[[str], None] = print
    #: one row per injected fault: what, mentions the worker had processed, lag left after it
    faults: list[dict[str, Any]] = field(default_factory=list)

    def worker(self) -> WorkerProcess:
        w = WorkerProcess(self.settings, self.workdir / f"w{len(self.workers)}")
        self.workers.append(w)
        return w.start(timeout=120)

    def setup(self) -> None:
        asyncio.run(kafka.ensure_topics(self.settings))
        asyncio.run(send_values(self.settings, self.settings.topics.mentions, BAD))

    def close(self) -> None:
        for w in self.workers:
            w.kill()

    def finish(self, name: str, committed_only: bool = False) -> Report:
        live = [w for w in self.workers if w.running()]
        took = wait_caught_up(self.settings, live)
        self.log(f"  {name}: caught up {took:.1f}s after the faults")
        rep = verify(self.settings, name, [m["id"] for m in self.mentions],
                     committed_only=committed_only)
        rep.notes["catch_up_s"] = round(took, 1)
        if self.faults:
            rep.notes["faults"] = self.faults
        # a fault left work undone: a lag after it, input still to come (the scenario held
        # its stream back until the fault), or (a graceful stop finishes what it has fetched)
        # the worker was still inside the backlog it resumed when the fault came
        idle = [f["fault"] for f in self.faults if f.get("lag", 1) <= 0
                and not f.get("unsent") and f.get("processed", 0) >= f.get("backlog_at_start", 0)]
        if idle:  # the scenario did not test what it claims: fail, never pass vacuously
            rep.notes["failure"] = f"fault(s) {idle} hit a caught-up worker, not mid-stream"
        return rep


def fault_at(run: Run, worker: WorkerProcess, processed: float, fault: Callable[[], Any],
             what: str, stream: Producer | None = None) -> Any:
    """Once ``worker`` has processed ``processed`` mentions, inject ``fault``; record and log
    how many it had processed and the lag left (mentions not committed), and with ``stream``
    the mentions it had not sent yet (``unsent``): a fault mid-stream leaves a lag > 0 or input
    still to come (:meth:`Run.finish` fails the scenario otherwise)."""
    got = wait_received(worker, processed)
    t0 = time.monotonic()
    result = fault()
    row = {"fault": what, "processed": int(got), "fault_s": round(time.monotonic() - t0, 1)}
    if stream is not None:
        row["unsent"] = stream.unsent
    done, end = asyncio.run(group_progress(run.settings))
    row["lag"] = end - done
    run.faults.append(row)
    run.log(f"  {what}: {row}")
    return result


def sigterm(worker: WorkerProcess) -> Callable[[], dict[str, Any]]:
    """A fault: SIGTERM ``worker`` and wait for it to exit; its exit status and how long the
    graceful shutdown took (``stop`` escalates to SIGKILL after 60 s: exit -9)."""
    def fault() -> dict[str, Any]:
        t0 = time.monotonic()
        code = worker.stop(timeout=60.0)
        return {"exit": code, "stop_s": round(time.monotonic() - t0, 1)}
    return fault


def scenario_kill(run: Run) -> Report:
    """SIGKILL mid-stream, restart, SIGTERM mid-stream, restart: state exact, nothing lost.

    Each fault waits for the worker's own progress (mentions through its engine), not for
    wall time: on a loaded machine a restarted worker takes longer to start, and the fault
    must still land while it processes its backlog. The SIGTERM comes early in that backlog:
    on a quiet machine the worker goes through a few thousand mentions between two polls of
    its progress (at n/3 it had finished the backlog when the signal came). Its graceful stop
    then finishes what it has fetched, so no lag may be left after it: the SIGTERM counts as
    mid-stream when the worker had processed less than the backlog it resumed
    (``backlog_at_start``, measured as it starts: a lower bound while the producer runs).
    """
    run.setup()
    w = run.worker()
    prod = Producer(run.settings, run.mentions, rate=1500).start()
    n = len(run.mentions)
    fault_at(run, w, n // 3, w.kill, "SIGKILL")
    w = run.worker()  # resumes ~2n/3 behind: SIGTERM it early in that backlog
    done, end = asyncio.run(group_progress(run.settings))  # (more may arrive meanwhile)
    stop = fault_at(run, w, n // 10, sigterm(w), "SIGTERM")
    run.faults[-1].update(stop, backlog_at_start=end - done)
    run.worker()
    prod.join(120)
    rep = run.finish("worker_killed")
    if stop["exit"] == -signal.SIGKILL:
        rep.notes["failure"] = f"SIGTERM did not stop the worker in 60 s: {stop}"
    return rep


def scenario_failover(run: Run) -> Report:
    """A second worker joins mid-stream, then is SIGKILLed mid-stream: the survivor takes its
    partitions back (and resumes their brands from the dead worker's snapshots).

    The stream (~28 s at 250 mentions/s) is held back at its middle until the second worker
    is up, and at three quarters until it is killed (it trickles meanwhile): both faults
    wait for the workers' progress, and the second worker needs input to make progress. At a
    fixed rate the stream was all sent when a slow start (29 s on a loaded machine) brought
    it up: no input left for it, it processed nothing, and the scenario failed after 120 s
    ("worker processed 0 < 344 mentions").
    """
    run.setup()
    a = run.worker()
    n = len(run.mentions)
    middle, late = n // 2, 3 * n // 4
    prod = Producer(run.settings, run.mentions, rate=250, holds=(middle, late)).start()
    # b joins while a processes (the rebalance revokes a's partitions mid-batch), then dies;
    # the three brands sit on three of the four partitions: b owns at least one of them
    b = fault_at(run, a, n // 10, run.worker, "second worker joins", stream=prod)
    prod.release(middle)
    fault_at(run, b, n // 20, b.kill, "SIGKILL one of two", stream=prod)
    prod.release(late)
    prod.join(120)
    rep = run.finish("two_workers_one_dies")
    rep.notes["survivor_alive"] = a.running()
    if not a.running():
        rep.notes["failure"] = "the survivor died"
    return rep


def scenario_broker_restart(run: Run) -> Report:
    """Broker restarted gracefully, then killed and kept down 20 s: the worker resumes alone."""
    run.setup()
    run.worker()
    prod = Producer(run.settings, run.mentions[: len(run.mentions) // 2], rate=3000).start()
    prod.join(120)
    time.sleep(2.0)
    run.broker.restart(timeout=120)
    run.log("  broker: restarted (graceful)")
    time.sleep(3.0)
    run.broker.kill()
    time.sleep(20.0)
    run.broker.start(timeout=120)
    run.log("  broker: killed, down 20 s, started")
    prod = Producer(run.settings, run.mentions[len(run.mentions) // 2:], rate=3000).start()
    prod.join(180)
    return run.finish("broker_restart")


def scenario_output_stall(run: Run) -> Report:
    """The broker is frozen (SIGSTOP) 15 s while the crisis is published, then resumed."""
    run.setup()
    run.worker()
    n = len(run.mentions)
    prod = Producer(run.settings, run.mentions, rate=2000).start()
    prod.wait_sent(int(n * 0.93), 90)  # the acme burst is in the last hour
    pid = run.broker.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(15.0)
    finally:
        os.kill(pid, signal.SIGCONT)
    run.log(f"  output: broker frozen 15 s after {prod.sent} sent")
    prod.join(180)
    return run.finish("output_unavailable")


def scenario_exactly_once(run: Run) -> Report:
    """exactly_once: SIGKILL mid-stream; read-committed readers see no duplicate output."""
    run.setup()
    w = run.worker()
    prod = Producer(run.settings, run.mentions, rate=1500).start()
    fault_at(run, w, len(run.mentions) // 2, w.kill, "SIGKILL")
    run.worker()
    prod.join(120)
    rep = run.finish("exactly_once", committed_only=True)
    if rep.duplicated:
        rep.notes["failure"] = f"{rep.duplicated} duplicated outputs under exactly_once"
    return rep


def scenario_soak(run: Run, seconds: float = 45.0, rate: float = 400.0,
                  max_growth: float = 0.5, stall_s: float = 30.0) -> Report:
    """Steady load: RSS, lag and commits sampled every 5 s (every ``seconds / 8`` on a short
    run, so that its thirds hold samples) while the stream lasts (~``seconds``); fails on RSS growth (last third's peak over ``1 + max_growth`` times the first third's) or
    on commits stalled ``stall_s`` seconds with a lag."""
    run.setup()
    w = run.worker()
    # 3 brands x 6/min x 0.675 (the daily cycle's mean) = 729 mentions an event hour
    run.mentions = generate(hours=seconds * rate / 729 + 1, per_min=6.0, seed=11)
    prod = Producer(run.settings, run.mentions, rate=rate).start()
    samples: list[tuple[int, int, int, int]] = []
    t0 = time.monotonic()
    stall_since = None
    failure = None
    every = min(5.0, seconds / 8)
    while prod._thread.is_alive() or not samples or samples[-1][2] > 0:
        time.sleep(every)
        if time.monotonic() - t0 > 2 * seconds + 120:
            failure = f"stream not consumed after {time.monotonic() - t0:.0f}s"
            break
        done, end = asyncio.run(group_progress(run.settings))
        rss = rss_kb(w.pid) if w.pid else 0
        samples.append((round(time.monotonic() - t0), rss, end - done, done))
        run.log(f"  soak t={samples[-1][0]:>5}s rss={rss / 1024:7.1f} MB lag={end - done:>7} "
                f"committed={done}")
        if len(samples) > 1 and done == samples[-2][3] and end > done:
            stall_since = stall_since or time.monotonic()
            if time.monotonic() - stall_since > stall_s:
                failure = f"commits stalled for {stall_s:.0f} s at {done} (lag {end - done})"
                break
        else:
            stall_since = None
    prod.join(max(60.0, seconds * 2))
    if failure is None:
        failure = rss_growth(samples, max_growth)
    rep = run.finish("soak")
    rep.notes["samples"] = len(samples)
    if len(samples) >= 6:
        third = len(samples) // 3
        rep.notes["rss_peaks_mb"] = [round(max(s[1] for s in part) / 1024, 1) for part in (
            samples[:third], samples[third:-third], samples[-third:])]
    rep.notes["rss_mb"] = [round(s[1] / 1024, 1) for s in samples]
    rep.notes["lag"] = [s[2] for s in samples]
    if failure:
        rep.notes["failure"] = failure
    return rep


def rss_growth(samples: list[tuple[int, int, int, int]], max_growth: float,
               max_late_growth: float = 0.10) -> str | None:
    """Why the soak's RSS samples ``(t, rss_kb, lag, committed)`` show growth, or None.

    Two checks on the peaks of the first, middle and last thirds: the last over the first
    (warm-up included) at most ``1 + max_growth``, and the last over the middle at most
    ``1 + max_late_growth``: bounded memory (the engine's 200,000 recent texts, the models'
    weekly cycle) must have levelled off by the middle of a long soak, a leak does not.

    Examples
    --------
    >>> flat = [(5 * i, 100_000 + (i % 3), 0, i) for i in range(30)]
    >>> rss_growth(flat, 0.5) is None
    True
    >>> rss_growth([(5 * i, 100_000 + 4_000 * i, 0, i) for i in range(30)], 0.5)
    'RSS grew 133 -> 211 MB (first third peak -> last third peak)'
    >>> leak = [(5 * i, 150_000 + 2_500 * i, 0, i) for i in range(30)]  # 2.4 MB a sample
    >>> rss_growth(leak, 0.5)
    'RSS still growing: 193 -> 217 MB (middle third peak -> last third peak)'
    >>> levelled = [(5 * i, 100_000 + 3_000 * min(i, 12), 0, i) for i in range(30)]
    >>> rss_growth(levelled, 0.5) is None
    True
    """
    if len(samples) < 6:
        return f"only {len(samples)} RSS samples"
    third = len(samples) // 3
    base = max(s[1] for s in samples[:third])
    middle = max(s[1] for s in samples[third:-third])
    peak = max(s[1] for s in samples[-third:])
    if base and peak > base * (1 + max_growth):
        return (f"RSS grew {base / 1024:.0f} -> {peak / 1024:.0f} MB "
                "(first third peak -> last third peak)")
    if middle and peak > middle * (1 + max_late_growth):
        return (f"RSS still growing: {middle / 1024:.0f} -> {peak / 1024:.0f} MB "
                "(middle third peak -> last third peak)")
    return None


SCENARIOS: dict[str, tuple[Callable[[Run], Report], str, dict[str, Any]]] = {
    # name: (function, broker ("shared" = the session Apache Kafka, "own" = a private one), kw)
    "worker_killed": (scenario_kill, "shared", {}),
    "two_workers_one_dies": (scenario_failover, "shared", {}),
    "exactly_once": (scenario_exactly_once, "shared",
                     {"processing_guarantee": "exactly_once"}),
    "broker_restart": (scenario_broker_restart, "own", {}),
    "output_unavailable": (scenario_output_stall, "own", {}),
    "soak": (scenario_soak, "shared", {}),
}


def run_scenario(name: str, broker: Any, workdir: Path, *, log: Callable[[str], None] = print,
                 mentions: list[dict] | None = None) -> Report:
    """Run one scenario of :data:`SCENARIOS` on ``broker`` and verify it."""
    fn, _, kw = SCENARIOS[name]
    settings = chaos_settings(broker.bootstrap, broker.kind, name.replace("_", "-"), **kw)
    run = Run(broker, settings, workdir / name, mentions or generate(), log=log)
    try:
        return fn(run)
    except Exception as exc:  # noqa: BLE001 - a scenario that cannot finish fails
        logs = "\n".join(w.tail(15) for w in run.workers)
        rep = Report(name, len(run.mentions))
        rep.notes["failure"] = f"{type(exc).__name__}: {exc}"[:2000] + f"\n{logs}"[-3000:]
        return rep
    finally:
        run.close()
