"""Bulk actions on the inventory: assign an owner or team, export CSV; on a selection or on
everything the current filter matches.

The rows are always rebuilt on the server from the list's own filter (its query string) or from
the selected ids, both through ``Identity.objects.visible_to(user)``: a crafted request cannot
reach an identity the user cannot see, and only ``can_assign_owners`` may assign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from inventory.exports import csv_lines, export_queryset, export_records
from inventory.forms import OwnerAssignmentForm
from inventory.models import Identity
from inventory.services.owners import (
    OwnerAssignmentError,
    owner_assign,
    owner_assign_filtered,
)
from inventory.views.access import may
from inventory.views.identity_listing import (
    NOT_FILTERS,
    filter_chips,
    filtered_identities,
    inventory_list_url,
)
from nhigov.models import User

MAX_SELECTED = 1000  # one page at most (the largest page size is 200)


def csv_response(queryset: QuerySet[Identity]) -> StreamingHttpResponse:
    """The identities as CSV, streamed row by row (constant memory), formula-safe cells."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_lines(export_records(export_queryset(queryset))), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="nhigov-identities-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def identity_export(request: HttpRequest) -> StreamingHttpResponse:
    """Everything the list's filters match, as CSV (same filters, same gate as the page)."""
    listing = filtered_identities(request, request.GET)
    return csv_response(listing.queryset)


def _selected_ids(request: HttpRequest) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids")[:MAX_SELECTED]:
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


def _filter_params(request: HttpRequest) -> QueryDict:
    params = QueryDict(request.POST.get("filter", ""), mutable=True)
    for name in NOT_FILTERS:
        params.pop(name, None)
    if request.POST.get("origin") == "mine":
        params["mine"] = "true"
    return params


@dataclass
class BulkTarget:
    """What a bulk action applies to: the selected rows, or everything the filter matches."""

    scope: str  # "selected" or "filter"
    ids: list[int]
    params: QueryDict
    mine: bool
    queryset: QuerySet[Identity]


def _target(request: HttpRequest) -> BulkTarget:
    scope = "filter" if request.POST.get("scope") == "filter" else "selected"
    params = _filter_params(request)
    ids = _selected_ids(request)
    queryset: QuerySet[Identity]
    if scope == "selected":
        queryset = Identity.objects.visible_to(request.user).filter(pk__in=ids)
    else:
        queryset = filtered_identities(request, params).queryset
    return BulkTarget(scope, ids, params, request.POST.get("origin") == "mine", queryset)


@require_POST
@login_required
def identity_bulk(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Apply a bulk action; assigning to a whole filter asks for confirmation first."""
    action = request.POST.get("action", "")
    target = _target(request)
    if action not in ("export", "assign"):
        return HttpResponseBadRequest("Unknown bulk action.")
    if target.scope == "selected" and not target.ids:
        what = "export" if action == "export" else "assign an owner to"
        return _back_with_error(
            request, target, f"Select the identities to {what}, or choose all that match."
        )
    if action == "export":
        return csv_response(target.queryset)
    return _bulk_assign(request, target)


def _bulk_assign(request: HttpRequest, target: BulkTarget) -> HttpResponse:
    if not may(request.user, "can_assign_owners"):
        raise PermissionDenied("Only the security team can assign owners.")
    form = OwnerAssignmentForm(request.POST)
    context: dict[str, Any] = {
        "form": form,
        "scope": target.scope,
        "ids": target.ids,
        "filter_query": request.POST.get("filter", ""),
        "origin": "mine" if target.mine else "",
        "list_url": _list_url(target),
        "chips": filter_chips(
            filtered_identities(request, target.params).filterset,
            target.params,
            inventory_list_url(target.mine),
            hidden=("mine",),
        ),
    }
    if not form.is_valid():
        context["count"] = target.queryset.count()
        return render(request, "inventory/identity_bulk.html", context, status=400)
    if target.scope == "filter" and request.POST.get("confirmed") != "yes":
        context.update(count=target.queryset.count(), confirm=True)
        return render(request, "inventory/identity_bulk.html", context)
    data = form.cleaned_data
    actor: User = request.user  # type: ignore[assignment]
    try:
        if target.scope == "filter":
            changed = owner_assign_filtered(
                queryset=target.queryset,
                owner=data["owner"],
                team=data["team"],
                actor=actor,
                reason=data["reason"],
            )
        else:
            changed = owner_assign(
                identity_ids=list(target.queryset.values_list("pk", flat=True)),
                owner=data["owner"],
                team=data["team"],
                actor=actor,
                reason=data["reason"],
            )
    except OwnerAssignmentError as exc:
        form.add_error(None, str(exc))
        context["count"] = target.queryset.count()
        return render(request, "inventory/identity_bulk.html", context, status=400)
    who = " and ".join(str(x) for x in (data["owner"], data["team"]) if x is not None)
    messages.success(
        request,
        f"Owner set to {who} on {changed} identit{'y' if changed == 1 else 'ies'}; "
        "the reason is kept in each one's history.",
    )
    return redirect(_list_url(target))


def _list_url(target: BulkTarget) -> str:
    """Back to the list the action came from, with its filters."""
    query = target.params.copy()
    if target.mine:
        query.pop("mine", None)
    encoded = query.urlencode()
    base = inventory_list_url(target.mine)
    return f"{base}?{encoded}" if encoded else base


def _back_with_error(request: HttpRequest, target: BulkTarget, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect(_list_url(target))
