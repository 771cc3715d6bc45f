"""Producing raw records in tests: one helper instead of a copy per test module."""

from __future__ import annotations

from collections.abc import Sequence

from agents import kafka
from pipeline.settings import Settings


async def send_values(settings: Settings, topic: str, values: Sequence[bytes],
                      key: bytes = b"acme") -> None:
    """Send ``values`` to ``topic`` one by one with ``key``, each acknowledged by the broker."""
    p = kafka.producer(settings)
    await p.start()
    try:
        for v in values:
            await p.send_and_wait(topic, v, key=key)
    finally:
        await p.stop()
