"""The risk detectors every brand gets (registered in :data:`pipeline.detectors.DETECTORS`).

>>> [f.name for f in default_detectors()]
['hijack', 'impostor', 'raid', 'slow_response', 'trends']
"""

from __future__ import annotations

from typing import Any

from pipeline.risks.hijack import HijackDetector
from pipeline.risks.impostor import ImpostorDetector
from pipeline.risks.raid import RaidDetector
from pipeline.risks.responsiveness import ResponsivenessDetector
from pipeline.risks.trends import TrendsDetector


def default_detectors() -> list[Any]:
    """Factories ``(brand, BrandConfig | None, DetectionSettings) -> detector``, in run order."""
    return [HijackDetector, ImpostorDetector, RaidDetector, ResponsivenessDetector, TrendsDetector]
