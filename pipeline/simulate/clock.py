"""Event-time helpers of the simulator: epoch seconds <-> ISO-8601 UTC strings.

Examples
--------
>>> iso_utc(1767607200.25)
'2026-01-05T10:00:00.250Z'
>>> parse_ts('2026-01-05T10:00:00.250Z')
1767607200.25
"""

from __future__ import annotations

from datetime import datetime, timezone


def iso_utc(ts: float, cache: bool = True) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z`` suffix (``cache``: for mostly-ordered times)."""
    ms_total = int(round(ts * 1000.0))
    minute, rest = divmod(ms_total, 60_000)
    if cache:
        prefix = _CACHE.get(minute)
        if prefix is None:
            if len(_CACHE) > 2048:
                _CACHE.clear()
            prefix = _CACHE[minute] = _minute(minute)
    else:
        prefix = _minute(minute)
    return f"{prefix}:{rest // 1000:02d}.{rest % 1000:03d}Z"


_CACHE: dict[int, str] = {}


def _minute(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M")


def parse_ts(value: str | datetime | float | int) -> float:
    """Epoch seconds of an ISO-8601 string, an aware datetime, or a number."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()
