"""Child processes of ``bench/throughput.py``: the transport limit and the bare Faust agent.

Usage (the bench runs these; by hand only to debug)::

    python bench/_throughput_child.py transport BOOTSTRAP TOPIC N OUT.json [--kind tansu]
    python bench/_throughput_child.py faust     BOOTSTRAP TOPIC N OUT.json [--kind tansu]
                                               [--take 500] [--no-uvloop]
    python bench/_throughput_child.py engine    - FILE.jsonl N OUT.json [--every 100000]

Each reads the same ``N`` pre-loaded records of ``TOPIC`` from the beginning and writes
``{"n", "first", "last", "per_s"}`` (wall clock, from the first message received to the last
one handled; the Faust child adds ``cpu_s`` and ``per_cpu_s``, its CPU over that span) to
``OUT.json``, then exits.

* ``transport``: a raw aiokafka consumer (all partitions assigned, no group) that only fetches
  and decodes each value with orjson -- what the client library and the broker allow (timed
  from the first fetch request, since one fetch may bring most of the records).
* ``faust``: a Faust app (the same ``faust_settings`` as veille's worker) whose one agent only
  counts events, per event (``async for _ in stream``) or with ``--take M``
  (``stream.take_events(M, within=0.05)``, as veille's agent does) -- what the framework allows.
* ``engine``: no broker; the offline engine (``pipeline.engine.Engine``, the bench's brands)
  on the first ``N`` lines of ``FILE.jsonl`` in batches of 500, printing its RSS every
  ``--every`` mentions with the sizes of the engine's containers that grew (what the pipeline
  alone keeps, to tell it from the worker's own growth); writes ``{"rss": [[n, mb], ...],
  "containers": {path: [size at each checkpoint]}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import orjson
from collections import Counter, deque
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.settings import Settings  # noqa: E402


def _write(out: str, n: int, first: float, last: float, cpu: float | None = None) -> None:
    span = max(last - first, 1e-9)
    res = {"n": n, "first": first, "last": last, "per_s": (n - 1) / span if n > 1 else 0.0}
    if cpu is not None:  # process CPU seconds over the same span (every thread)
        res["cpu_s"] = cpu
        res["per_cpu_s"] = (n - 1) / max(cpu, 1e-9)
    Path(out).write_bytes(orjson.dumps(res))


async def transport(settings: Settings, topic: str, n: int, out: str) -> None:
    from aiokafka import TopicPartition

    from agents import kafka

    c = kafka.consumer(settings, max_partition_fetch_bytes=4 << 20, fetch_max_bytes=64 << 20)
    await c.start()
    try:
        parts = c.partitions_for_topic(topic)
        while not parts:
            await asyncio.sleep(0.1)
            await c._client.force_metadata_update()  # noqa: SLF001 - topic just made
            parts = c.partitions_for_topic(topic)
        c.assign([TopicPartition(topic, p) for p in sorted(parts)])
        await c.seek_to_beginning()
        got, loads = 0, orjson.loads
        first = time.time()  # from the first fetch: one big fetch may bring most records
        while got < n:
            batch = await c.getmany(timeout_ms=1000, max_records=20_000)
            for recs in batch.values():
                for r in recs:
                    loads(r.value)
                got += sum(len(r) for r in batch.values())
        _write(out, got, first, time.time())
    finally:
        await c.stop()


def bare_faust(settings: Settings, topic_name: str, n: int, out: str, take: int) -> None:
    import faust

    from agents.app import faust_settings

    app = faust.App(f"bench-bare-{uuid.uuid4().hex[:8]}", **faust_settings(settings))
    app.conf.web_enabled = False
    topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")
    state = {"n": 0, "first": 0.0, "cpu0": 0.0}

    def done() -> None:
        _write(out, state["n"], state["first"], time.time(), time.process_time() - state["cpu0"])
        os._exit(0)  # a bench child: no commit, no graceful shutdown needed

    if take:
        @app.agent(topic, name="bench.count")
        async def count(stream):  # noqa: ANN001
            async for events in stream.take_events(take, within=0.05):
                if not state["n"]:
                    state["first"], state["cpu0"] = time.time(), time.process_time()
                state["n"] += len(events)
                if state["n"] >= n:
                    done()
    else:
        @app.agent(topic, name="bench.count")
        async def count(stream):  # noqa: ANN001, F811
            async for _ in stream:
                if not state["n"]:
                    state["first"], state["cpu0"] = time.time(), time.process_time()
                state["n"] += 1
                if state["n"] >= n:
                    done()

    worker = faust.Worker(app, loglevel="warn", redirect_stdouts=False)
    worker.execute_from_commandline()


def rss_mb() -> float:
    """This process's resident set size (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def container_sizes(root: Any, max_depth: int = 6) -> Counter:
    """Entries held by every container reachable from ``root`` through ``pipeline`` objects,
    summed by attribute path (brands and list items folded: ``watches[*].seen_ids``)."""
    sizes: Counter = Counter()
    seen: set[int] = set()

    def is_ours(v: Any) -> bool:
        return type(v).__module__.startswith("pipeline")

    def attrs(obj: Any) -> dict[str, Any]:
        d = dict(getattr(obj, "__dict__", {}))
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name):
                    d[name] = getattr(obj, name)
        return d

    def walk(obj: Any, path: str, depth: int) -> None:
        if id(obj) in seen or depth > max_depth:
            return
        seen.add(id(obj))
        if isinstance(obj, (dict, list, set, frozenset, deque, tuple)):
            sizes[path] += len(obj)
            items = obj.values() if isinstance(obj, dict) else obj
            if len(obj) <= 20_000:
                for i, v in enumerate(items):
                    if is_ours(v) or isinstance(v, (dict, list, set, deque)):
                        sub = f"[{type(v).__name__}]" if isinstance(obj, list) else "[*]"
                        walk(v, path + sub, depth + 1)
            return
        if is_ours(obj):
            for name, v in attrs(obj).items():
                if is_ours(v) or isinstance(v, (dict, list, set, frozenset, deque, tuple)):
                    walk(v, f"{path}.{name}", depth + 1)

    walk(root, "engine", 0)
    return sizes


