"""Per-mention detectors' cost: CPU microseconds per mention of each risk detector.

Scores the sentiments of a replay archive (the one ``bench/replay.py`` generates, or
``--archive FILE``) once, untimed; then feeds every mention, in stream order, to fresh per-brand
instances of each detector of :data:`pipeline.detectors.DETECTORS` alone, and to all of them
together, each set held in a :class:`pipeline.detectors.DetectorSet` and fed as
:class:`pipeline.watch.BrandWatch` feeds it (``observe_into``), timing only those calls
(CPU time). As in the worker, records go by batches of 500, each decoded (untimed) just before
the detectors see it. Each figure is the median of ``--repeat`` runs. Goal (issues 8 and 9):
the detectors together cost a few microseconds per mention.

Brands run without a configuration by default (no own handles, so the support accounts'
replies are mentions like any other, as ``bench/replay.py --no-brands``); ``--demo-brands``
gives them the simulator's configurations (own handles, known sources, allowed domains), as
``bench/replay.py`` does by default.

``--memory`` measures instead (tracemalloc) the worst case of the per-brand bounded memories
(issue 9: RSS must grow only with the number of brands): the impostor detectors' name memos
(``--brands`` brands each shown the same 60,000 distinct look-alike authors), the post
reviewers' word memos (each brand's own posts with 100,000 distinct words) and one brand's raid
window at ``raid_max_items`` varied texts of young accounts. Only public calls (``observe``,
``review``), so the same file measures an older checkout too.

    .venv/bin/python bench/detectors.py [--mentions 60000] [--cpu 1] [--repeat 3] [--json]
    .venv/bin/python bench/detectors.py --memory [--brands 4] [--json]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.codec import Rejection, load_object, validate_mention  # noqa: E402
from pipeline.detectors import DETECTORS  # noqa: E402
from pipeline.engine import batch_gc  # noqa: E402
from pipeline.replay import Archive  # noqa: E402
from pipeline.risks._base import own_handles  # noqa: E402
from pipeline.risks._testing import NEG, mention  # noqa: E402
from pipeline.sentiment import SentimentModel  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.simulate import SimConfig, generate, write_jsonl  # noqa: E402
from pipeline.simulate.brands import DEMO_BRANDS  # noqa: E402

SCENARIOS = ["crisis:acme@30h*6", "launch:globex@20h", "raid:nordair@40h", "impostor:acme@12h",
             "hijack:globex@44h", "slow_response:nordair@8h", "noise_plateau:acme@50h"]


def decode(raws: list[bytes]) -> list[Any]:
    """Mentions of the raw records (bad ones left out), their event time computed."""
    out = []
    for raw in raws:
        obj = load_object(raw)
        m = validate_mention(obj) if type(obj) is dict else obj
        if not isinstance(m, Rejection):
            _ = m.ts  # the watch computes it for every mention anyway
            out.append(m)
    return out


def run(factories: list[Any], raws: list[bytes], sentiments: list[Any], settings: Settings,
        batch: int = 500) -> float:
    """CPU seconds of fresh detector sets' ``observe_into`` calls over the stream of ``raws``.

    As in the worker, records go by batches of ``batch``: each is decoded (untimed, so its
    mentions are fresh and in the CPU caches), then fed to the detectors (timed).
    """
    from pipeline.detectors import DetectorSet

    by_brand: dict[str, DetectorSet] = {}
    det = settings.detection
    total = 0.0
    k = 0
    for i in range(0, len(raws), batch):
        chunk = decode(raws[i:i + batch])
        sents = sentiments[k:k + len(chunk)]
        k += len(chunk)
        for m in chunk:
            if m.brand not in by_brand:
                cfg = settings.brand(m.brand)
                by_brand[m.brand] = DetectorSet([f(m.brand, cfg, det) for f in factories],
                                                own_handles(cfg))
        alerts: list[Any] = []
        cpu = time.process_time()
        for m, s in zip(chunk, sents):
            by_brand[m.brand].observe_into(m, s, alerts)
        total += time.process_time() - cpu
    return total


def _traced_mb(fill: Any) -> float:
    """MB still allocated (tracemalloc) by what ``fill()`` returns, once its garbage is gone."""
    gc.collect()
    tracemalloc.start()
    kept = None
    try:
        kept = fill()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] / 1e6
    finally:
        del kept
        tracemalloc.stop()


def memory(brands: int) -> dict[str, float]:
    """Worst-case MB of the per-brand bounded memories (see the module docstring)."""
    from pipeline.risks.impostor import ImpostorDetector
    from pipeline.risks.post_review import PostReviewer
    from pipeline.risks.raid import RaidDetector
    from pipeline.settings import DetectionSettings

    d = DetectionSettings()
    rng = random.Random(1)

    def lookalike(i: int) -> str:  # passes the impostor's character bound, matches nothing
        return "acme" + "".join(rng.choice("bdfghjkpqstuvxyz") for _ in range(6)) + str(i)

    def impostors(n_brands: int) -> Any:
        # fresh strings, as decoded mentions bring them: only what the memos keep stays
        authors = [mention("hi", at=1_767_600_000.0 + i, handle=lookalike(i),
                           name="Acme " + lookalike(i).title()) for i in range(60_000)]
        dets = [ImpostorDetector("acme", None, d) for _ in range(n_brands)]
        for det in dets:
            for m in authors:
                det.observe(m, NEG)
        return dets

    def reviewers(n_brands: int) -> Any:
        revs = [PostReviewer(DEMO_BRANDS[b % len(DEMO_BRANDS)]) for b in range(n_brands)]
        for rev in revs:
            for _ in range(4_000):  # 25 new words each: 100,000 distinct words
                rev.review("Bonjour " + " ".join(
                    "".join(rng.choice("abcdefghijklmnoprstu") for _ in range(rng.randint(4, 9)))
                    for _ in range(25)) + " merci", "fr")
        return revs

    def raid() -> Any:
        words = "scam refund never again worst lost bag delay cancel money boycott fraud".split()
        det = RaidDetector("acme", None, d)
        for i in range(d.risks.raid_max_items):
            text = " ".join(rng.choice(words) + str(rng.randint(0, 99)) for _ in range(12))
            det.observe(mention(text, at=1_767_600_000.0 + i * 0.01, handle=f"u{i}",
                                age_days=3.0, followers=5, id=str(10**18 + i)), NEG)
        return det

    out = {
        "impostor_names_1_brand_mb": _traced_mb(lambda: impostors(1)),
        f"impostor_names_{brands}_brands_mb": _traced_mb(lambda: impostors(brands)),
        "post_review_words_1_brand_mb": _traced_mb(lambda: reviewers(1)),
        f"post_review_words_{brands}_brands_mb": _traced_mb(lambda: reviewers(brands)),
        "raid_window_1_brand_mb": _traced_mb(raid),
    }
    return {k: round(v, 1) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mentions", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--archive", help="Use this JSONL archive instead of generating one.")
    ap.add_argument("--cpu", type=int, help="Pin the process to this core.")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="Time only these (detector class names, all).")
    ap.add_argument("--demo-brands", action="store_true",
                    help="Configure the brands as the simulator's demo brands.")
    ap.add_argument("--memory", action="store_true",
                    help="Measure the worst-case bounded memories instead (tracemalloc).")
    ap.add_argument("--brands", type=int, default=4, help="Brands of --memory.")
    ap.add_argument("--json", action="store_true", help="Last line: one JSON object.")
    a = ap.parse_args()
    if a.memory:
        figures_mb = memory(a.brands)
        for k, v in figures_mb.items():
            print(f"{k:>34}: {v:7.1f} MB")
        if a.json:
            print(orjson.dumps(figures_mb).decode())
        return
    if a.cpu is not None:
        os.sched_setaffinity(0, {a.cpu})
    if a.archive:
        archive = Path(a.archive)
    else:
        archive = Path(tempfile.mkdtemp(prefix="veille-bench-detectors-")) / "archive.jsonl"
        cfg = SimConfig(start=datetime(2026, 1, 5, tzinfo=timezone.utc), duration_s=30 * 86400,
                        scenarios=SCENARIOS, seed=a.seed)
        write_jsonl(archive, itertools.islice(generate(cfg)[0], a.mentions))
    raws = list(Archive(archive).records())
    only = set(a.only or [])
    settings = Settings(brands=DEMO_BRANDS if a.demo_brands else [],
                        detection={"warmup_s": 6 * 3600})
    mentions = decode(raws)
    model = SentimentModel.default()
    sentiments = [s for i in range(0, len(mentions), 500) for s in model.predict_many(
        [m.text for m in mentions[i:i + 500]], [m.lang for m in mentions[i:i + 500]])]
    n = len(mentions)
    cases = [(f.__name__, [f]) for f in DETECTORS] + [("all", list(DETECTORS))]
    cases = [c for c in cases if not only or c[0] in only]
    figures: dict[str, float] = {}
    for name, factories in cases:
        with batch_gc():  # as the replay and the worker run their batches
            times = [run(factories, raws, sentiments, settings) for _ in range(a.repeat)]
        figures[name] = round(statistics.median(times) / n * 1e6, 2)
        print(f"{name:>24}: {figures[name]:6.2f} µs/mention (CPU, median of {a.repeat}; "
              f"{n:,} mentions)")
    if a.json:
        print(orjson.dumps({"mentions": n, "us_per_mention": figures}).decode())


if __name__ == "__main__":
    main()
