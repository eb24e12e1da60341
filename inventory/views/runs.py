"""Discovery runs: the list (source-level runs, or every run of one account) and one run with
its per-account breakdown, counts, API calls and errors. Security team and auditors only."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from inventory.filtersets import DiscoveryRunFilterSet
from inventory.models import Account
from inventory.views.access import capability_required, runs_visible_to

PAGE_SIZE = 50


@capability_required("sees_all_identities")
def run_list(request: HttpRequest) -> HttpResponse:
    base = runs_visible_to(request.user).select_related("source", "requested_by")
    filterset = DiscoveryRunFilterSet(request.GET or None, queryset=base, request=request)
    runs = filterset.qs if filterset.is_bound else base
    account = (request.GET.get("account") or "").strip()
    if not account:
        runs = runs.filter(parent__isnull=True)  # an Organization run stands for its accounts
    page = Paginator(runs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filterset": filterset,
        "page": page,
        "query": params.urlencode(),
        "account": account,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "inventory/_run_table.html", context)
    return render(request, "inventory/run_list.html", context)


@capability_required("sees_all_identities")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        runs_visible_to(request.user).select_related("source", "requested_by", "parent"), pk=pk
    )
    children = list(run.children.order_by("account_id", "id"))
    ids = {c.account_id for c in children} | {run.account_id}
    names = dict(
        Account.objects.filter(account_id__in=[i for i in ids if i]).values_list(
            "account_id", "name"
        )
    )
    for child in children:
        child.account_name = names.get(child.account_id, "")  # type: ignore[attr-defined]
    operations = sorted(
        (run.api_calls_by_operation or {}).items(), key=lambda kv: (-int(kv[1]), kv[0])
    )
    context = {
        "run": run,
        "children": children,
        "account_name": names.get(run.account_id, ""),
        "operations": operations,
        "errors": [e for e in (run.errors or []) if isinstance(e, dict)],
    }
    htmx = getattr(request, "htmx", None)
    if htmx and request.GET.get("live"):
        return render(request, "inventory/_run_live.html", context)
    return render(request, "inventory/run_detail.html", context)
