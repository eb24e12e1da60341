"""Reads shared by the review pages, the API, commands and evidence (writes live in services)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from inventory.models import Identity
from nhigov.models import User
from reviews.choices import (
    DECIDED_STATUSES,
    CampaignStatus,
    DecisionSource,
    HandoverResponse,
    ItemStatus,
    Outcome,
    RemediationStatus,
)
from reviews.models import (
    Campaign,
    RemediationRequest,
    ReminderLog,
    ReviewDecision,
    ReviewerSignOff,
    ReviewItem,
)

# Rubber-stamping: this many keeps by one reviewer within this window.
RUBBER_STAMP_KEEPS = 10
RUBBER_STAMP_WINDOW = timedelta(seconds=60)
_DECIDED = [s.value for s in DECIDED_STATUSES]


def queue_items(user: User) -> QuerySet[ReviewItem]:
    """Items assigned to ``user`` in open campaigns, ready for the queue table."""
    return ReviewItem.objects.filter(
        reviewer=user, campaign__status__in=[CampaignStatus.ACTIVE, CampaignStatus.CLOSING]
    ).select_related(
        "campaign", "decision", "decision__handover_to_user", "decision__handover_to_team"
    )


def security_queue_items() -> QuerySet[ReviewItem]:
    return ReviewItem.objects.filter(
        reviewer__isnull=True, campaign__status=CampaignStatus.ACTIVE
    ).select_related("campaign", "decision")


def handovers_for(user: User) -> QuerySet[ReviewItem]:
    """Handovers waiting for ``user``'s answer (to them, or to a team they manage or belong to)."""
    teams = list(user.teams.values_list("id", flat=True)) + list(
        user.managed_teams.values_list("id", flat=True)
    )
    return (
        ReviewItem.objects.filter(
            status=ItemStatus.HANDOVER_REQUESTED,
            campaign__status=CampaignStatus.ACTIVE,
            decision__handover_response=HandoverResponse.NONE,
        )
        .filter(Q(decision__handover_to_user=user) | Q(decision__handover_to_team__in=teams))
        .select_related(
            "campaign",
            "decision__decided_by",
            "decision__handover_to_user",
            "decision__handover_to_team",
        )
        .order_by("decided_at", "id")
    )


@dataclass
class QueueProgress:
    campaign: Campaign
    total: int = 0
    decided: int = 0
    locked: int = 0
    signed_off: bool = False

    @property
    def pending(self) -> int:
        return self.total - self.decided

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 100


def queue_progress(user: User | None) -> list[QueueProgress]:
    """Per open campaign: how many of the reviewer's items are decided (None: security queue)."""
    rows = (
        ReviewItem.objects.filter(
            reviewer=user, campaign__status__in=[CampaignStatus.ACTIVE, CampaignStatus.CLOSING]
        )
        .values("campaign_id")
        .annotate(
            total=Count("id"),
            decided=Count("id", filter=Q(status__in=_DECIDED)),
            locked=Count("id", filter=Q(locked_at__isnull=False)),
        )
        .order_by()
    )
    counts = {r["campaign_id"]: r for r in rows}
    campaigns = Campaign.objects.filter(pk__in=counts).order_by("due_at", "id")
    signed = set(
        ReviewerSignOff.objects.filter(campaign__in=campaigns, reviewer=user).values_list(
            "campaign_id", flat=True
        )
        if user is not None
        else []
    )
    out = []
    for campaign in campaigns:
        r = counts[campaign.pk]
        out.append(
            QueueProgress(
                campaign=campaign,
                total=r["total"],
                decided=r["decided"],
                locked=r["locked"],
                signed_off=campaign.pk in signed and r["locked"] == r["decided"],
            )
        )
    return out


# --- The security team's campaign page --------------------------------------------------------


@dataclass
class ReviewerProgress:
    reviewer: User | None
    total: int = 0
    decided: int = 0
    keeps: int = 0
    deprovisions: int = 0
    handovers: int = 0
    escalated: int = 0
    median_seconds: float | None = None
    fastest_keeps: int = 0  # most keeps within the rubber-stamp window
    bulk_keeps: int = 0
    reminders: int = 0
    signed_off_at: datetime | None = None
    teams: list[str] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return self.total - self.decided

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 100

    @property
    def rubber_stamping(self) -> bool:
        return self.fastest_keeps >= RUBBER_STAMP_KEEPS