def engine_rss(path: str, n: int, out: str, every: int) -> None:
    sys.argv = sys.argv[:1]
    from bench.throughput import BATCH, settings_for
    from pipeline.engine import Engine

    engine = Engine(settings_for("x:1", "auto", "rss", "x"))
    rss: list[list[float]] = [[0, rss_mb()]]
    history: dict[str, list[int]] = {}
    batch: list[bytes] = []
    done, t0 = 0, time.perf_counter()

    def checkpoint() -> None:
        rss.append([done, round(rss_mb(), 1)])
        sizes = container_sizes(engine)
        for k, v in sizes.items():
            history.setdefault(k, [0] * (len(rss) - 2)).append(v)
        for k, v in history.items():
            if len(v) < len(rss) - 1:
                v.append(0)
        print(f"engine: {done:>9} mentions, RSS {rss[-1][1]:.0f} MB, "
              f"{done / (time.perf_counter() - t0):,.0f}/s", file=sys.stderr, flush=True)

    with open(path, "rb") as fh:
        for line in fh:
            batch.append(line.rstrip(b"\n"))
            if len(batch) == BATCH or done + len(batch) >= n:
                engine.process(batch)
                done += len(batch)
                batch = []
                if done % every < BATCH or done >= n:
                    checkpoint()
                if done >= n:
                    break
    grew = {k: v for k, v in history.items() if v[-1] > v[0]}
    Path(out).write_bytes(orjson.dumps({"n": done, "rss": rss, "containers": grew,
                                        "per_s": done / (time.perf_counter() - t0)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["transport", "faust", "engine"])
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--kind", default="tansu")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--take", type=int, default=0)
    ap.add_argument("--no-uvloop", action="store_true")
    ap.add_argument("--every", type=int, default=100_000)
    a = ap.parse_args()
    if a.mode == "engine":  # bootstrap unused; topic = the JSONL file
        engine_rss(a.topic, a.n, a.out, a.every)
        return
    if not a.no_uvloop:
        import uvloop

        uvloop.install()
    settings = Settings(kafka_bootstrap=a.bootstrap, broker_kind=a.kind, web_port=0,
                        data_dir=Path(a.out).with_suffix(".data"),
                        topics={"partitions": a.partitions})
    if a.mode == "transport":
        asyncio.run(transport(settings, a.topic, a.n, a.out))
    else:
        sys.argv = sys.argv[:1]
        bare_faust(settings, a.topic, a.n, a.out, a.take)


if __name__ == "__main__":
    main()
