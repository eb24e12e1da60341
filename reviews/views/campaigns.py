"""The security team's campaign pages: list, new (scope from the inventory filter), detail with
progress per reviewer and team, and the actions that drive a campaign to its sign-off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from inventory.filtersets import IdentityFilterSet
from inventory.models import Identity
from nhigov.models import AuditEvent, User
from nhigov.permissions import current_user
from reviews.choices import DECIDED_STATUSES, CampaignStatus
from reviews.filtersets import CampaignFilterSet, ReviewItemFilterSet
from reviews.forms import (
    CampaignForm,
    ClosingForm,
    ExtendForm,
    ReasonForm,
    SignOffForm,
    first_error,
)
from reviews.models import Campaign, RemediationRequest, ReminderLog
from reviews.selectors import (
    RUBBER_STAMP_KEEPS,
    RUBBER_STAMP_WINDOW,
    awaiting_confirmation,
    campaign_counts,
    campaign_remediation,
    campaign_reviewers,
    campaign_teams,
)
from reviews.services.campaigns import (
    campaign_activate,
    campaign_cancel,
    campaign_create,
    campaign_extend,
    campaign_preview,
    campaign_sign_off,
    campaign_start_closing,
    close_blockers,
    cutoff_risk,
)
from reviews.services.decisions import person_label
from reviews.services.population import scope_clean, scope_label
from reviews.services.reminders import escalate_now, reminders_send_now
from reviews.states import NotAllowed, ReviewError
from reviews.views.common import annotate_rights, is_htmx, security_only

PAGE_SIZE = 50
_DECIDED = [s.value for s in DECIDED_STATUSES]


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = current_user(request)
    if not actor.sees_all_identities:
        return redirect("reviews:queue")
    filterset = CampaignFilterSet(request.GET, queryset=Campaign.objects.all())
    qs = (filterset.qs if filterset.is_valid() else Campaign.objects.all()).annotate(
        total=Count("items"),
        decided=Count("items", filter=Q(items__status__in=_DECIDED)),
    )
    if "kind" not in request.GET:
        qs = qs.exclude(kind="event")
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    open_events = Campaign.objects.filter(
        kind="event", status__in=[CampaignStatus.ACTIVE, CampaignStatus.CLOSING]
    ).count()
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "reviews/campaign_list.html",
        {
            "page": page,
            "filterset": filterset,
            "open_events": open_events,
            "query": params.urlencode(),
            "can_create": actor.can_assign_owners,
        },
    )


_CAMPAIGN_FIELDS = {"name", "due_days", "grace_days", "no_response_policy", "activate", "preview"}


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    """Any scope of the inventory filter; the population is counted before anything is made."""
    actor = current_user(request)
    if not actor.can_assign_owners:
        raise PermissionDenied("Only the security team launches review campaigns.")
    source = request.POST if request.method == "POST" else request.GET
    scope_params = source.copy()
    for key in _CAMPAIGN_FIELDS:
        scope_params.pop(key, None)
    filterset = IdentityFilterSet(scope_params or None, queryset=Identity.objects.none())
    scope = scope_clean(scope_params)
    form = CampaignForm(
        request.POST if request.method == "POST" else None,
        initial={"name": f"Access review {timezone.now():%Y-%m-%d}", "activate": True},
    )
    preview: dict[str, Any] | None = None
    error = ""
    try:
        preview = campaign_preview(scope)
    except ReviewError as exc:
        error = str(exc)
    if request.method == "POST" and not error:
        if not form.is_valid():
            error = first_error(form)
        else:
            data = form.cleaned_data
            try:
                campaign = campaign_create(
                    name=data["name"],
                    scope=scope,
                    actor=actor,
                    due_days=data["due_days"],
                    grace_days=data["grace_days"],
                    no_response_policy=data["no_response_policy"],
                    request=request,
                )
                if data["activate"]:
                    campaign_activate(campaign=campaign, actor=actor, request=request)
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            except ReviewError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    f"Campaign {campaign.name} "
                    + (
                        f"is active: {campaign.population_count} items sent to their reviewers."
                        if data["activate"]
                        else "saved as a draft."
                    ),
                )
                return redirect("reviews:campaign-detail", pk=campaign.pk)
    return render(
        request,
        "reviews/campaign_form.html",
        {
            "filterset": filterset,
            "form": form,
            "preview": preview,
            "error": error,
            "scope_pairs": [
                (key, ("true" if v else "false") if isinstance(v, bool) else v)
                for key, values in scope.items()
                for v in (values if isinstance(values, list) else [values])
            ],
        },
    )


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    actor = current_user(request)
    security_only(actor)
    return get_object_or_404(
        Campaign.objects.select_related(
            "created_by", "activated_by", "signed_off_by", "canceled_by", "trigger_identity"
        ),
        pk=pk,
    )


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = current_user(request)
    if not actor.sees_all_identities:
        return redirect(reverse("reviews:queue") + f"?campaign={pk}")
    campaign = _campaign(request, pk)
    now = timezone.now()
    at_risk = cutoff_risk(campaign, now=now) if campaign.status == CampaignStatus.ACTIVE else []
    events = AuditEvent.objects.filter(
        object_type="reviews.campaign", object_id=str(campaign.pk)
    ).order_by("-seq")[:50]
    context: dict[str, Any] = {
        "campaign": campaign,
        "scope_label": scope_label(campaign.scope),
        "counts": campaign_counts(campaign),
        "reviewers": campaign_reviewers(campaign),
        "teams": campaign_teams(campaign),
        "awaiting": list(awaiting_confirmation(campaign)[:100]),
        "remediation": campaign_remediation(campaign),
        "remediation_requests": list(
            RemediationRequest.objects.filter(item__campaign=campaign)
            .select_related("item", "requested_by")
            .order_by("-requested_at", "-id")[:50]
        ),
        "at_risk": at_risk,
        "blockers": close_blockers(campaign) if campaign.status == CampaignStatus.CLOSING else [],
        "events": events,
        "reminders": ReminderLog.objects.filter(campaign=campaign).select_related("recipient")[:20],
        "overdue": campaign.is_overdue(now),
        "now": now,
        "can_manage": actor.can_assign_owners,
        "can_admin": actor.can_administer,
        "rubber_stamp_keeps": RUBBER_STAMP_KEEPS,
        "rubber_stamp_seconds": int(RUBBER_STAMP_WINDOW.total_seconds()),
        **_items_context(request, campaign),
    }
    return render(request, "reviews/campaign_detail.html", context)


def _items_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    # By id unless asked otherwise: a campaign holds up to a few hundred thousand items, and the
    # queue's priority order would sort them all for one page.
    base = campaign.items.select_related(
        "campaign", "reviewer", "decision", "decision__decided_by", "decision__on_behalf_of"
    ).order_by("id")
    filterset = ReviewItemFilterSet(request.GET, queryset=base, request=request)
    qs = filterset.qs if filterset.is_valid() else base
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    annotate_rights(items, current_user(request))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "item_filter": filterset,
        "item_page": page,
        "items": items,
        "item_query": params.urlencode(),
    }


@login_required
def campaign_items(request: HttpRequest, pk: int) -> HttpResponse:
    """The campaign's item table (the htmx partial; the full page without htmx)."""
    campaign = _campaign(request, pk)
    if not is_htmx(request):
        return redirect(
            reverse("reviews:campaign-detail", args=[pk]) + "?" + request.GET.urlencode()
        )
    return render(
        request,
        "reviews/_campaign_items.html",
        {"campaign": campaign, **_items_context(request, campaign)},
    )