def _max_in_window(times: list[datetime]) -> int:
    """The largest number of timestamps within any window of RUBBER_STAMP_WINDOW."""
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] > RUBBER_STAMP_WINDOW:
            start += 1
        best = max(best, end - start + 1)
    return best


def campaign_reviewers(campaign: Campaign) -> list[ReviewerProgress]:
    """Progress per reviewer (current assignment), decision times and rubber-stamp signals."""
    rows = (
        ReviewItem.objects.filter(campaign=campaign)
        .values("reviewer_id")
        .annotate(
            total=Count("id"),
            decided=Count("id", filter=Q(status__in=_DECIDED)),
            escalated=Count("id", filter=Q(escalation_level__gt=0)),
        )
        .order_by()
    )
    progress: dict[int | None, ReviewerProgress] = {}
    for r in rows:
        progress[r["reviewer_id"]] = ReviewerProgress(
            reviewer=None, total=r["total"], decided=r["decided"], escalated=r["escalated"]
        )
    # Decisions by the people who took them (the current ones, human).
    times: dict[int, list[datetime]] = defaultdict(list)
    seconds: dict[int, list[float]] = defaultdict(list)
    for by, outcome, at, secs, bulk in (
        ReviewDecision.objects.filter(
            item__campaign=campaign, source=DecisionSource.HUMAN, superseded_at=None
        )
        .order_by("decided_at")
        .values_list("decided_by_id", "outcome", "decided_at", "seconds_to_decide", "bulk")
    ):
        entry = progress.setdefault(by, ReviewerProgress(reviewer=None))
        if outcome == Outcome.KEEP:
            entry.keeps += 1
            if bulk:
                entry.bulk_keeps += 1
            else:
                times[by].append(at)
        elif outcome == Outcome.DEPROVISION:
            entry.deprovisions += 1
        else:
            entry.handovers += 1
        if secs is not None and not bulk:
            seconds[by].append(secs)
    for by, keep_times in times.items():
        progress[by].fastest_keeps = _max_in_window(keep_times)
    for by, durations in seconds.items():
        progress[by].median_seconds = statistics.median(durations)
    reminders = dict(
        ReminderLog.objects.filter(campaign=campaign, recipient__isnull=False)
        .values("recipient_id")
        .annotate(n=Count("id"))
        .values_list("recipient_id", "n")
    )
    signed = dict(
        ReviewerSignOff.objects.filter(campaign=campaign)
        .order_by("signed_at")
        .values_list("reviewer_id", "signed_at")
    )
    people = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=[k for k in progress if k is not None]
        ).prefetch_related("teams")
    }
    for pk, entry in progress.items():
        if pk is not None:
            entry.reviewer = people.get(pk)
            entry.reminders = reminders.get(pk, 0)
            entry.signed_off_at = signed.get(pk)
            if entry.reviewer is not None:
                entry.teams = [t.name for t in entry.reviewer.teams.all()]
    return sorted(
        progress.values(),
        key=lambda p: (-p.pending, p.reviewer is None, str(p.reviewer or "")),
    )


def campaign_teams(campaign: Campaign) -> list[dict[str, Any]]:
    """Progress per owning team of the identities (as snapshotted)."""
    rows = (
        ReviewItem.objects.filter(campaign=campaign)
        .values("identity__owner_team__name")
        .annotate(
            total=Count("id"),
            decided=Count("id", filter=Q(status__in=_DECIDED)),
            pending=Count("id", filter=Q(status=ItemStatus.PENDING)),
        )
        .order_by("-pending", "identity__owner_team__name")
    )
    return [
        {
            "team": r["identity__owner_team__name"] or "",
            "total": r["total"],
            "decided": r["decided"],
            "pending": r["pending"],
            "percent": round(100 * r["decided"] / r["total"]) if r["total"] else 100,
        }
        for r in rows
    ]


