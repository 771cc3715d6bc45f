"""Publish mention dicts to the mentions topic, keyed by brand, paced by event time or rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime

import orjson

from agents import kafka
from pipeline.settings import Settings


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
    producer = kafka.producer(settings, linger_ms=5)
    await producer.start()
    sent = 0
    try:
        wall0: float | None = None
        pending = []
        topic = settings.topics.mentions
        for m in mentions:
            if stop is not None and stop.is_set():
                break
            ts = datetime.fromisoformat(m["created_at"]).timestamp()
            if speedup > 0 and ts >= live_from:
                if wall0 is None:
                    wall0, t0 = time.monotonic(), ts
                delay = wall0 + (ts - t0) / speedup - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif rate > 0:
                if wall0 is None:
                    wall0 = time.monotonic()
                delay = wall0 + sent / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
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
