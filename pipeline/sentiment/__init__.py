"""Per-mention EN/FR sentiment (see :mod:`pipeline.sentiment.model` and ``README.md``)."""

from pipeline.sentiment.model import LABELS, UNSCORED, Sentiment, SentimentModel

__all__ = ["LABELS", "UNSCORED", "Sentiment", "SentimentModel"]
