"""The reviewer's pages: the queue, deciding in place, bulk keep, handovers, sign-off, an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from inventory.models import Team
from nhigov.models import AuditEvent, User
from nhigov.permissions import current_user
from nhigov.redirects import redirect_back as back
from reviews.choices import CampaignStatus, ItemStatus
from reviews.filtersets import ReviewItemFilterSet
from reviews.forms import ConfirmForm, DecisionForm, HandoverAnswerForm, RerouteForm, first_error
from reviews.models import Campaign, ReviewItem
from reviews.selectors import (
    handovers_for,
    item_chain,
    queue_items,
    queue_progress,
    security_queue_items,
)
from reviews.services.decisions import (
    item_decide,
    items_bulk_keep,
    items_mark_shown,
    person_label,
    queue_sign_off,
    self_review_confirm,
)
from reviews.services.handovers import (
    handover_respond,
    item_reroute,
    resolve_handover_target,
    resolve_person,
)
from reviews.services.population import snapshot_verify
from reviews.states import NotAllowed, ReviewError
from reviews.views.common import annotate_rights, is_htmx

PAGE_SIZE = 50
VIEWS = ("pending", "decided", "all")


@dataclass
class QueueSubject:
    """Whose queue the page shows, and what the signed-in person may do with it."""

    reviewer: User | None
    security_queue: bool = False
    on_behalf: bool = False
    title: str = "My reviews"


def _subject(request: HttpRequest, actor: User) -> QueueSubject:
    if request.GET.get("queue") == "security":
        if not actor.sees_all_identities:
            raise PermissionDenied
        return QueueSubject(reviewer=None, security_queue=True, title="Security queue")
    wanted = request.GET.get("reviewer", "")
    if wanted and wanted != str(actor.pk):
        if not actor.sees_all_identities:
            raise PermissionDenied
        if not wanted.isdigit():
            raise PermissionDenied
        reviewer = get_object_or_404(User, pk=int(wanted))
        return QueueSubject(
            reviewer=reviewer, on_behalf=True, title=f"Queue of {person_label(reviewer)}"
        )
    return QueueSubject(reviewer=actor)


def _subject_items(subject: QueueSubject) -> QuerySet[ReviewItem]:
    if subject.security_queue or subject.reviewer is None:
        return security_queue_items()
    return queue_items(subject.reviewer)


def _people_choices(actor: User) -> dict[str, list[str]]:
    if actor.is_read_only:
        return {"people": [], "teams": []}
    people = (
        User.objects.filter(is_active=True)
        .exclude(role="auditor", is_superuser=False)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    return {
        "people": list(people[:2000]),
        "teams": list(Team.objects.order_by("name").values_list("name", flat=True)),
    }


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """A reviewer's items with the context to decide each in seconds, decided in place."""
    actor = current_user(request)
    subject = _subject(request, actor)
    view = request.GET.get("view", "pending")
    view = view if view in VIEWS else "pending"
    base = _subject_items(subject)
    if view == "pending":
        base = base.filter(status=ItemStatus.PENDING)
    elif view == "decided":
        base = base.exclude(status=ItemStatus.PENDING)
    filterset = ReviewItemFilterSet(request.GET, queryset=base, request=request)
    items_qs = filterset.qs if filterset.is_valid() else base
    page = Paginator(items_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    annotate_rights(items, actor)
    if subject.reviewer is not None and subject.reviewer.pk == actor.pk:
        items_mark_shown(items=items, user=actor)
    progress = queue_progress(subject.reviewer)
    campaign_id = filterset.form.cleaned_data.get("campaign") if filterset.is_valid() else None
    eligible = (
        _subject_items(subject)
        .filter(
            status=ItemStatus.PENDING,
            bulk_keep_eligible=True,
            locked_at=None,
            campaign__status=CampaignStatus.ACTIVE,
            **({"campaign_id": campaign_id} if campaign_id else {}),
        )
        .count()
        if subject.reviewer is not None and subject.reviewer.pk == actor.pk
        else 0
    )
    params = request.GET.copy()
    params.pop("page", None)
    context: dict[str, Any] = {
        "subject": subject,
        "view": view,
        "filterset": filterset,
        "page": page,
        "items": items,
        "progress": progress,
        "handovers": list(handovers_for(actor)[:200]) if not subject.on_behalf else [],
        "eligible": eligible,
        "campaign_id": campaign_id,
        "query": params.urlencode(),
        "actor_can_change": not actor.is_read_only,
        "own": subject.reviewer is not None and subject.reviewer.pk == actor.pk,
        "now": timezone.now(),
        **_people_choices(actor),
    }
    template = "reviews/queue.html"
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        template = "reviews/_queue_table.html"
    return render(request, template, context)


# What a person typed into a row's forms, shown again when the decision is refused, so an error
# never costs them their justification, exception date or handover target.
_ENTERED = ("justification", "exception_until", "handover_to", "to", "note")


def _row_response(
    request: HttpRequest, item_id: int, *, error: str = "", notice: str = ""
) -> HttpResponse:
    actor = current_user(request)
    item = get_object_or_404(
        ReviewItem.objects.visible_to(actor).select_related(
            "campaign",
            "reviewer",
            "decision",
            "decision__handover_to_user",
            "decision__handover_to_team",
        ),
        pk=item_id,
    )
    annotate_rights([item], actor)
    progress = [p for p in queue_progress(item.reviewer) if p.campaign.pk == item.campaign_id]
    return render(
        request,
        "reviews/_item_row_response.html",
        {
            "item": item,
            "error": error,
            "notice": notice,
            "entered": {k: request.POST.get(k, "")[:4000] for k in _ENTERED} if error else {},
            "progress": progress,
            "actor_can_change": not actor.is_read_only,
            "own": item.reviewer_id == actor.pk,
            "now": timezone.now(),
        },
    )


def _done(
    request: HttpRequest, item: ReviewItem, *, error: str = "", notice: str = ""
) -> HttpResponse:
    if is_htmx(request):
        return _row_response(request, item.pk, error=error, notice=notice)
    if error:
        messages.error(request, f"{item.name}: {error}")
    elif notice:
        messages.success(request, notice)
    return back(request, reverse("reviews:queue"))


def _item_for_action(request: HttpRequest, pk: int) -> tuple[User, ReviewItem]:
    actor = current_user(request)
    item = get_object_or_404(
        ReviewItem.objects.visible_to(actor).select_related(
            "campaign", "reviewer", "decision", "decision__handover_to_team"
        ),
        pk=pk,
    )
    return actor, item


@login_required
@require_POST
def item_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor, item = _item_for_action(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _done(request, item, error=first_error(form))
    data = form.cleaned_data
    try:
        target = (
            resolve_handover_target(data["handover_to"] or "")
            if data["outcome"] == "handover"
            else None
        )
        decision = item_decide(
            item=item,
            actor=actor,
            outcome=data["outcome"],
            justification=data["justification"] or "",
            exception_until=data["exception_until"],
            handover_to=target,
            on_behalf_of_id=data["on_behalf_of"],
            expected_version=data["version"],
            request=request,
        )
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        return _done(request, item, error=str(exc))
    notice = f"{item.name}: {decision.get_outcome_display().lower()}"
    if decision.outcome == "handover":
        notice += f" to {decision.handover_target_label} (waiting for them to accept)"
    if decision.needs_confirmation:
        notice += " (you use it yourself: a second reviewer from security will confirm)"
    return _done(request, item, notice=notice + ".")


@login_required
@require_POST
def item_reroute_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor, item = _item_for_action(request, pk)
    form = RerouteForm(request.POST)
    if not form.is_valid():
        return _done(request, item, error=first_error(form))
    try:
        to = resolve_person(form.cleaned_data["to"]) if form.cleaned_data["to"] else None
        item_reroute(
            item=item,
            actor=actor,
            to_user=to,
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
            request=request,
        )
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        return _done(request, item, error=str(exc))
    return _done(request, item, notice=f"{item.name} sent to {person_label(to)}.")


@login_required
@require_POST
def handover_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor, item = _item_for_action(request, pk)
    form = HandoverAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return back(request, reverse("reviews:queue"))
    accept = form.cleaned_data["answer"] == "accept"
    try:
        handover_respond(
            item=item,
            actor=actor,
            accept=accept,
            reason=form.cleaned_data["reason"] or "",
            request=request,
        )
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        messages.error(request, f"{item.name}: {exc}")
    else:
        messages.success(
            request,
            f"{item.name}: handover accepted, it is yours now."
            if accept
            else f"{item.name}: handover declined; it went back to its reviewer.",
        )
    return back(request, reverse("reviews:queue") + "?view=pending")


@login_required
@require_POST
def self_review_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor, item = _item_for_action(request, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return back(request, reverse("reviews:campaign-detail", args=[item.campaign_id]))
    try:
        self_review_confirm(
            item=item,
            actor=actor,
            confirm=form.cleaned_data["answer"] == "confirm",
            reason=form.cleaned_data["reason"] or "",
            request=request,
        )
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        messages.error(request, f"{item.name}: {exc}")
    else:
        messages.success(request, f"{item.name}: second review recorded.")
    return back(request, reverse("reviews:campaign-detail", args=[item.campaign_id]))


@login_required
@require_POST
def bulk_keep_view(request: HttpRequest) -> HttpResponse:
    """Keep the selected items, or every eligible item of a campaign (low risk, used recently)."""
    actor = current_user(request)
    mine = queue_items(actor)
    campaign_id = request.POST.get("campaign", "")
    if request.POST.get("all_eligible"):
        items = mine.filter(status=ItemStatus.PENDING, bulk_keep_eligible=True, locked_at=None)
        if campaign_id.isdigit():
            items = items.filter(campaign_id=int(campaign_id))
    else:
        ids = [int(i) for i in request.POST.getlist("item") if i.isdigit()]
        items = ReviewItem.objects.visible_to(actor).filter(pk__in=ids)
    try:
        result = items_bulk_keep(
            items=items, actor=actor, justification=request.POST.get("justification", "")
        )
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        n = len(result.kept)
        text = f"Kept {n} low-risk, recently used identit{'y' if n == 1 else 'ies'}."
        if result.conflicts:
            text += f" Someone else decided {', '.join(result.conflicts[:5])} first."
        messages.success(request, text)
    return back(request, reverse("reviews:queue"))


@login_required
@require_POST
def queue_sign_off_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = current_user(request)
    campaign = get_object_or_404(Campaign.objects.visible_to(actor), pk=pk)
    try:
        sign_off = queue_sign_off(campaign=campaign, actor=actor, request=request)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Signed off: your {sign_off.items_locked} decisions in {campaign.name} are locked.",
        )
    return back(request, reverse("reviews:queue"))


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One item as auditors see it: the snapshot and its hash, every decision, the chain."""
    actor = current_user(request)
    item = get_object_or_404(
        ReviewItem.objects.visible_to(actor).select_related(
            "campaign", "identity", "reviewer", "first_reviewer", "decision"
        ),
        pk=pk,
    )
    annotate_rights([item], actor)
    events = AuditEvent.objects.filter(
        object_type="reviews.reviewitem", object_id=str(item.pk)
    ).order_by("seq")[:200]
    return render(
        request,
        "reviews/item_detail.html",
        {
            "item": item,
            "chain": item_chain(item),
            "events": events,
            "snapshot_ok": snapshot_verify(item),
            "actor_can_change": not actor.is_read_only,
            **_people_choices(actor),
        },
    )