def _act(
    request: HttpRequest, pk: int, action: Any, success: str | Callable[[Any, Campaign], str]
) -> HttpResponse:
    """Run a campaign action; ``success`` is a format string (``{result}``, ``{campaign}``) or a
    function of the result and the campaign (for texts holding names, which are not formatted)."""
    campaign = _campaign(request, pk)
    try:
        result = action(campaign, current_user(request))
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            success(result, campaign)
            if callable(success)
            else success.format(result=result, campaign=campaign),
        )
    return redirect("reviews:campaign-detail", pk=pk)


def _reviewer_id(request: HttpRequest) -> int | None:
    raw = request.POST.get("reviewer", "")
    return int(raw) if raw.isdigit() else None


def _whose(request: HttpRequest) -> str:
    """'of Nora Berg' when the action names one reviewer, else ''."""
    reviewer_id = _reviewer_id(request)
    reviewer = User.objects.filter(pk=reviewer_id).first() if reviewer_id else None
    return f" of {person_label(reviewer)}" if reviewer is not None else ""


def _remind_message(request: HttpRequest, sent: int) -> str:
    if not sent:
        return "Nobody to remind: no reviewer has undecided items."
    whose = _whose(request)
    if whose:
        return f"Reminder e-mailed to {whose.removeprefix(' of ')}."
    return f"Reminder e-mailed to {sent} reviewer{'s' if sent != 1 else ''} with undecided items."


