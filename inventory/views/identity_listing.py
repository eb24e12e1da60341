"""The inventory list: filters from the URL, sorts, keyset pages, the filter summary.

Shared by the inventory page, My identities, the bulk actions (which rebuild the list's filter
from its query string) and the CSV export, so all of them see exactly the same rows, always
through ``Identity.objects.visible_to(user)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from inventory.choices import RiskTier
from inventory.filtersets import IdentityFilterSet
from inventory.models import Account, Identity, Team
from inventory.views.access import may
from inventory.views.pagination import (
    PLAN_ANY,
    PLAN_BY_KEY,
    CappedCount,
    KeysetPage,
    KeysetPaginator,
    SortColumn,
    SortOrder,
    capped_count,
    read_plan,
)

PER_PAGE_CHOICES = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
# Parameters that move through the list rather than filter it.
PAGING_PARAMS = ("after", "before", "last", "p")
NOT_FILTERS = (*PAGING_PARAMS, "ordering", "per_page")
# Options offered in the filter form's lists (the fields also take any typed value).
OPTION_LIMIT = 1000
PEOPLE_SUGGESTED = 300


def risk_rank() -> Case:
    """critical 4 ... low 1: the risk column sorts by severity, not alphabetically."""
    return Case(
        *(When(risk_tier=tier, then=Value(rank)) for tier, rank in TIER_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


# NULL-free sort keys: "never used" sorts as the oldest use, "no owner" as key 0. A bare
# nullable column cannot bound a keyset range (``c < v OR c IS NULL`` is no index range); the
# same expressions are indexed by migration 0004_console.
NEVER = datetime(1900, 1, 1, tzinfo=UTC)


def never_used_first() -> Coalesce:
    return Coalesce(F("last_used_at"), Value(NEVER))


TIER_RANK = {RiskTier.CRITICAL: 4, RiskTier.HIGH: 3, RiskTier.MEDIUM: 2, RiskTier.LOW: 1}
NAME = SortColumn("name")


def _keyset(
    queryset: QuerySet[Any], fields: tuple[str, str], after: tuple[Any, Any] | None, desc: bool
) -> QuerySet[Any]:
    """``queryset`` in the order of ``fields`` (a label and the key), after ``after``."""
    label, key = fields
    if after is not None:
        op = "lt" if desc else "gt"
        queryset = queryset.filter(
            Q(**{f"{label}__{op}": after[0]}) | Q(**{label: after[0], f"{key}__{op}": after[1]})
        )
    return queryset.order_by(*(f"-{f}" if desc else f for f in fields))


class AccountGroups:
    """The account sort, read account by account (``pagination.GroupWalk``): accounts in the
    order of their number, each the index range ``(account_id, name, id)``."""

    leading = 2
    annotations: dict[str, Any] = {}

    def group_of(self, values: list[Any]) -> Q:
        return Q(account_id=values[1])

    def following(
        self, values: list[Any] | None, descending: bool, limit: int
    ) -> list[tuple[Q, list[Any]]]:
        accounts = Account.objects.filter(Exists(Identity.objects.filter(account=OuterRef("pk"))))
        after = (values[0], values[1]) if values is not None else None
        rows = _keyset(accounts, ("account_id", "pk"), after, descending)
        return [
            (Q(account_id=pk), [number, pk, None])
            for pk, number in rows.values_list("pk", "account_id")[:limit]
        ]


def _person_label(prefix: str = "") -> Coalesce:
    """How an owner is shown: their e-mail, else their username."""
    return Coalesce(NullIf(F(f"{prefix}email"), Value("")), F(f"{prefix}username"), Value(""))


class OwnerGroups:
    """The owner sort, read owner by owner (``pagination.GroupWalk``): no owner, then teams
    without a person (by name), then people (by e-mail), each the index range
    ``(COALESCE(owner_id, 0), COALESCE(owner_team_id, 0), name, id)``."""

    leading = 3
    annotations: dict[str, Any] = {
        "_group_owner": Coalesce(F("owner_id"), 0),
        "_group_team": Coalesce(F("owner_team_id"), 0),
    }
    NOBODY, TEAMS, PEOPLE = "nobody", "teams", "people"

    def group_of(self, values: list[Any]) -> Q:
        if values[2]:
            return Q(_group_owner=values[2])
        return Q(_group_owner=0, _group_team=values[3] or 0)

    def _segment(self, values: list[Any]) -> str:
        return self.PEOPLE if values[2] else self.TEAMS if values[3] else self.NOBODY

    def following(
        self, values: list[Any] | None, descending: bool, limit: int
    ) -> list[tuple[Q, list[Any]]]:
        segments = [self.NOBODY, self.TEAMS, self.PEOPLE]
        if descending:
            segments.reverse()
        current = self._segment(values) if values is not None else None
        if current is not None:
            segments = segments[segments.index(current) :]
        found: list[tuple[Q, list[Any]]] = []
        for segment in segments:
            after = values if segment == current else None
            found += self._groups(segment, after, descending, limit - len(found))
            if len(found) >= limit:
                break
        return found[:limit]

    def _groups(
        self, segment: str, after: list[Any] | None, descending: bool, limit: int
    ) -> list[tuple[Q, list[Any]]]:
        if segment == self.NOBODY:
            return (
                [] if after is not None else [(self.group_of(["", "", 0, 0]), ["", "", 0, 0, None])]
            )
        if segment == self.TEAMS:
            teams = Team.objects.filter(
                Exists(Identity.objects.filter(owner__isnull=True, owner_team=OuterRef("pk")))
            )
            rows = _keyset(
                teams, ("name", "pk"), (after[1], after[3]) if after else None, descending
            )
            return [
                (self.group_of(["", name, 0, pk]), ["", name, 0, pk, None])
                for pk, name in rows.values_list("pk", "name")[:limit]
            ]
        people = (
            get_user_model()
            .objects.annotate(_label=_person_label())
            .filter(Exists(Identity.objects.filter(owner=OuterRef("pk"))))
        )
        rows = _keyset(
            people, ("_label", "pk"), (after[0], after[2]) if after else None, descending
        )
        return [
            (self.group_of([label, "", pk, 0]), [label, "", pk, None, None])
            for pk, label in rows.values_list("pk", "_label")[:limit]
        ]


SORTS: dict[str, SortOrder] = {
    "name": SortOrder("name", (NAME,)),
    "kind": SortOrder("kind", (SortColumn("kind"), NAME)),
    # Account and owner sort by what the column shows (the account number; the owner's e-mail,
    # or the team's name): joined labels, read group by group on PostgreSQL when many match, so
    # that a page stays an index range or two at a million rows (pagination.GroupWalk).
    "account": SortOrder(
        "account",
        (SortColumn("account__account_id"), SortColumn("account_id", kind="int"), NAME),
        groups=AccountGroups(),
    ),
    "classification": SortOrder("classification", (SortColumn("classification"), NAME)),
    "owner": SortOrder(
        "owner",
        (
            SortColumn(_person_label("owner__")),
            SortColumn(
                Case(
                    When(owner__isnull=True, then=Coalesce(F("owner_team__name"), Value(""))),
                    default=Value(""),
                )
            ),
            SortColumn(Coalesce(F("owner_id"), 0), kind="int"),
            SortColumn(Coalesce(F("owner_team_id"), 0), kind="int"),
            NAME,
        ),
        groups=OwnerGroups(),
    ),
    "lifecycle_state": SortOrder("lifecycle_state", (SortColumn("lifecycle_state"), NAME)),
    "risk_tier": SortOrder(
        "risk_tier", (SortColumn(risk_rank(), kind="int", descending=True), NAME)
    ),
    "last_used": SortOrder("last_used", (SortColumn(never_used_first(), kind="datetime"),)),
    "flags": SortOrder(
        "flags",
        (
            SortColumn("is_privileged", kind="bool", descending=True),
            SortColumn("is_orphaned", kind="bool", descending=True),
            SortColumn("is_stale", kind="bool", descending=True),
            NAME,
        ),
    ),
}

# The table's columns: header, sort key. Every column sorts; classification (under the kind) and
# the flags (under the risk) sort from the "Sort by" list, which offers every order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Name", "name"),
    ("Kind", "kind"),
    ("Account", "account"),
    ("Owner", "owner"),
    ("Lifecycle", "lifecycle_state"),
    ("Risk", "risk_tier"),
    ("Last used", "last_used"),
)
SORT_CHOICES: tuple[tuple[str, str], ...] = (
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("risk_tier", "Riskiest first"),
    ("-risk_tier", "Least risky first"),
    ("last_used", "Least recently used first"),
    ("-last_used", "Most recently used first"),
    ("flags", "Privileged, orphaned, stale first"),
    ("kind", "Kind"),
    ("classification", "Classification"),
    ("account", "Account number"),
    ("owner", "Owner: none, teams, people (A to Z)"),
    ("lifecycle_state", "Lifecycle state"),
)


@dataclass(frozen=True)
class FilterChip:
    """One active filter, with the URL of the same list without it."""

    label: str
    value: str
    remove_url: str


@dataclass
class Listing:
    filterset: IdentityFilterSet
    queryset: QuerySet[Identity]
    params: QueryDict


def identity_filterset(request: HttpRequest, params: QueryDict) -> IdentityFilterSet:
    """The list's FilterSet over what the user may see: the one gate for every list action."""
    base = Identity.objects.visible_to(request.user)
    return IdentityFilterSet(params, queryset=base, request=request)


