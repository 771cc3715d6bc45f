"""Mention-stream simulator: seasonal brand audiences, own posts and replies, scripted scenarios.

Pure logic (no Kafka): :func:`generate` returns a lazy iterator of ``Mention`` wire dicts in
event-time order plus the scenarios' ground truth; :class:`Pacer` paces them on the wall clock.

Examples
--------
>>> from datetime import datetime, timezone
>>> cfg = SimConfig(start=datetime(2026, 1, 6, 9, tzinfo=timezone.utc), duration_s=3600,
...                 scenarios=["crisis@10m"], seed=7)
>>> mentions, truth = generate(cfg)
>>> first = next(mentions)
>>> sorted(first)
['author', 'brand', 'created_at', 'id', 'in_reply_to', 'kind', 'lang', 'source', 'text', 'url']
>>> truth[0]["scenario"], truth[0]["brand"], truth[0]["expect"], truth[0]["start"]
('crisis', 'acme', 'crisis', '2026-01-06T09:10:00.000Z')
"""

from pipeline.simulate.brands import DEMO_BRANDS, DEMO_PROFILES, BrandProfile
from pipeline.simulate.engine import SimConfig, demo_config, generate
from pipeline.simulate.io import (
    Pacer,
    read_ground_truth,
    read_jsonl,
    to_models,
    write_ground_truth,
    write_jsonl,
)
from pipeline.simulate.scenarios import SCENARIOS, Scenario, ScenarioSpec, register
from pipeline.simulate import hard_scenarios  # noqa: E402,F401  (registers the harder ones)

__all__ = [
    "DEMO_BRANDS",
    "DEMO_PROFILES",
    "SCENARIOS",
    "BrandProfile",
    "Pacer",
    "Scenario",
    "ScenarioSpec",
    "SimConfig",
    "demo_config",
    "generate",
    "read_ground_truth",
    "read_jsonl",
    "register",
    "to_models",
    "write_ground_truth",
    "write_jsonl",
]
