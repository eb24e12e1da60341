"""Review items, the decisions taken on them and the chain of reviewers they went through."""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from reviews.choices import (
    DECIDED_STATUSES,
    AssignmentReason,
    DecisionSource,
    HandoverResponse,
    ItemStatus,
    Outcome,
    Recommendation,
)

if TYPE_CHECKING:
    from nhigov.models import User


class ReviewItemQuerySet(models.QuerySet["ReviewItem"]):
    def visible_to(self, user: User | Any) -> ReviewItemQuerySet:
        """The one gate for review items, used by every page, partial and API endpoint.

        Security and auditors see every item; anyone else the items assigned to them, the
        handovers addressed to them or their teams, and the items of identities they may see
        (their review history).
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_identities:
            return self
        from inventory.models import Identity

        teams = user.teams.values("id")
        return self.filter(
            Q(reviewer=user)
            | Q(decision__handover_to_user=user)
            | Q(decision__handover_to_team__in=teams)
            | Q(identity__in=Identity.objects.visible_to(user).values("id"))
        )

    def undecided(self) -> ReviewItemQuerySet:
        return self.filter(status=ItemStatus.PENDING)


class ReviewItem(models.Model):
    """One identity to review in one campaign, with the snapshot taken at activation.

    ``snapshot_json`` is what the reviewer attests to (what the identity could do, last use, key
    ages, findings, owner, the recommendation shown) as canonical JSON, and ``snapshot_hash`` its
    SHA-256. ``status`` moves only through :func:`reviews.states.item_transition` (a conditional
    UPDATE on ``status`` and ``version``), so two people deciding at once cannot both win.
    ``reviewer`` None means the security queue.
    """

    # Indexes are few on purpose: a launch writes 100k rows. The FK columns are covered by the
    # composite indexes below (identity, reviewer and campaign each lead one).
    campaign = models.ForeignKey(
        "reviews.Campaign", on_delete=models.PROTECT, related_name="items", db_index=False
    )
    identity = models.ForeignKey(
        "inventory.Identity",
        on_delete=models.PROTECT,
        related_name="review_items",
        db_index=False,
    )
    # Copied from the snapshot so queues sort, filter and search without reading JSON.
    name = models.CharField(max_length=512)
    kind = models.CharField(max_length=32)
    tier = models.CharField(max_length=16)
    priority = models.PositiveSmallIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices)
    recommendation_reason = models.CharField(max_length=300)
    flagged = models.BooleanField(default=False)
    justification_required = models.BooleanField(default=False)
    self_review = models.BooleanField(default=False)
    bulk_keep_eligible = models.BooleanField(default=False)

    status = models.CharField(max_length=24, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    version = models.PositiveIntegerField(default=0)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="review_items",
        db_index=False,
    )
    first_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    assigned_reason = models.CharField(max_length=24, choices=AssignmentReason.choices)
    assigned_at = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0)  # 1 manager, 2 security
    # First time the item was shown to its current reviewer (decision time counts from here).
    shown_at = models.DateTimeField(null=True, blank=True)
    # The current decision. An attached decision is never deleted (the database's foreign key
    # refuses it), so the column needs neither an index nor a cascade.
    decision = models.ForeignKey(
        "reviews.ReviewDecision",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Set when the reviewer signs off their queue: the decision can no longer change.
    locked_at = models.DateTimeField(null=True, blank=True)

    # The snapshot as canonical JSON text, byte for byte what ``snapshot_hash`` covers: nothing
    # (no database's JSON normalisation) stands between the evidence and its hash.
    snapshot_json = models.TextField()
    snapshot_hash = models.CharField(max_length=64)

    objects = ReviewItemQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "name", "id"]
        constraints = [
            # Identity first: the same index serves an identity's review history.
            models.UniqueConstraint(fields=["identity", "campaign"], name="review_item_unique")
        ]
        indexes = [
            models.Index(fields=["reviewer", "campaign", "status"], name="review_item_queue_idx"),
            models.Index(fields=["campaign", "status"], name="review_item_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} in campaign {self.campaign_id}"

    @cached_property
    def snapshot(self) -> dict[str, Any]:
        """The snapshot as Python values (parsed from :attr:`snapshot_json`)."""
        value = json.loads(self.snapshot_json) if self.snapshot_json else {}
        return value if isinstance(value, dict) else {}

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATUSES

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class ReviewDecision(models.Model):
    """One decision on one item: who, when, why, what they were shown, and from where.

    A changed decision is a new row (the old one gets ``superseded_at``); ``source`` tells a
    person from the no-response policy; ``on_behalf_of`` names the reviewer a security admin
    acted for. A handover decision also carries the new owner's answer.
    """

    item = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    source = models.CharField(
        max_length=8, choices=DecisionSource.choices, default=DecisionSource.HUMAN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    justification = models.TextField(blank=True)
    exception_until = models.DateField(null=True, blank=True)
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices)
    recommendation_reason = models.CharField(max_length=300)
    seconds_to_decide = models.FloatField(null=True, blank=True)
    bulk = models.BooleanField(default=False)
    # Self-review: the owner uses the identity themselves and kept it without a long enough
    # reason: a second reviewer from security must confirm.
    needs_confirmation = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    handover_to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handover_to_team = models.ForeignKey(
        "inventory.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handover_response = models.CharField(
        max_length=16, choices=HandoverResponse.choices, blank=True, default=""
    )
    handover_responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handover_responded_at = models.DateTimeField(null=True, blank=True)
    handover_response_reason = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["decided_by", "decided_at"], name="decision_by_time_idx"),
            models.Index(fields=["handover_to_user", "handover_response"], name="decision_ho_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on item {self.item_id} ({self.source})"

    @property
    def handover_target_label(self) -> str:
        if self.handover_to_user_id and self.handover_to_user is not None:
            return str(self.handover_to_user)
        if self.handover_to_team_id and self.handover_to_team is not None:
            return f"team {self.handover_to_team.name}"
        return ""


class ReviewAssignment(models.Model):
    """A change of reviewer: re-routed by a person, or escalated. The chain auditors ask for.

    The first reviewer is on the item (``first_reviewer``); each later change is one row here.
    ``None`` as a reviewer is the security queue; ``by`` None is the system (escalation).
    """

    item = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, related_name="assignments")
    from_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=24, choices=AssignmentReason.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Item {self.item_id}: {self.from_reviewer_id} -> {self.to_reviewer_id}"
