"""One FilterSet per listable model, shared by the htmx pages and the API."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django_filters.widgets import BooleanWidget

from inventory.choices import (
    Classification,
    FindingStatus,
    IdentityKind,
    LifecycleState,
    Provider,
    RiskTier,
    RunStatus,
    Severity,
)
from inventory.models import DiscoveryRun, Finding, Identity

_ACCESS_KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,}$")


class AnyYesNo(BooleanWidget):
    """true / false in the URL, "Any" when unset (django-filter says "Unknown")."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


def yes_no(**kwargs: object) -> django_filters.BooleanFilter:
    return django_filters.BooleanFilter(widget=AnyYesNo, **kwargs)


class IdentityFilterSet(django_filters.FilterSet):
    """Filters of the inventory list and ``/api/identities/``."""

    q = django_filters.CharFilter(method="search", label="Search")
    provider = django_filters.ChoiceFilter(choices=Provider.choices)
    account = django_filters.CharFilter(field_name="account__account_id", label="Account id")
    kind = django_filters.MultipleChoiceFilter(choices=IdentityKind.choices)
    classification = django_filters.MultipleChoiceFilter(choices=Classification.choices)
    lifecycle_state = django_filters.MultipleChoiceFilter(choices=LifecycleState.choices)
    owner = django_filters.CharFilter(method="filter_owner", label="Owner (e-mail or username)")
    team = django_filters.CharFilter(field_name="owner_team__name", lookup_expr="iexact")
    no_owner = yes_no(method="filter_no_owner", label="No owner")
    orphaned = yes_no(field_name="is_orphaned")
    stale = yes_no(field_name="is_stale")
    privileged = yes_no(field_name="is_privileged")
    owner_unmatched = yes_no()
    risk_tier = django_filters.MultipleChoiceFilter(choices=RiskTier.choices, label="Risk tier")
    rule = django_filters.CharFilter(method="filter_rule", label="Open finding (rule id)")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("kind", "kind"),
            ("account__account_id", "account"),
            ("classification", "classification"),
            ("lifecycle_state", "lifecycle_state"),
            ("last_used_at", "last_used"),
            ("created_at", "created"),
            ("risk_tier", "risk_tier"),
        )
    )

    class Meta:
        model = Identity
        fields: list[str] = []

    def filter_rule(
        self, queryset: QuerySet[Identity], name: str, value: str
    ) -> QuerySet[Identity]:
        value = value.strip().upper()
        if not value:
            return queryset
        # A subquery rather than a join: no duplicate rows when a rule fires twice (two keys).
        return queryset.filter(
            id__in=Finding.objects.filter(rule_id=value, status=FindingStatus.OPEN).values(
                "identity_id"
            )
        )

    def search(self, queryset: QuerySet[Identity], name: str, value: str) -> QuerySet[Identity]:
        value = value.strip()
        if not value:
            return queryset
        if _ACCESS_KEY_RE.match(value):
            return queryset.filter(credentials__native_id=value)
        return queryset.filter(
            Q(name__icontains=value) | Q(arn__icontains=value) | Q(native_id__icontains=value)
        )

    def filter_owner(
        self, queryset: QuerySet[Identity], name: str, value: str
    ) -> QuerySet[Identity]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(owner__email__iexact=value) | Q(owner__username__iexact=value))

    def filter_no_owner(
        self, queryset: QuerySet[Identity], name: str, value: bool | None
    ) -> QuerySet[Identity]:
        if value is None:
            return queryset
        unowned = Q(owner__isnull=True, owner_team__isnull=True)
        return queryset.filter(unowned) if value else queryset.exclude(unowned)


class FindingFilterSet(django_filters.FilterSet):
    """Filters of the findings list and ``/api/findings/``."""

    rule = django_filters.MultipleChoiceFilter(field_name="rule_id", choices=[], label="Rule")
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    account = django_filters.CharFilter(
        field_name="identity__account__account_id", label="Account id"
    )
    kind = django_filters.MultipleChoiceFilter(
        field_name="identity__kind", choices=IdentityKind.choices, label="Kind"
    )
    owner = django_filters.CharFilter(method="filter_owner", label="Owner (e-mail or username)")
    q = django_filters.CharFilter(method="search", label="Search")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("severity_rank", "severity"),
            ("rule_id", "rule"),
            ("identity__name", "identity"),
            ("first_seen_at", "first_seen"),
            ("last_seen_at", "last_seen"),
        )
    )

    class Meta:
        model = Finding
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from inventory.risk.rules import RULES

        self.filters["rule"].extra["choices"] = [(r, f"{r} {RULES[r].title}") for r in RULES]

    def filter_owner(self, queryset: QuerySet[Finding], name: str, value: str) -> QuerySet[Finding]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(identity__owner__email__iexact=value) | Q(identity__owner__username__iexact=value)
        )

    def search(self, queryset: QuerySet[Finding], name: str, value: str) -> QuerySet[Finding]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(identity__name__icontains=value) | Q(identity__arn__icontains=value) | Q(key=value)
        )


class DiscoveryRunFilterSet(django_filters.FilterSet):
    """Filters of the discovery runs list and ``/api/runs/``."""

    source = django_filters.CharFilter(field_name="source__name")
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)
    account = django_filters.CharFilter(field_name="account_id")

    class Meta:
        model = DiscoveryRun
        fields: list[str] = []
