"""Campaigns: one review of a population of identities, from launch to a named sign-off."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from reviews.choices import (
    CampaignKind,
    CampaignStatus,
    NoResponsePolicy,
    ReminderKind,
    TriggerReason,
)

if TYPE_CHECKING:
    from nhigov.models import User

OPEN_STATUSES = (CampaignStatus.ACTIVE, CampaignStatus.CLOSING)


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: User | Any) -> CampaignQuerySet:
        """Security and auditors see every campaign; anyone else those holding items they see."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_identities:
            return self
        from reviews.models.items import ReviewItem

        return self.filter(id__in=ReviewItem.objects.visible_to(user).values("campaign_id"))


class Campaign(models.Model):
    """A review of the identities matching a scope (a saved inventory filter).

    Activation snapshots the population: one :class:`~reviews.models.ReviewItem` per identity
    with what it could do, its last use, key ages, findings and owner, hashed; the campaign keeps
    the hash over all item hashes (sorted by identity id) and the population count reconciled
    against the inventory count for the scope at that moment. After ``closed`` nothing in the
    campaign changes.
    """

    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=16, choices=CampaignKind.choices, default=CampaignKind.MANUAL
    )
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # The inventory filter (IdentityFilterSet parameters) that defines the population.
    scope = models.JSONField(default=dict, blank=True)
    # A scheduled series ("critical/30d") and its period, unique so two beats launch it once.
    schedule_key = models.CharField(max_length=100, blank=True)
    schedule_period = models.CharField(max_length=32, blank=True)
    trigger_reason = models.CharField(max_length=32, choices=TriggerReason.choices, blank=True)
    trigger_identity = models.ForeignKey(
        "inventory.Identity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    no_response_policy = models.CharField(
        max_length=16, choices=NoResponsePolicy.choices, default=NoResponsePolicy.RECOMMENDATION
    )
    due_days = models.PositiveIntegerField(default=14)
    grace_days = models.PositiveIntegerField(default=7)
    # Reviewers' deadline (reminders before it, escalation after it) and the moment the
    # no-response policy applies (due_at + grace days).
    due_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_at = models.DateTimeField(null=True, blank=True)
    closing_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_name = models.CharField(max_length=255, blank=True)
    signed_off_role = models.CharField(max_length=64, blank=True)
    sign_off_comment = models.TextField(blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    canceled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField(blank=True)

    # Reconciliation at activation: identities matching the scope in the inventory, those
    # excluded (vanished or deprovisioned: nothing left to review), and the items created.
    inventory_count = models.PositiveIntegerField(default=0)
    excluded_count = models.PositiveIntegerField(default=0)
    population_count = models.PositiveIntegerField(default=0)
    snapshot_hash = models.CharField(max_length=64, blank=True)
    # What the no-response policy did at closing, and the sealed summary at close.
    no_response_summary = models.JSONField(default=dict, blank=True)
    close_summary = models.JSONField(default=dict, blank=True)
    close_summary_hash = models.CharField(max_length=64, blank=True)
    audit_head_seq = models.BigIntegerField(null=True, blank=True)
    audit_head_hash = models.CharField(max_length=64, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule_key", "schedule_period"],
                condition=~Q(schedule_key=""),
                name="campaign_schedule_period_unique",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="campaign_status_due_idx"),
            models.Index(fields=["schedule_key", "-created_at"], name="campaign_schedule_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return (
            self.status == CampaignStatus.ACTIVE and self.due_at is not None and now > self.due_at
        )

    @property
    def reconciled(self) -> bool:
        """The items created are exactly the inventory's identities for the scope, minus those
        excluded with a reason."""
        return self.population_count == self.inventory_count - self.excluded_count


class ReviewerSignOff(models.Model):
    """A reviewer signed off their queue in a campaign: their decisions are locked from then."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sign_offs")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    items_locked = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["campaign", "reviewer"], name="signoff_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.reviewer_id} signed off campaign {self.campaign_id}"


class ReminderLog(models.Model):
    """One e-mail to one recipient about one campaign; unique per (recipient, key) so a tick
    that runs twice sends nothing twice. ``key`` is ``before:7``, ``overdue:2026-12-20``, ..."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="reminders")
    recipient_key = models.CharField(max_length=64)  # "user:<id>" or "security"
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    key = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item_count = models.PositiveIntegerField(default=0)
    addresses = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "recipient_key", "key"], name="reminder_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder to {self.recipient_key} ({self.key})"
