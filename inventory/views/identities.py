"""Identity pages: the inventory list and the identity detail page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from inventory.filtersets import IdentityFilterSet
from inventory.models import Credential, Identity
from inventory.selectors import identity_findings_for_display

PAGE_SIZE = 50


@login_required
def identity_list(request: HttpRequest) -> HttpResponse:
    """The inventory: filters in the URL, the table re-rendered in place by htmx."""
    base = Identity.objects.visible_to(request.user).select_related(
        "account", "owner", "owner_team"
    )
    filterset = IdentityFilterSet(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_bound else base
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context: dict[str, Any] = {
        "filterset": filterset,
        "page": page,
        "query": params.urlencode(),
    }
    template = "inventory/identity_list.html"
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        template = "inventory/_identity_table.html"
    return render(request, template, context)


@login_required
def identity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One identity: overview, credentials, permissions, trust, owner evidence, history."""
    identity = get_object_or_404(
        Identity.objects.visible_to(request.user)
        .select_related("account", "owner", "owner_team")
        .prefetch_related(
            Prefetch("credentials", queryset=Credential.objects.order_by("kind", "created_at"))
        ),
        pk=pk,
    )
    events = identity.events.select_related("actor", "run")[:100]
    return render(
        request,
        "inventory/identity_detail.html",
        {
            "identity": identity,
            "events": events,
            "findings": identity_findings_for_display(identity),
            "can_suppress": getattr(request.user, "can_assign_owners", False),
        },
    )