def filtered_identities(request: HttpRequest, params: QueryDict) -> Listing:
    filterset = identity_filterset(request, params)
    return Listing(filterset=filterset, queryset=filterset.qs, params=params)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def _without(params: QueryDict, *names: str) -> QueryDict:
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return copy


def _choice_labels(filterset: IdentityFilterSet, name: str) -> dict[str, str]:
    choices = filterset.filters[name].extra.get("choices") or []
    return {str(value): str(label) for value, label in choices}


def filter_chips(
    filterset: IdentityFilterSet, params: QueryDict, list_url: str, *, hidden: tuple[str, ...]
) -> list[FilterChip]:
    """The active filters as removable chips: what the URL filters on is what is shown."""
    chips = []
    base = _without(params, *PAGING_PARAMS)
    for key, values in params.lists():
        if key in NOT_FILTERS or key in hidden or key not in filterset.filters:
            continue
        flt = filterset.filters[key]
        label = str(flt.label or key.replace("_", " ").capitalize())
        labels = _choice_labels(filterset, key)
        for value in values:
            if value == "":
                continue
            shown = labels.get(value, value) if labels else value
            if not labels and value in ("true", "false"):
                shown = "yes" if value == "true" else "no"
            query = base.copy()
            query.setlist(key, [v for v in values if v != value])
            encoded = query.urlencode()
            chips.append(FilterChip(label, shown, f"{list_url}?{encoded}" if encoded else list_url))
    return chips


