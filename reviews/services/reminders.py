"""Driving completion: e-mails to reviewers with undecided items, and escalation.

* When a campaign opens, each reviewer gets one e-mail with their count and the deadline.
* Before the deadline, at each offset of ``NHIGOV_REVIEW_REMINDER_DAYS`` (7, 3, 1 days), and
  every day once overdue, each reviewer who still has undecided items gets one reminder. A
  :class:`~reviews.models.ReminderLog` row per (recipient, key) makes the tick idempotent: it can
  run every few minutes, twice, or late, and nobody gets the same reminder twice.
* ``NHIGOV_REVIEW_ESCALATE_AFTER_DAYS`` overdue, undecided items move to the team manager
  (the identity's team, else the reviewer's); twice as long overdue, to the security queue. Each
  move is a :class:`~reviews.models.ReviewAssignment` row and an audit event.
* The security team can remind or escalate now, for one reviewer or all.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from inventory.models import Team
from nhigov.audit import audit_record, audit_record_many
from nhigov.choices import Role
from nhigov.models import User
from reviews.choices import (
    SECURITY_QUEUE_KEY,
    AssignmentReason,
    CampaignStatus,
    ItemStatus,
    ReminderKind,
)
from reviews.models import Campaign, ReminderLog, ReviewAssignment, ReviewDecision, ReviewItem
from reviews.states import ConcurrentChange, InvalidTransition, NotAllowed, item_touch

logger = logging.getLogger(__name__)

LEVEL_MANAGER = 1
LEVEL_SECURITY = 2


def _identities(count: int) -> str:
    return f"{count} identit{'y' if count == 1 else 'ies'}"


# --- Recipients and sending -------------------------------------------------------------------


def security_team() -> list[User]:
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(role__in=[Role.SECURITY_ADMIN, Role.SECURITY_ANALYST]) | Q(is_superuser=True))
        .exclude(email="")
        .order_by("id")
    )


def _recipient(reviewer: User | None) -> tuple[str, list[str]]:
    if reviewer is None:
        return SECURITY_QUEUE_KEY, [u.email for u in security_team()]
    return f"user:{reviewer.pk}", [reviewer.email] if reviewer.email else []


def _link(name: str, *args: Any, query: str = "") -> str:
    return f"{settings.NHIGOV_BASE_URL}{reverse(name, args=args)}{query}"


def _send(subject: str, template: str, context: dict[str, Any], to: list[str]) -> str:
    """Send one plain-text e-mail; return the error (empty when sent)."""
    if not to:
        return "no e-mail address"
    body = render_to_string(template, {**context, "base_url": settings.NHIGOV_BASE_URL})
    try:
        EmailMessage(
            subject=f"[nhigov] {subject}", body=body, to=to, connection=get_connection()
        ).send()
    except Exception as exc:  # an SMTP failure must not stop the other reminders
        logger.warning("Review e-mail to %s failed: %s", to, exc)
        return f"{type(exc).__name__}: {exc}"[:500]
    return ""


def _once(
    *,
    campaign: Campaign,
    reviewer: User | None,
    kind: str,
    key: str,
    count: int,
    subject: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    sent_by: User | None = None,
) -> bool:
    """Send unless this (campaign, recipient, key) was already sent; log it either way."""
    recipient_key, addresses = _recipient(reviewer)
    try:
        with transaction.atomic():
            log = ReminderLog.objects.create(
                campaign=campaign,
                recipient_key=recipient_key,
                recipient=reviewer,
                kind=kind,
                key=key,
                sent_at=now,
                sent_by=sent_by,
                item_count=count,
                addresses=addresses,
            )
    except IntegrityError:
        return False
    error = _send(subject, template, {**context, "campaign": campaign, "count": count}, addresses)
    if error:
        ReminderLog.objects.filter(pk=log.pk).update(error=error)
    return not error


def pending_by_reviewer(campaign: Campaign) -> dict[int | None, int]:
    """Undecided items per reviewer (None: the security queue)."""
    return dict(
        ReviewItem.objects.filter(campaign=campaign, status=ItemStatus.PENDING)
        .values("reviewer_id")
        .annotate(n=Count("id"))
        .values_list("reviewer_id", "n")
    )


def _people(ids: Iterable[int | None]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=[i for i in ids if i is not None])}


def _queue_context(campaign: Campaign, reviewer: User | None) -> dict[str, Any]:
    query = f"?campaign={campaign.pk}"
    return {
        "reviewer": reviewer,
        "queue_url": _link(
            "reviews:queue", query=query + ("&queue=security" if not reviewer else "")
        ),
        "due_at": campaign.due_at,
        "closes_at": campaign.closes_at,
        "policy": campaign.get_no_response_policy_display(),
    }


# --- Notifications ----------------------------------------------------------------------------


def campaign_notify_opened(*, campaign_id: int, now: datetime | None = None) -> int:
    """One e-mail per reviewer when a campaign opens."""
    now = now or timezone.now()
    campaign = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.ACTIVE).first()
    if campaign is None:
        return 0
    pending = pending_by_reviewer(campaign)
    people = _people(pending)
    sent = 0
    with transaction.atomic():  # one commit for every log row (savepoints inside)
        for reviewer_id, count in pending.items():
            sent += _opened_once(
                campaign, people.get(reviewer_id) if reviewer_id else None, count, now
            )
    return sent


def _opened_once(campaign: Campaign, reviewer: User | None, count: int, now: datetime) -> bool:
    return _once(
        campaign=campaign,
        reviewer=reviewer,
        kind=ReminderKind.OPENED,
        key="opened",
        count=count,
        subject=f"{count} identit{'y' if count == 1 else 'ies'} to review: {campaign.name}",
        template="reviews/email/opened.txt",
        context=_queue_context(campaign, reviewer),
        now=now,
    )


def notify_assigned(*, item_ids: list[int], reason: str = "") -> int:
    """Tell reviewers that items were routed to them (re-route, escalation, declined handover)."""
    items = list(
        ReviewItem.objects.filter(pk__in=item_ids, status=ItemStatus.PENDING).select_related(
            "campaign", "reviewer"
        )
    )
    by_reviewer: dict[int | None, list[ReviewItem]] = {}
    for item in items:
        by_reviewer.setdefault(item.reviewer_id, []).append(item)
    sent = 0
    for group in by_reviewer.values():
        reviewer = group[0].reviewer
        campaign = group[0].campaign
        _key, to = _recipient(reviewer)
        error = _send(
            f"{len(group)} identit{'y' if len(group) == 1 else 'ies'} sent to you for review",
            "reviews/email/assigned.txt",
            {
                **_queue_context(campaign, reviewer),
                "campaign": campaign,
                "items": group[:50],
                "count": len(group),
                "reason": reason,
            },
            to,
        )
        sent += not error
    return sent


def notify_handover(*, decision_id: int) -> bool:
    """Ask the new owner (or the team's manager and members) to accept a handover."""
    decision = (
        ReviewDecision.objects.select_related(
            "item__campaign", "decided_by", "handover_to_user", "handover_to_team__manager"
        )
        .filter(pk=decision_id)
        .first()
    )
    if decision is None:
        return False
    if decision.handover_to_user is not None:
        to = [decision.handover_to_user.email]
    elif decision.handover_to_team is not None:
        team = decision.handover_to_team
        people = list(team.members.filter(is_active=True).exclude(email=""))
        if team.manager is not None and team.manager.is_active:
            people.append(team.manager)
        to = sorted({p.email for p in people if p.email})
    else:
        return False
    error = _send(
        f"{decision.decided_by} wants to hand {decision.item.name} over to you",
        "reviews/email/handover.txt",
        {
            "decision": decision,
            "item": decision.item,
            "campaign": decision.item.campaign,
            "queue_url": _link("reviews:queue", query="#handovers"),
        },
        [a for a in to if a],
    )
    return not error


# --- Reminders --------------------------------------------------------------------------------


def reminder_key(campaign: Campaign, now: datetime) -> tuple[str, str] | None:
    """Which reminder is due now: ``before:<offset>:<due date>`` or ``overdue:<date>``."""
    if campaign.status != CampaignStatus.ACTIVE or campaign.due_at is None:
        return None
    due = campaign.due_at
    if now < due:
        days_left = math.ceil((due - now).total_seconds() / 86400)
        windows = [d for d in settings.NHIGOV_REVIEW_REMINDER_DAYS if days_left <= d]
        if not windows:
            return None
        return ReminderKind.BEFORE, f"before:{min(windows)}:{due.date().isoformat()}"
    return ReminderKind.OVERDUE, f"overdue:{now.date().isoformat()}"


def reminders_send(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Send the reminder due now to every reviewer with undecided items (once each)."""
    now = now or timezone.now()
    due = reminder_key(campaign, now)
    if due is None:
        return 0
    kind, key = due
    pending = pending_by_reviewer(campaign)
    people = _people(pending)
    with transaction.atomic():  # one commit for every log row (savepoints inside)
        return _reminders_loop(
            campaign, pending=pending, people=people, kind=kind, key=key, now=now
        )


def _reminders_loop(
    campaign: Campaign,
    *,
    pending: dict[int | None, int],
    people: dict[int, User],
    kind: str,
    key: str,
    now: datetime,
) -> int:
    sent = 0
    for reviewer_id, count in pending.items():
        reviewer = people.get(reviewer_id) if reviewer_id else None
        overdue = kind == ReminderKind.OVERDUE
        subject = (
            f"Overdue: {count} identit{'y' if count == 1 else 'ies'} to review ({campaign.name})"
            if overdue
            else f"Reminder: {count} identit{'y' if count == 1 else 'ies'} to review by "
            f"{campaign.due_at:%Y-%m-%d} ({campaign.name})"
        )
        sent += _once(
            campaign=campaign,
            reviewer=reviewer,
            kind=kind,
            key=key,
            count=count,
            subject=subject,
            template="reviews/email/reminder.txt",
            context={**_queue_context(campaign, reviewer), "overdue": overdue},
            now=now,
        )
    return sent


def reminders_send_now(
    *,
    campaign: Campaign,
    actor: User,
    reviewer_id: int | None = None,
    now: datetime | None = None,
    request: Any = None,
) -> int:
    """The security team reminds now: every reviewer with undecided items, or one of them."""
    now = now or timezone.now()
    if not actor.can_assign_owners:
        raise NotAllowed("Only the security team sends reminders.")
    if campaign.status != CampaignStatus.ACTIVE:
        raise InvalidTransition("Only an active campaign's reviewers can be reminded.")
    pending = pending_by_reviewer(campaign)
    if reviewer_id is not None:
        pending = {k: v for k, v in pending.items() if k == reviewer_id}
    people = _people(pending)
    sent = 0
    for rid, count in pending.items():
        reviewer = people.get(rid) if rid else None
        sent += _once(
            campaign=campaign,
            reviewer=reviewer,
            kind=ReminderKind.MANUAL,
            key=f"manual:{now.isoformat()}",
            count=count,
            subject=f"Please review {_identities(count)} ({campaign.name})",
            template="reviews/email/reminder.txt",
            context={
                **_queue_context(campaign, reviewer),
                "overdue": campaign.is_overdue(now),
                "sent_by": actor,
            },
            now=now,
            sent_by=actor,
        )
    audit_record(
        verb="campaign.reminded",
        actor=actor,
        obj=campaign,
        details={"reviewers": len(pending), "sent": sent, "reviewer_id": reviewer_id},
        request=request,
        at=now,
    )
    return sent


# --- Escalation -------------------------------------------------------------------------------


def _managers_of(reviewer_ids: set[int]) -> dict[int, int]:
    """A manager for each reviewer: the manager of one of their teams who is not themselves."""
    managers: dict[int, int] = {}
    rows = (
        Team.objects.filter(
            members__in=reviewer_ids, manager__isnull=False, manager__is_active=True
        )
        .exclude(manager__role=Role.AUDITOR)
        .order_by("name")
        .values_list("members", "manager_id")
    )
    for member, manager in rows:
        if member != manager and member not in managers:
            managers[member] = manager
    return managers


def _escalate(
    *, items: list[ReviewItem], level: int, actor: User | None, now: datetime, note: str
) -> int:
    """Move undecided items one level up (or straight to security when no manager exists)."""
    managers = _managers_of({i.reviewer_id for i in items if i.reviewer_id is not None})
    moved: list[ReviewItem] = []
    assignments: list[ReviewAssignment] = []
    audit: list[dict[str, Any]] = []
    with transaction.atomic():
        for item in items:
            target: int | None = None
            reason = AssignmentReason.ESCALATED_SECURITY
            new_level = LEVEL_SECURITY
            if level == LEVEL_MANAGER:
                team = item.identity.owner_team
                candidate = team.manager if team is not None else None
                if (
                    candidate is not None
                    and candidate.is_active
                    and not candidate.is_read_only
                    and candidate.pk != item.reviewer_id
                ):
                    target = candidate.pk
                elif item.reviewer_id in managers:
                    target = managers[item.reviewer_id]
                if target is not None:
                    reason, new_level = AssignmentReason.ESCALATED_MANAGER, LEVEL_MANAGER
            before = item.reviewer_id
            try:
                item_touch(
                    item,
                    reviewer_id=target,
                    assigned_at=now,
                    assigned_reason=reason,
                    escalation_level=new_level,
                    shown_at=None,
                )
            except ConcurrentChange:
                continue  # decided meanwhile: nothing to escalate
            moved.append(item)
            assignments.append(
                ReviewAssignment(
                    item=item,
                    from_reviewer_id=before,
                    to_reviewer_id=target,
                    reason=reason,
                    note=note,
                    by=actor,
                    at=now,
                )
            )
            audit.append(
                {
                    "verb": "review.escalated",
                    "object_type": "reviews.reviewitem",
                    "object_id": item.pk,
                    "object_label": str(item),
                    "before": {"reviewer_id": before, "escalation_level": level - 1},
                    "after": {"reviewer_id": target, "escalation_level": new_level},
                    "details": {"campaign_id": item.campaign_id, "note": note},
                    "at": now,
                }
            )
        ReviewAssignment.objects.bulk_create(assignments)
        audit_record_many(audit, actor=actor)
        if moved:
            ids = [i.pk for i in moved]
            transaction.on_commit(lambda: notify_assigned(item_ids=ids, reason=note))
    return len(moved)


def _pending_for_escalation(campaign: Campaign, below_level: int) -> list[ReviewItem]:
    return list(
        ReviewItem.objects.filter(
            campaign=campaign,
            status=ItemStatus.PENDING,
            reviewer__isnull=False,
            escalation_level__lt=below_level,
        )
        .select_related("identity__owner_team__manager")
        .order_by("id")
    )


def escalate_due(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Escalate what is overdue long enough (see the module docstring)."""
    now = now or timezone.now()
    if campaign.status != CampaignStatus.ACTIVE or campaign.due_at is None:
        return 0
    after = timedelta(days=settings.NHIGOV_REVIEW_ESCALATE_AFTER_DAYS)
    overdue = now - campaign.due_at
    if overdue < after:
        return 0
    days = overdue.days
    moved = 0
    if overdue >= 2 * after:
        items = _pending_for_escalation(campaign, LEVEL_SECURITY)
        moved += _escalate(
            items=items,
            level=LEVEL_SECURITY,
            actor=None,
            now=now,
            note=f"Undecided {days} days after the deadline: escalated to security.",
        )
    else:
        items = _pending_for_escalation(campaign, LEVEL_MANAGER)
        moved += _escalate(
            items=items,
            level=LEVEL_MANAGER,
            actor=None,
            now=now,
            note=f"Undecided {days} days after the deadline: escalated to the team manager.",
        )
    return moved


def escalate_now(
    *,
    campaign: Campaign,
    actor: User,
    reviewer_id: int | None = None,
    now: datetime | None = None,
    request: Any = None,
) -> int:
    """The security team escalates undecided items one level now (one reviewer's, or all)."""
    now = now or timezone.now()
    if not actor.can_assign_owners:
        raise NotAllowed("Only the security team escalates reviews.")
    if campaign.status != CampaignStatus.ACTIVE:
        raise InvalidTransition("Only an active campaign's items can be escalated.")
    items = _pending_for_escalation(campaign, LEVEL_SECURITY)
    if reviewer_id is not None:
        items = [i for i in items if i.reviewer_id == reviewer_id]
    # One level up for each item: the batches are fixed before anything moves.
    batches = {
        level: [i for i in items if i.escalation_level == level - 1]
        for level in (LEVEL_MANAGER, LEVEL_SECURITY)
    }
    moved = 0
    for level, batch in batches.items():
        moved += _escalate(
            items=batch,
            level=level,
            actor=actor,
            now=now,
            note=f"Escalated by {actor.get_full_name() or actor.get_username()}.",
        )
    audit_record(
        verb="campaign.escalated",
        actor=actor,
        obj=campaign,
        details={"moved": moved, "reviewer_id": reviewer_id},
        request=request,
        at=now,
    )
    return moved


# --- The tick ---------------------------------------------------------------------------------


def review_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: for every active campaign, reminders, escalation, and the deadline."""
    from reviews.services.campaigns import campaign_start_closing

    now = now or timezone.now()
    totals: Counter[str] = Counter()
    for campaign in Campaign.objects.filter(status=CampaignStatus.ACTIVE).order_by("id"):
        if campaign.closes_at is not None and now >= campaign.closes_at:
            try:
                campaign_start_closing(campaign=campaign, actor=None, now=now)
            except ConcurrentChange:
                continue
            totals["closing"] += 1
            continue
        totals["reminders"] += reminders_send(campaign=campaign, now=now)
        totals["escalated"] += escalate_due(campaign=campaign, now=now)
    return dict(totals)
