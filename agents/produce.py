"""Publish mention dicts to the mentions topic, keyed by brand, paced by event time or rate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import orjson

from agents import kafka
from pipeline.settings import Settings
from pipeline.simulate.clock import parse_ts
from pipeline.simulate.io import Pacer


async def produce_mentions(
    settings: Settings,
    mentions: Iterable[dict],
    *,
    speedup: float = 0.0,
    live_from: float = float("-inf"),
    rate: float = 0.0,
    stop: asyncio.Event | None = None,
    on_sent: Callable[[int, float], None] | None = None,
) -> int:
    """Send mentions (key = brand) and wait until the broker has them all.

    Parameters
    ----------
    speedup
        Event seconds per wall second for mentions at or after ``live_from`` (0 = no pacing).
        Mentions before ``live_from`` (warm-up history) go as fast as possible.
    rate
        Otherwise, mentions per wall second (0 = as fast as possible).
    stop
        Set it to stop early.
    on_sent
        Called with (mentions sent so far, event time of the last one).

    Returns
    -------
    int
        Mentions sent.
    """
    pacer = Pacer(speedup=speedup or None, rate=rate or None,
                  live_from=None if live_from == float("-inf") else live_from)
    producer = kafka.producer(settings, linger_ms=5)
    await kafka.start(producer, settings)
    sent = 0
    try:
        pending = []
        topic = settings.topics.mentions
        for m in mentions:
            if stop is not None and stop.is_set():
                break
            ts = parse_ts(m["created_at"])
            pause = pacer.delay(ts)
            if pause:
                await asyncio.sleep(pause)
            pending.append(await producer.send(topic, orjson.dumps(m), key=m["brand"].encode()))
            sent += 1
            if on_sent is not None:
                on_sent(sent, ts)
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        if pending:
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent
