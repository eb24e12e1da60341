"""Counting the inventory: the key counts the dashboard shows and the daily snapshot keeps.

Each count is defined once, as a filter on identities *and* the inventory URL query that lists the
same identities, so every number on the dashboard links to exactly the rows behind it (a test
checks that the two agree). All counts come from one aggregate query (conditional ``COUNT``s in a
single pass over the rows), plus one grouped query for the per-account table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from inventory.choices import (
    Classification,
    IdentityKind,
    LifecycleState,
    Provider,
    RiskTier,
)
from inventory.models import Account, Identity

# Still at the provider: what "the identities we have" means on the dashboard.
GONE_STATES = (LifecycleState.VANISHED, LifecycleState.DEPROVISIONED)
PRESENT = ~Q(lifecycle_state__in=GONE_STATES)
PRESENT_PARAMS: tuple[tuple[str, str], ...] = (("present", "true"),)
MACHINE_CLASSES = (Classification.MACHINE, Classification.MACHINE_USED_BY_PERSON)
UNOWNED = Q(owner__isnull=True, owner_team__isnull=True)


@dataclass(frozen=True)
class Measure:
    """One count: its key in snapshots, its label, its filter and the inventory query for it."""

    key: str
    label: str
    q: Q
    params: tuple[tuple[str, str], ...]
    present_only: bool = True

    def filter(self) -> Q:
        return self.q & PRESENT if self.present_only else self.q

    def query(self) -> list[tuple[str, str]]:
        return [*PRESENT_PARAMS, *self.params] if self.present_only else list(self.params)


def _machine_params() -> tuple[tuple[str, str], ...]:
    return tuple(("classification", str(c)) for c in MACHINE_CLASSES)


HEADLINE: tuple[Measure, ...] = (
    Measure("total", "Identities", Q(), ()),
    Measure(
        "machine", "Machine identities", Q(classification__in=MACHINE_CLASSES), _machine_params()
    ),
    Measure("unowned", "No owner", UNOWNED, (("no_owner", "true"),)),
    Measure("orphaned", "Orphaned", Q(is_orphaned=True), (("orphaned", "true"),)),
    Measure("stale", "Stale", Q(is_stale=True), (("stale", "true"),)),
    Measure("privileged", "Privileged", Q(is_privileged=True), (("privileged", "true"),)),
    Measure(
        "privileged_unowned",
        "Privileged and nobody owns",
        Q(is_privileged=True) & UNOWNED,
        (("privileged", "true"), ("no_owner", "true")),
    ),
    Measure(
        "owner_unmatched",
        "Owner tag matches nobody",
        Q(owner_unmatched=True),
        (("owner_unmatched", "true"),),
    ),
)


def _by(
    field: str,
    choices: Iterable[tuple[str, str]],
    *,
    param: str | None = None,
    present_only: bool = True,
) -> tuple[Measure, ...]:
    return tuple(
        Measure(
            f"{field}:{value}",
            str(label),
            Q(**{field: value}),
            ((param or field, str(value)),),
            present_only=present_only,
        )
        for value, label in choices
    )


BREAKDOWNS: dict[str, tuple[Measure, ...]] = {
    "provider": _by("provider", Provider.choices),
    "kind": _by("kind", IdentityKind.choices),
    "classification": _by("classification", Classification.choices),
    "risk_tier": _by("risk_tier", RiskTier.choices),
    # Lifecycle covers every identity: vanished and deprovisioned are states of their own.
    "lifecycle_state": _by("lifecycle_state", LifecycleState.choices, present_only=False),
}
BREAKDOWN_TITLES = {
    "provider": "By provider",
    "kind": "By kind",
    "classification": "By classification",
    "risk_tier": "By risk tier",
    "lifecycle_state": "By lifecycle state",
}
ALL_MEASURES: tuple[Measure, ...] = HEADLINE + tuple(
    m for group in BREAKDOWNS.values() for m in group
)
MEASURES_BY_KEY = {m.key: m for m in ALL_MEASURES}


def inventory_counts(queryset: QuerySet[Identity]) -> dict[str, int]:
    """Every measure's count over ``queryset``, in one query (one pass over the rows)."""
    aggregates = {f"m{i}": Count("pk", filter=m.filter()) for i, m in enumerate(ALL_MEASURES)}
    row = queryset.order_by().aggregate(**aggregates)
    return {m.key: int(row[f"m{i}"] or 0) for i, m in enumerate(ALL_MEASURES)}


ACCOUNT_COLUMNS: tuple[Measure, ...] = tuple(
    MEASURES_BY_KEY[k] for k in ("total", "machine", "unowned", "stale", "orphaned", "privileged")
)


def counts_by_account(queryset: QuerySet[Identity]) -> list[dict[str, Any]]:
    """Per account: the headline counts of its present identities, biggest account first.

    Grouped by the account key (an index), then the few account rows are read by id: cheaper
    than grouping a million rows by the joined account number and name.
    """
    rows = list(
        queryset.order_by()
        .filter(PRESENT)
        .values("account_id")
        .annotate(**{m.key: Count("pk", filter=m.q) for m in ACCOUNT_COLUMNS})
    )
    accounts = Account.objects.in_bulk([r["account_id"] for r in rows])
    result = []
    for r in rows:
        account = accounts.get(r["account_id"])
        if account is None:
            continue
        result.append({"account": account, **{m.key: r[m.key] for m in ACCOUNT_COLUMNS}})
    result.sort(key=lambda r: (-r["total"], r["account"].account_id))
    return result


def inventory_url(params: Iterable[tuple[str, str]]) -> str:
    """The inventory list filtered by ``params``."""
    query = urlencode(list(params))
    base = reverse("inventory:identity-list")
    return f"{base}?{query}" if query else base


def measure_url(measure: Measure, *extra: tuple[str, str]) -> str:
    return inventory_url([*measure.query(), *extra])
