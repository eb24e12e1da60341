"""FilterSets of the cross-cutting lists (the audit trail)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from nhigov.models import AuditEvent


class DateInput(forms.DateInput):
    input_type = "date"


class AuditEventFilterSet(django_filters.FilterSet):
    """Filters of the audit log page and ``/api/audit-events/``."""

    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="iexact", label="Actor")
    verb = django_filters.CharFilter(method="filter_verb", label="Verb (or prefix, e.g. finding.)")
    object_type = django_filters.CharFilter(lookup_expr="iexact", label="Object type")
    object_id = django_filters.CharFilter(label="Object id")
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
