"""Per-brand mention-volume model, surge/silence score and alarm (placeholder doc)."""
from pipeline.volume.alarm import (
    DEFAULT_SILENCE, DEFAULT_SURGE, SILENCE_COOLDOWN_S, SILENCE_OFF, SILENCE_ON, SILENCE_QUIET_S,
    SURGE_COOLDOWN_S, SURGE_OFF, SURGE_ON, SURGE_PERSIST, SURGE_QUIET_S, SurgeAlarm,
    SurgeThresholds,
)
from pipeline.volume.model import VolumeModel, VolumeScore, anscombe, inv_anscombe

__all__ = [
    "DEFAULT_SILENCE", "DEFAULT_SURGE", "SILENCE_COOLDOWN_S", "SILENCE_OFF", "SILENCE_ON",
    "SILENCE_QUIET_S", "SURGE_COOLDOWN_S", "SURGE_OFF", "SURGE_ON", "SURGE_PERSIST",
    "SURGE_QUIET_S", "SurgeAlarm", "SurgeThresholds", "VolumeModel", "VolumeScore",
    "anscombe", "inv_anscombe",
]
