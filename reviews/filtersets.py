"""One FilterSet per listable model, shared by the review pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from reviews.choices import CampaignKind, CampaignStatus, ItemStatus, Recommendation
from reviews.models import Campaign, ReviewItem

TIER_CHOICES = [("critical", "Critical"), ("high", "High"), ("medium", "Medium"), ("low", "Low")]


class ReviewItemFilterSet(django_filters.FilterSet):
    """Filters of the queue, the campaign's item table and ``/api/reviews/items/``."""

    campaign = django_filters.NumberFilter(field_name="campaign_id")
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices)
    recommendation = django_filters.MultipleChoiceFilter(choices=Recommendation.choices)
    tier = django_filters.MultipleChoiceFilter(choices=TIER_CHOICES)
    reviewer = django_filters.NumberFilter(field_name="reviewer_id")
    security_queue = django_filters.BooleanFilter(field_name="reviewer", lookup_expr="isnull")
    source = django_filters.ChoiceFilter(
        field_name="decision__source", choices=[("human", "Person"), ("auto", "No-response policy")]
    )
    bulk_keep_eligible = django_filters.BooleanFilter()
    flagged = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="search", label="Search")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("priority", "priority"),
            ("name", "name"),
            ("last_used_at", "last_used"),
            ("decided_at", "decided"),
            ("tier", "tier"),
        )
    )

    class Meta:
        model = ReviewItem
        fields: list[str] = []

    def search(self, queryset: QuerySet[ReviewItem], name: str, value: str) -> QuerySet[ReviewItem]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(identity__arn__icontains=value))


class CampaignFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=CampaignKind.choices)

    class Meta:
        model = Campaign
        fields: list[str] = []
