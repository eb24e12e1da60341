from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reviews.choices import Outcome
from reviews.models import Campaign, ReviewDecision, ReviewItem
from reviews.services.population import scope_label


def _person(user: Any) -> str | None:
    return (user.email or user.get_username()) if user is not None else None


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    scope_label = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "scope",
            "scope_label",
            "trigger_reason",
            "no_response_policy",
            "due_at",
            "closes_at",
            "created_at",
            "activated_at",
            "closing_at",
            "closed_at",
            "inventory_count",
            "excluded_count",
            "population_count",
            "snapshot_hash",
            "signed_off_name",
            "signed_off_role",
            "no_response_summary",
            "close_summary_hash",
        ]

    def get_scope_label(self, obj: Campaign) -> str:
        return scope_label(obj.scope)


class DecisionSerializer(serializers.ModelSerializer[ReviewDecision]):
    # Plain strings: the same values as ``outcome`` (one enum name in the schema).
    recommendation = serializers.CharField(read_only=True)
    decided_by = serializers.SerializerMethodField()
    on_behalf_of = serializers.SerializerMethodField()
    handover_to = serializers.SerializerMethodField()

    class Meta:
        model = ReviewDecision
        fields = [
            "id",
            "outcome",
            "source",
            "decided_by",
            "on_behalf_of",
            "decided_at",
            "justification",
            "exception_until",
            "recommendation",
            "recommendation_reason",
            "seconds_to_decide",
            "bulk",
            "needs_confirmation",
            "confirmed_at",
            "handover_to",
            "handover_response",
        ]

    def get_decided_by(self, obj: ReviewDecision) -> str | None:
        return _person(obj.decided_by)

    def get_on_behalf_of(self, obj: ReviewDecision) -> str | None:
        return _person(obj.on_behalf_of)

    def get_handover_to(self, obj: ReviewDecision) -> str | None:
        return obj.handover_target_label or None


class ReviewItemSerializer(serializers.ModelSerializer[ReviewItem]):
    recommendation = serializers.CharField(read_only=True)
    snapshot = serializers.JSONField(read_only=True)
    reviewer = serializers.SerializerMethodField()
    decision = DecisionSerializer(read_only=True)

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "campaign",
            "identity",
            "name",
            "kind",
            "tier",
            "status",
            "version",
            "reviewer",
            "assigned_reason",
            "assigned_at",
            "escalation_level",
            "recommendation",
            "recommendation_reason",
            "flagged",
            "justification_required",
            "self_review",
            "bulk_keep_eligible",
            "last_used_at",
            "decided_at",
            "locked_at",
            "decision",
            "snapshot",
            "snapshot_hash",
        ]

    def get_reviewer(self, obj: ReviewItem) -> str | None:
        return _person(obj.reviewer)


class DecideSerializer(serializers.Serializer[Any]):
    """A decision on one item, by its reviewer (or a security admin on their behalf)."""

    outcome = serializers.ChoiceField(choices=Outcome.choices)
    justification = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    exception_until = serializers.DateField(required=False, allow_null=True)
    handover_to = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="A person's e-mail or username, or team:NAME.",
    )
    version = serializers.IntegerField(
        required=False, min_value=0, help_text="The item version you saw (409 if it changed)."
    )
    on_behalf_of = serializers.IntegerField(
        required=False, min_value=1, help_text="Security admins: the reviewer's user id."
    )