def sort_from(params: QueryDict) -> tuple[SortOrder, bool]:
    value = (params.get("ordering") or "name").strip()
    reverse = value.startswith("-")
    order = SORTS.get(value.lstrip("-"))
    if order is None:
        return SORTS["name"], False
    return order, reverse


def header_columns(
    params: QueryDict, list_url: str, order: SortOrder, reverse: bool
) -> list[dict[str, str]]:
    base = _without(params, *PAGING_PARAMS, "ordering")
    columns = []
    for label, key in COLUMNS:
        active = key == order.key
        first_desc = SORTS[key].columns[0].descending
        descending = first_desc != reverse if active else False
        next_value = (f"-{key}" if not reverse else key) if active else key
        query = base.copy()
        query["ordering"] = next_value
        columns.append(
            {
                "label": label,
                "key": key,
                "url": f"{list_url}?{query.urlencode()}",
                "aria_sort": ("descending" if descending else "ascending") if active else "",
            }
        )
    return columns


def listing_context(
    request: HttpRequest,
    *,
    params: QueryDict,
    list_url: str,
    forced: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the list page and its htmx partial render. A fixed number of queries."""
    forced = forced or {}
    effective = params.copy()
    for key, value in forced.items():
        effective[key] = value
    listing = filtered_identities(request, effective)
    order, flipped = sort_from(params)
    per_page = _int(params.get("per_page"), DEFAULT_PER_PAGE)
    if per_page not in PER_PAGE_CHOICES:
        per_page = DEFAULT_PER_PAGE
    count: CappedCount = capped_count(listing.queryset)
    queryset = listing.queryset
    plan = read_plan(count) if _filtered(effective) else PLAN_ANY
    related = ("account", "owner", "owner_team")
    rows = None
    if plan == PLAN_BY_KEY and count.ids is not None:
        # Few match: sort their keys, then read the page's rows by key; both through the gate.
        gate = Identity.objects.visible_to(request.user)
        queryset = gate.filter(key_in(Identity, count.ids))
        rows = gate.select_related(*related)
    queryset = queryset.select_related(*related)
    paginator = KeysetPaginator(
        queryset,
        order,
        per_page=per_page,
        reverse=flipped,
        plan=plan,
        rows=rows,
        # Account and owner groups are dense over the whole estate only; an owner's few
        # identities (or My identities) are cheaper sorted than looked for in every group.
        walk_groups=may(request.user, "sees_all_identities") and not forced,
    )
    page: KeysetPage[Identity] = paginator.page(
        after=params.get("after", ""),
        before=params.get("before", ""),
        last=params.get("last") == "1",
        number=_int(params.get("p"), 0) or None,  # shown only, unknown after "Last"
    )
    state = _without(params, *PAGING_PARAMS)  # filters, sort and page size
    filters_only = _without(params, *NOT_FILTERS)
    state_query = state.urlencode()

    def page_url(**extra: str) -> str:
        query = state.copy()
        for key, value in extra.items():
            query[key] = value
        return f"{list_url}?{query.urlencode()}"

    number = page.number
    user = request.user
    return {
        "filterset": listing.filterset,
        "page": page,
        "count": count,
        "list_url": list_url,
        "state_query": state_query,
        "filter_query": filters_only.urlencode(),
        "export_url": reverse("inventory:identity-export")
        + ("?" + _export_query(filters_only, forced) if filters_only or forced else ""),
        "ordering_value": paginator.sort_value,
        "sort_choices": SORT_CHOICES,
        "per_page": per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "columns": header_columns(params, list_url, order, flipped),
        "chips": filter_chips(listing.filterset, params, list_url, hidden=tuple(forced)),
        "first_url": page_url(),
        "next_url": page_url(after=page.next_cursor, **_page_number(number, +1))
        if page.has_next
        else "",
        "previous_url": page_url(before=page.previous_cursor, **_page_number(number, -1))
        if page.has_previous
        else "",
        "last_url": page_url(last="1"),
        "can_assign": may(user, "can_assign_owners"),
        "forced": forced,
        # One reverse() for the page instead of one per row.
        "detail_base": reverse("inventory:identity-detail", args=[0]).removesuffix("0/"),
        **_options(listing.filterset, user),
    }


def _page_number(number: int | None, step: int) -> dict[str, str]:
    return {"p": str(max(1, number + step))} if number else {}


def key_in(model: type[Model], ids: Sequence[int]) -> Q | RawSQL:
    """``pk IN ids`` as one array parameter on PostgreSQL (``id = ANY(%s)``): thousands of
    separate placeholders cost more to build and parse than the query costs to run."""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    column = f'"{model._meta.db_table}"."{model._meta.pk.column}"'
    # Identifiers from the model's own metadata; the keys are one bound parameter.
    return RawSQL(f"{column} = ANY(%s)", (list(ids),), output_field=BooleanField())  # noqa: S611


def _filtered(params: QueryDict) -> bool:
    return any(v for k, values in params.lists() if k not in NOT_FILTERS for v in values)


def _export_query(filters: QueryDict, forced: dict[str, str]) -> str:
    query = filters.copy()
    for key, value in forced.items():
        query[key] = value
    return query.urlencode()


_SELECTED = {True: " selected", False: ""}


def _option_list(options: Iterable[tuple[Any, Any, bool]]) -> SafeString:
    """``<option>`` elements, every value and label escaped: a page renders hundreds of them
    (accounts, teams, people), and one join costs a fraction of a template loop."""
    return mark_safe(  # noqa: S308 - every interpolated value is escaped just here
        "".join(
            f'<option value="{escape(value)}"{_SELECTED[chosen]}>{escape(label)}</option>'
            for value, label, chosen in options
        )
    )


def _options(filterset: IdentityFilterSet, user: Any) -> dict[str, Any]:
    """The lists of the filter and bulk forms."""
    data = filterset.form.data if filterset.is_bound else {}
    chosen_account = str(data.get("account") or "")
    chosen_team = str(data.get("team") or "").lower()
    accounts = Account.objects.order_by("account_id").values_list("account_id", "name")
    teams = list(Team.objects.order_by("name").values_list("id", "name")[:OPTION_LIMIT])
    return {
        "account_options": _option_list(
            (a, f"{a} · {n}" if n else a, a == chosen_account) for a, n in accounts[:OPTION_LIMIT]
        ),
        "team_filter_options": _option_list((n, n, n.lower() == chosen_team) for _, n in teams),
        "team_options": _option_list((pk, n, False) for pk, n in teams),
        "people_options": _option_list((v, u, False) for v, u in owner_suggestions(user)),
    }


def owner_suggestions(user: Any) -> list[tuple[str, str]]:
    """Suggestions for the owner field of the bulk form (only shown to who may assign)."""
    if not may(user, "can_assign_owners"):
        return []
    rows = (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("email")
        .values_list("email", "username")[:PEOPLE_SUGGESTED]
    )
    return [(email or username, username) for email, username in rows]


def inventory_list_url(mine: bool = False) -> str:
    return reverse("inventory:my-identities" if mine else "inventory:identity-list")
