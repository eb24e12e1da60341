"""One FilterSet per listable model, shared by the htmx pages and the API."""

from __future__ import annotations

import re

import django_filters
from django.db.models import Q, QuerySet
from django_filters.widgets import BooleanWidget

from inventory.choices import Classification, IdentityKind, LifecycleState, Provider, RunStatus
from inventory.models import DiscoveryRun, Identity

_ACCESS_KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,}$")


class AnyYesNo(BooleanWidget):
    """true / false in the URL, "Any" when unset (django-filter says "Unknown")."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


def yes_no(**kwargs: object) -> django_filters.BooleanFilter:
    return django_filters.BooleanFilter(widget=AnyYesNo, **kwargs)  # type: ignore[arg-type]


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
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("kind", "kind"),
            ("account__account_id", "account"),
            ("classification", "classification"),
            ("lifecycle_state", "lifecycle_state"),
            ("last_used_at", "last_used"),
            ("created_at", "created"),
        )
    )

    class Meta:
        model = Identity
        fields: list[str] = []

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


class DiscoveryRunFilterSet(django_filters.FilterSet):
    """Filters of the discovery runs list and ``/api/runs/``."""

    source = django_filters.CharFilter(field_name="source__name")
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)
    account = django_filters.CharFilter(field_name="account_id")

    class Meta:
        model = DiscoveryRun
        fields: list[str] = []
