"""Risks of a brand's own posts: leaks, errors, tone breaks, compliance (pure logic)."""

from pipeline.risks.post_checks import Reason
from pipeline.risks.post_review import (
    FAMILIES,
    PostReviewer,
    Review,
    render_review,
    review_post,
)

__all__ = ["FAMILIES", "PostReviewer", "Reason", "Review", "render_review", "review_post"]
