"""Identity pages: the inventory list, My identities, one identity, changing its owner."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inventory.forms import OwnerAssignmentForm
from inventory.models import Account, Credential, Identity
from inventory.policy_display import known_account_names, policy_views, trust_views
from inventory.selectors import identity_findings_for_display
from inventory.services.owners import OwnerAssignmentError, owner_assign
from inventory.views.access import capability_required, may, runs_visible_to
from inventory.views.identity_listing import inventory_list_url, listing_context, owner_suggestions

HISTORY_LIMIT = 100
RUNS_LIMIT = 10
REVIEWS_LIMIT = 20


def _render_list(request: HttpRequest, *, mine: bool, title: str, intro: str = "") -> HttpResponse:
    list_url = inventory_list_url(mine)
    context = listing_context(
        request,
        params=request.GET,
        list_url=list_url,
        forced={"mine": "true"} if mine else None,
    )
    context.update({"title": title, "intro": intro, "mine": mine})
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "inventory/_identity_results.html", context)
    return render(request, "inventory/identity_list.html", context)


@login_required
def identity_list(request: HttpRequest) -> HttpResponse:
    """The inventory: filters and sort in the URL, the results re-rendered in place by htmx."""
    return _render_list(request, mine=False, title="Inventory")


@login_required
def my_identities(request: HttpRequest) -> HttpResponse:
    """The identities the user owns, personally or through a team."""
    return _render_list(
        request,
        mine=True,
        title="My identities",
        intro="Identities you own, personally or through one of your teams.",
    )


def _identity_or_404(request: HttpRequest, pk: int) -> Identity:
    return get_object_or_404(
        Identity.objects.visible_to(request.user)
        .select_related("account", "account__last_run", "owner", "owner_team")
        .prefetch_related(
            Prefetch("credentials", queryset=Credential.objects.order_by("kind", "created_at"))
        ),
        pk=pk,
    )


def _review_history(identity: Identity) -> list[Any]:
    """The identity's access reviews, newest first (the reviews app is optional)."""
    if not apps.is_installed("reviews") or not hasattr(identity, "review_items"):
        return []
    return list(
        identity.review_items.select_related("campaign", "reviewer").order_by("-assigned_at")[
            :REVIEWS_LIMIT
        ]
    )


def _detail_context(
    request: HttpRequest, identity: Identity, owner_form: OwnerAssignmentForm | None = None
) -> dict[str, Any]:
    user = request.user
    can_assign = may(user, "can_assign_owners")
    trust: list[Any] = []
    if identity.trust_policy:
        known = known_account_names(Account.objects.values_list("account_id", "name"))
        trust = trust_views(identity.trust_policy, known)
    runs = []
    if may(user, "sees_all_identities"):
        runs = list(
            runs_visible_to(user)
            .filter(account_id=identity.account.account_id)
            .select_related("source")
            .order_by("-created_at")[:RUNS_LIMIT]
        )
    if owner_form is None and can_assign:
        owner_form = OwnerAssignmentForm(
            initial={
                "owner": identity.owner.email or identity.owner.username if identity.owner else "",
                "team": identity.owner_team_id,
            }
        )
    return {
        "identity": identity,
        "events": identity.events.select_related("actor", "run")[:HISTORY_LIMIT],
        "findings": identity_findings_for_display(identity),
        "can_suppress": getattr(user, "can_assign_owners", False),
        "policies": policy_views(identity.policies),
        "trust": trust,
        "runs": runs,
        "can_assign": can_assign,
        "owner_form": owner_form,
        "people": owner_suggestions(user) if can_assign else [],
        "reviews": _review_history(identity),
    }


@login_required
def identity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One identity: overview, credentials, permissions, trust, findings, owner, history."""
    identity = _identity_or_404(request, pk)
    return render(request, "inventory/identity_detail.html", _detail_context(request, identity))


@require_POST
@capability_required("can_assign_owners")
def identity_owner_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the owner of one identity by hand, with the reason."""
    identity = _identity_or_404(request, pk)
    form = OwnerAssignmentForm(request.POST)
    if form.is_valid():
        try:
            owner_assign(
                identity_ids=[identity.pk],
                owner=form.cleaned_data["owner"],
                team=form.cleaned_data["team"],
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except OwnerAssignmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Owner changed. The reason is kept in the history.")
            return _to_detail(identity, "owner")
    context = _detail_context(request, identity, owner_form=form)
    return render(request, "inventory/identity_detail.html", context, status=400)


def _to_detail(identity: Identity, anchor: str) -> HttpResponseRedirect:
    return redirect(reverse("inventory:identity-detail", args=[identity.pk]) + f"#{anchor}")