def campaign_counts(campaign: Campaign) -> dict[str, Any]:
    """Items per status, decisions per outcome and source, completion."""
    by_status = dict(
        ReviewItem.objects.filter(campaign=campaign)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = sum(by_status.values())
    decided = sum(n for s, n in by_status.items() if s in DECIDED_STATUSES)
    by_decision: dict[str, dict[str, int]] = defaultdict(dict)
    for outcome, source, n in (
        ReviewDecision.objects.filter(item__campaign=campaign, superseded_at=None)
        .values("outcome", "source")
        .annotate(n=Count("id"))
        .values_list("outcome", "source", "n")
    ):
        by_decision[outcome][source] = n
    return {
        "total": total,
        "decided": decided,
        "pending": by_status.get(ItemStatus.PENDING, 0),
        "percent": round(100 * decided / total) if total else 100,
        "by_status": {s.value: by_status.get(s.value, 0) for s in ItemStatus},
        "by_decision": {o.value: dict(by_decision.get(o.value, {})) for o in Outcome},
        "status_rows": [(s.value, s.label, by_status.get(s.value, 0)) for s in ItemStatus],
        "decision_rows": [
            (
                o.label,
                by_decision.get(o.value, {}).get("human", 0),
                by_decision.get(o.value, {}).get("auto", 0),
            )
            for o in Outcome
        ],
    }


def awaiting_confirmation(campaign: Campaign) -> QuerySet[ReviewItem]:
    """Self-reviewed keeps waiting for a second reviewer."""
    return (
        ReviewItem.objects.filter(
            campaign=campaign,
            decision__needs_confirmation=True,
            decision__confirmed_at=None,
            decision__superseded_at=None,
        )
        .select_related("decision__decided_by")
        .order_by("name")
    )


def campaign_remediation(campaign: Campaign) -> dict[str, Any]:
    """Remediation requests of the campaign, against their deadline."""
    now = timezone.now()
    qs = RemediationRequest.objects.filter(item__campaign=campaign)
    by_status = dict(qs.values("status").annotate(n=Count("id")).values_list("status", "n"))
    overdue = qs.filter(status=RemediationStatus.REQUESTED, due_at__lt=now).count()
    return {
        "by_status": {s.value: by_status.get(s.value, 0) for s in RemediationStatus},
        "open": by_status.get(RemediationStatus.REQUESTED, 0),
        "overdue": overdue,
    }


def campaign_close_summary(campaign: Campaign) -> dict[str, Any]:
    """What the sign-off seals: counts, no-response handling, exceptions, remediation."""
    counts = campaign_counts(campaign)
    exceptions = ReviewDecision.objects.filter(
        item__campaign=campaign, superseded_at=None, exception_until__isnull=False
    ).count()
    return {
        "campaign_id": campaign.pk,
        "name": campaign.name,
        "scope": campaign.scope,
        "inventory_count": campaign.inventory_count,
        "excluded_count": campaign.excluded_count,
        "population_count": campaign.population_count,
        "snapshot_hash": campaign.snapshot_hash,
        "activated_at": campaign.activated_at.isoformat() if campaign.activated_at else None,
        "due_at": campaign.due_at.isoformat() if campaign.due_at else None,
        "items": counts["total"],
        "decided": counts["decided"],
        "percent_complete": counts["percent"],
        "by_status": counts["by_status"],
        "by_decision": counts["by_decision"],
        "no_response": campaign.no_response_summary,
        "exceptions": exceptions,
        "remediation": campaign_remediation(campaign)["by_status"],
    }


def identity_review_history(identity: Identity | int) -> QuerySet[ReviewItem]:
    """Every review of one identity, newest first, with its campaign and current decision."""
    identity_id = identity if isinstance(identity, int) else identity.pk
    return (
        ReviewItem.objects.filter(identity_id=identity_id)
        .select_related(
            "campaign",
            "reviewer",
            "decision",
            "decision__decided_by",
            "decision__on_behalf_of",
        )
        .order_by("-campaign__created_at", "-id")
    )


def item_chain(item: ReviewItem) -> dict[str, Any]:
    """Everything about one item for its page and for evidence: decisions and reviewer chain."""
    return {
        "decisions": list(
            item.decisions.select_related(
                "decided_by",
                "on_behalf_of",
                "confirmed_by",
                "handover_to_user",
                "handover_to_team",
                "handover_responded_by",
            ).order_by("decided_at", "id")
        ),
        "assignments": list(
            item.assignments.select_related("from_reviewer", "to_reviewer", "by").order_by(
                "at", "id"
            )
        ),
        "remediation": list(item.remediation_requests.select_related("requested_by")),
    }
