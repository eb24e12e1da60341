"""FilterSets of the cross-cutting lists (the audit trail)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from nhigov.models import AuditEvent


class DateInput(forms.DateInput):
    input_type = "date"


class AuditEventFilterSet(django_filters.FilterSet):
    """Filters of the audit log page and ``/api/audit-events/``."""

    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="iexact", label="Actor")
    verb = django_filters.CharFilter(method="filter_verb", label="Verb (or prefix, e.g. finding.)")
    object_type = django_filters.CharFilter(lookup_expr="iexact", label="Object type")
    object_id = django_filters.CharFilter(label="Object id")
    identity = django_filters.NumberFilter(
        method="filter_identity", label="Identity id (with its findings, reviews, remediation)"
    )
    campaign = django_filters.NumberFilter(
        method="filter_campaign", label="Campaign id (with its items)"
    )
    since = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label="From", widget=DateInput
    )
    until = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label="To", widget=DateInput
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_verb(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        value = value.strip()
        if not value:
            return queryset
        if value.endswith("."):
            return queryset.filter(verb__startswith=value)
        return queryset.filter(verb=value)

    def filter_identity(
        self, queryset: QuerySet[AuditEvent], name: str, value: Any
    ) -> QuerySet[AuditEvent]:
        """Events about the identity and about its findings, review items and remediation
        requests. The related ids are read first (a few rows each, from their own indexes), so
        every branch is an exact ``(object_type, object_id)`` lookup on ``audit_object_idx``."""
        if value is None:
            return queryset
        from inventory.models import Finding
        from reviews.models import RemediationRequest, ReviewItem

        pk = int(value)
        related = Q(object_type="inventory.identity", object_id=str(pk))
        for object_type, model in (
            ("inventory.finding", Finding),
            ("reviews.reviewitem", ReviewItem),
            ("reviews.remediationrequest", RemediationRequest),
        ):
            ids = [
                str(i) for i in model.objects.filter(identity_id=pk).values_list("pk", flat=True)
            ]
            if ids:
                related |= Q(object_type=object_type, object_id__in=ids)
        return queryset.filter(related)

    def filter_campaign(
        self, queryset: QuerySet[AuditEvent], name: str, value: Any
    ) -> QuerySet[AuditEvent]:
        """Events about the campaign and about each of its items (decisions, re-routes,
        escalations, automatic decisions). Item events can only fall between the campaign's
        creation and its close, which bounds the search of a large trail by date."""
        if value is None:
            return queryset
        from reviews.models import Campaign, ReviewItem

        pk = int(value)
        own = Q(object_type="reviews.campaign", object_id=str(pk))
        span = Campaign.objects.filter(pk=pk).values_list("created_at", "closed_at").first()
        if span is None:
            return queryset.filter(own)
        items = Q(object_type="reviews.reviewitem", at__gte=span[0]) & Q(
            object_id__in=_ids(ReviewItem, campaign_id=pk)
        )
        if span[1] is not None:
            items &= Q(at__lte=span[1])
        return queryset.filter(own | items)


def _ids(model: Any, **conditions: Any) -> QuerySet[Any]:
    """The primary keys of ``model`` rows matching ``conditions``, as text (``object_id``)."""
    return (
        model.objects.filter(**conditions)
        .order_by()
        .annotate(audit_key=Cast("pk", output_field=CharField()))
        .values("audit_key")
    )
