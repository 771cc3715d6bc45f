"""Small synthetic mention streams for tests: Poisson traffic with a daily cycle plus bursts.

Independent of the simulator on purpose, so detector tests do not depend on its tuning.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone

NEG = ["@{b} worst service ever, still waiting", "@{b} my card was charged twice, unacceptable",
       "@{b} c'est une honte, toujours pas remboursé", "@{b} nul, je suis furieux"]
NEU = ["@{b} what time does the store open?", "@{b} quelqu'un sait si le magasin est ouvert ?",
       "@{b} ordered yesterday", "@{b} je regarde les nouveautés"]
POS = ["@{b} love it, great job", "@{b} merci, super service !", "@{b} best app ever",
       "@{b} génial, j'adore"]
BURST_NEG = ["@{b} data leak?? my account was hacked #{b}fail", "@{b} fuite de données, scandale #{b}fail",
             "@{b} data leak confirmed, shame on you #{b}fail"]
LAUNCH_POS = ["@{b} the new phone is amazing! #{b}launch", "@{b} nouveau modèle génial #{b}launch"]
START = datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def mention(i: int, brand: str, ts: float, text: str, followers: int = 100,
            kind: str = "mention") -> dict:
    return {"id": f"{brand}-{i}", "created_at": iso(ts), "brand": brand, "kind": kind,
            "text": text.format(b=brand), "lang": None,
            "author": {"id": f"u{i % 5000}", "handle": f"user{i % 5000}", "followers": followers}}


def stream(brand: str, hours: float, per_min: float, *, seed: int = 0, start: float = START,
           bursts: list[tuple[float, float, float, str]] = (), neg_share: float = 0.2) -> list[dict]:
    """Mentions of one brand, in event-time order.

    bursts: (start hour, length in minutes, extra mentions per minute, "angry"|"happy").
    """
    rng = random.Random(seed)
    out: list[dict] = []
    i = 0
    for minute in range(int(hours * 60)):
        t0 = start + minute * 60
        hour = (minute / 60) % 24
        rate = per_min * (0.35 + 0.65 * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 3) / 24)))
        events = []
        for _ in range(_poisson(rng, rate)):
            r = rng.random()
            pool = NEG if r < neg_share else NEU if r < 0.75 else POS
            events.append((rng.choice(pool), int(rng.paretovariate(1.2) * 50)))
        for b_start, b_len, b_rate, mood in bursts:
            if b_start * 60 <= minute < b_start * 60 + b_len:
                ramp = min(1.0, (minute - b_start * 60 + 1) / 3)
                for _ in range(_poisson(rng, b_rate * ramp)):
                    if mood == "angry":
                        events.append((rng.choice(BURST_NEG), rng.choice([200, 800, 50_000, 120_000])))
                    else:
                        events.append((rng.choice(LAUNCH_POS), 300))
        for text, followers in events:
            out.append(mention(i, brand, t0 + rng.uniform(0, 59.9), text, followers))
            i += 1
    out.sort(key=lambda m: m["created_at"])
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