def _escalate_message(request: HttpRequest, moved: int) -> str:
    if not moved:
        return "Nothing to escalate: no undecided item below the security queue."
    return (
        f"{moved} undecided item{'s' if moved != 1 else ''}{_whose(request)} escalated one level: "
        "to the team's manager, or to the security queue if already with the manager."
    )


@login_required
@require_POST
def campaign_activate_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c, u: campaign_activate(campaign=c, actor=u, request=request),
        "{campaign.name} is active: {campaign.population_count} items sent to their reviewers.",
    )


@login_required
@require_POST
def campaign_remind_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c, u: reminders_send_now(
            campaign=c, actor=u, reviewer_id=_reviewer_id(request), request=request
        ),
        lambda sent, _c: _remind_message(request, sent),
    )


@login_required
@require_POST
def campaign_escalate_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c, u: escalate_now(
            campaign=c, actor=u, reviewer_id=_reviewer_id(request), request=request
        ),
        lambda moved, _c: _escalate_message(request, moved),
    )


@login_required
@require_POST
def campaign_extend_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("reviews:campaign-detail", pk=pk)
    return _act(
        request,
        pk,
        lambda c, u: campaign_extend(
            campaign=c,
            actor=u,
            due_at=form.due_at(),
            reason=form.cleaned_data["reason"],
            request=request,
        ),
        "Deadline moved to {campaign.due_at:%Y-%m-%d}.",
    )


@login_required
@require_POST
def campaign_closing_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the no-response policy now; a recently used identity about to be deprovisioned
    needs the admin to tick that they understand."""
    campaign = _campaign(request, pk)
    form = ClosingForm(request.POST)
    form.is_valid()
    at_risk = cutoff_risk(campaign) if campaign.status == CampaignStatus.ACTIVE else []
    if at_risk and not form.cleaned_data.get("confirm_cutoff"):
        messages.error(
            request,
            f"{len(at_risk)} identities used in the last 30 days would be deprovisioned by the "
            "no-response policy. Tick the confirmation to go ahead.",
        )
        return redirect("reviews:campaign-detail", pk=pk)

    def close(c: Campaign, u: Any) -> dict[str, Any]:
        return campaign_start_closing(campaign=c, actor=u, request=request)

    return _act(
        request,
        pk,
        close,
        lambda result, c: (
            f"{c.name} is closing: the no-response policy decided "
            f"{result['undecided']} undecided item{'s' if result['undecided'] != 1 else ''}. "
            "Review the summary, then sign off below."
        ),
    )


@login_required
@require_POST
def campaign_sign_off_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = SignOffForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        lambda c, u: campaign_sign_off(
            campaign=c,
            actor=u,
            confirm=bool(form.cleaned_data.get("confirm")),
            comment=form.cleaned_data.get("comment") or "",
            request=request,
        ),
        "{campaign.name} is closed and signed off by {campaign.signed_off_name}.",
    )


@login_required
@require_POST
def campaign_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the campaign is canceled.")
        return redirect("reviews:campaign-detail", pk=pk)
    return _act(
        request,
        pk,
        lambda c, u: campaign_cancel(
            campaign=c, actor=u, reason=form.cleaned_data["reason"], request=request
        ),
        "{campaign.name} is canceled.",
    )
