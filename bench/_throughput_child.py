"""Child processes of ``bench/throughput.py``: the transport limit and the bare Faust agent.

Usage (the bench runs these; by hand only to debug)::

    python bench/_throughput_child.py transport BOOTSTRAP TOPIC N OUT.json [--kind tansu]
    python bench/_throughput_child.py faust     BOOTSTRAP TOPIC N OUT.json [--kind tansu]
                                               [--take 500] [--no-uvloop]

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["transport", "faust"])
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--kind", default="tansu")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--take", type=int, default=0)
    ap.add_argument("--no-uvloop", action="store_true")
    a = ap.parse_args()
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
