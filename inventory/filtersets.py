"""One FilterSet per listable model, shared by the htmx pages and the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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
    RunTrigger,
    Severity,
)
from inventory.identity_search import (
    filter_tag,
    search_identities,
    start_of_day,
    with_key_older_than,
)
from inventory.models import DiscoveryRun, Finding, Identity


class AnyYesNo(BooleanWidget):
    """true / false in the URL, "Any" when unset (django-filter says "Unknown")."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


def yes_no(**kwargs: object) -> django_filters.BooleanFilter:
    return django_filters.BooleanFilter(widget=AnyYesNo, **kwargs)


class IdentityFilterSet(django_filters.FilterSet):
    """Filters of the inventory list and ``/api/identities/``.

    Every filter is a plain condition on ``inventory_identity`` or a subquery (never a join that
    multiplies rows), so the list keeps one row per identity and its keyset pagination stays
    valid. What each one costs at a million rows: ``docs/benchmarks.md``.
    """

    q = django_filters.CharFilter(method="search", label="Search")
    provider = django_filters.ChoiceFilter(choices=Provider.choices)
    account = django_filters.CharFilter(field_name="account__account_id", label="Account id")
    # distinct=False throughout: no filter joins rows that multiply, and a DISTINCT over the
    # whole row would make PostgreSQL sort every match before returning a page.
    kind = django_filters.MultipleChoiceFilter(choices=IdentityKind.choices, distinct=False)
    classification = django_filters.MultipleChoiceFilter(
        choices=Classification.choices, distinct=False
    )
    lifecycle_state = django_filters.MultipleChoiceFilter(
        choices=LifecycleState.choices, distinct=False
    )
    present = yes_no(method="filter_present", label="Still at the provider")
    owner = django_filters.CharFilter(method="filter_owner", label="Owner (e-mail or username)")
    team = django_filters.CharFilter(field_name="owner_team__name", lookup_expr="iexact")
    no_owner = yes_no(method="filter_no_owner", label="No owner")
    mine = yes_no(method="filter_mine", label="Mine (me or my teams)")
    orphaned = yes_no(field_name="is_orphaned")
    stale = yes_no(field_name="is_stale")
    privileged = yes_no(field_name="is_privileged")
    owner_unmatched = yes_no()
    risk_tier = django_filters.MultipleChoiceFilter(
        choices=RiskTier.choices, label="Risk tier", distinct=False
    )
    rule = django_filters.CharFilter(method="filter_rule", label="Open finding (rule id)")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag (key=value or key)")
    last_used_after = django_filters.DateFilter(
        method="filter_last_used_after", label="Last used on or after"
    )
    last_used_before = django_filters.DateFilter(
        method="filter_last_used_before", label="Last used before"
    )
    never_used = yes_no(field_name="last_used_at", lookup_expr="isnull", label="Never used")
    key_older_than = django_filters.NumberFilter(
        method="filter_key_older_than", label="Active key older than (days)", min_value=0
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("kind", "kind"),
            ("account__account_id", "account"),
            ("classification", "classification"),
            ("owner__email", "owner"),
            ("lifecycle_state", "lifecycle_state"),
            ("last_used_at", "last_used"),
            ("created_at", "created"),
            ("risk_tier", "risk_tier"),
            ("is_privileged", "flags"),
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
        return search_identities(queryset, value)

    def filter_tag(self, queryset: QuerySet[Identity], name: str, value: str) -> QuerySet[Identity]:
        return filter_tag(queryset, value)

    def filter_present(
        self, queryset: QuerySet[Identity], name: str, value: bool | None
    ) -> QuerySet[Identity]:
        if value is None:
            return queryset
        gone = Q(lifecycle_state__in=(LifecycleState.VANISHED, LifecycleState.DEPROVISIONED))
        return queryset.exclude(gone) if value else queryset.filter(gone)

    def filter_last_used_after(
        self, queryset: QuerySet[Identity], name: str, value: date | None
    ) -> QuerySet[Identity]:
        return queryset.filter(last_used_at__gte=start_of_day(value)) if value else queryset

    def filter_last_used_before(
        self, queryset: QuerySet[Identity], name: str, value: date | None
    ) -> QuerySet[Identity]:
        return queryset.filter(last_used_at__lt=start_of_day(value)) if value else queryset

    def filter_key_older_than(
        self, queryset: QuerySet[Identity], name: str, value: Decimal | None
    ) -> QuerySet[Identity]:
        return queryset if value is None else with_key_older_than(queryset, int(value))

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

    def filter_mine(
        self, queryset: QuerySet[Identity], name: str, value: bool | None
    ) -> QuerySet[Identity]:
        user = getattr(self.request, "user", None)
        if value is None or user is None or not user.is_authenticated:
            return queryset
        mine = Q(owner=user) | Q(owner_team__in=user.teams.values("id"))
        return queryset.filter(mine) if value else queryset.exclude(mine)


class FindingFilterSet(django_filters.FilterSet):
    """Filters of the findings list and ``/api/findings/``."""

    rule = django_filters.MultipleChoiceFilter(
        field_name="rule_id", choices=[], label="Rule", distinct=False
    )
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices, distinct=False)
    account = django_filters.CharFilter(
        field_name="identity__account__account_id", label="Account id"
    )
    kind = django_filters.MultipleChoiceFilter(
        field_name="identity__kind", choices=IdentityKind.choices, label="Kind", distinct=False
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
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices, distinct=False)
    account = django_filters.CharFilter(field_name="account_id", label="Account id")
    trigger = django_filters.MultipleChoiceFilter(choices=RunTrigger.choices, distinct=False)

    class Meta:
        model = DiscoveryRun
        fields: list[str] = []
