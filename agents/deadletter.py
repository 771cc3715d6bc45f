"""Dead letters: the original record, unchanged, plus the reason in headers.

Following the Kafka Connect convention, a dead letter keeps the original key and value bytes;
the context travels in headers (``veille.dlq.*``), so a fixed record can be re-published as is.
"""

from __future__ import annotations

from typing import Any

from pipeline.codec import Rejection

HEADER_PREFIX = "veille.dlq."


def source_message(source: Any) -> Any:
    """The record behind ``source``: a Faust event's message, or the (raw) record itself."""
    return getattr(source, "message", source)


def deadletter_headers(source: Any, rejection: Rejection) -> list[tuple[str, bytes]]:
    """Headers for the dead letter of ``source`` (a Faust event or a raw consumer record):
    reason, detail, and where it came from."""
    msg = source_message(source)
    return [
        (HEADER_PREFIX + "reason", rejection.reason.encode()),
        (HEADER_PREFIX + "detail", rejection.detail.encode("utf-8", "replace")),
        (HEADER_PREFIX + "topic", msg.topic.encode()),
        (HEADER_PREFIX + "partition", str(msg.partition).encode()),
        (HEADER_PREFIX + "offset", str(msg.offset).encode()),
    ]
