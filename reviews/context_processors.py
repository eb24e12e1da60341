"""What every page's header shows about reviews: how many items wait for the signed-in person."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from reviews.choices import CampaignStatus, ItemStatus
from reviews.selectors import queue_items


def pending_reviews(request: HttpRequest) -> dict[str, Any]:
    """``pending_review_count``: the user's undecided items in active campaigns, counted only
    when a template asks (one indexed count; partials never do)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        return (
            queue_items(user)
            .filter(status=ItemStatus.PENDING, campaign__status=CampaignStatus.ACTIVE)
            .count()
        )

    return {"pending_review_count": SimpleLazyObject(count)}
