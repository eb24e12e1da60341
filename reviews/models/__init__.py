"""Access reviews: campaigns, items with their snapshots, decisions, reminders, remediation."""

from reviews.models.campaigns import (
    OPEN_STATUSES,
    Campaign,
    CampaignQuerySet,
    ReminderLog,
    ReviewerSignOff,
)
from reviews.models.items import ReviewAssignment, ReviewDecision, ReviewItem, ReviewItemQuerySet
from reviews.models.remediation import RemediationRequest

__all__ = [
    "OPEN_STATUSES",
    "Campaign",
    "CampaignQuerySet",
    "RemediationRequest",
    "ReminderLog",
    "ReviewAssignment",
    "ReviewDecision",
    "ReviewItem",
    "ReviewItemQuerySet",
    "ReviewerSignOff",
]
