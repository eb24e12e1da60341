"""Campaign workflows: create, activate (snapshot), launch, extend, close (no-response policy),
sign off, cancel, and the scheduled launches per risk-tier cadence.

``draft -> active -> closing -> closed`` and ``canceled`` (see :mod:`reviews.states`). Each step
checks who acts, moves the state with a conditional UPDATE, and writes its audit event in the
same transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from inventory.choices import Classification
from nhigov.audit import audit_record, audit_record_many, canonical_json, chain_head
from nhigov.models import User
from reviews.choices import (
    CampaignKind,
    CampaignStatus,
    DecisionSource,
    HandoverResponse,
    ItemStatus,
    NoResponsePolicy,
    Outcome,
    Recommendation,
)
from reviews.models import Campaign, ReviewDecision, ReviewItem
from reviews.services.population import (
    population_write,
    scope_counts,
    scope_label,
    scope_queryset,
)
from reviews.services.remediation import remediation_request_create
from reviews.states import (
    ConcurrentChange,
    InvalidTransition,
    NotAllowed,
    ReviewError,
    campaign_transition,
    check_campaign_transition,
    item_transition,
)

RECENT_USE = timedelta(days=30)
TIERS = ("critical", "high", "medium", "low")
# Scheduled campaigns review machine identities; people are reviewed by the HR-driven process.
SCHEDULED_SCOPE: dict[str, Any] = {
    "classification": [Classification.MACHINE, Classification.MACHINE_USED_BY_PERSON]
}


def _require_security(actor: User | None, *, admin: bool = False) -> None:
    """``None`` is the system (beat). People need the security team's role (admins for some)."""
    if actor is None:
        return
    if admin and not actor.can_administer:
        raise NotAllowed("Only a security admin can do this.")
    if not actor.can_assign_owners:
        raise NotAllowed("Only the security team manages review campaigns.")


# --- Create, activate, launch -----------------------------------------------------------------


def campaign_create(
    *,
    name: str,
    scope: dict[str, Any],
    actor: User | None,
    kind: str = CampaignKind.MANUAL,
    due_days: int | None = None,
    grace_days: int | None = None,
    no_response_policy: str | None = None,
    schedule_key: str = "",
    schedule_period: str = "",
    trigger_reason: str = "",
    trigger_identity_id: int | None = None,
    now: datetime | None = None,
    request: Any = None,
) -> Campaign:
    """A draft campaign over ``scope`` (validated now; evaluated at activation)."""
    _require_security(actor)
    now = now or timezone.now()
    name = name.strip()
    if not name or len(name) > 200:
        raise ReviewError("Give the campaign a name of 1-200 characters.")
    scope_queryset(scope)  # raises on an unknown filter or a bad value
    due_days = settings.NHIGOV_REVIEW_DUE_DAYS if due_days is None else due_days
    grace_days = settings.NHIGOV_REVIEW_GRACE_DAYS if grace_days is None else grace_days
    policy = no_response_policy or settings.NHIGOV_REVIEW_NO_RESPONSE_POLICY
    if not 1 <= due_days <= 180:
        raise ReviewError("Reviewers need between 1 and 180 days.")
    if not 0 <= grace_days <= 60:
        raise ReviewError("The grace period after the deadline is 0-60 days.")
    if policy not in NoResponsePolicy.values:
        raise ReviewError(f"The no-response policy is one of {', '.join(NoResponsePolicy.values)}.")
    if kind not in CampaignKind.values:
        raise ReviewError(f"Unknown campaign kind {kind!r}.")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name,
            kind=kind,
            scope=dict(scope),
            schedule_key=schedule_key,
            schedule_period=schedule_period,
            trigger_reason=trigger_reason,
            trigger_identity_id=trigger_identity_id,
            no_response_policy=policy,
            due_days=due_days,
            grace_days=grace_days,
            created_at=now,
            created_by=actor,
        )
        audit_record(
            verb="campaign.created",
            actor=actor,
            obj=campaign,
            after={"status": campaign.status, "kind": kind, "scope": campaign.scope},
            details={
                "scope_label": scope_label(campaign.scope),
                "no_response_policy": policy,
                "due_days": due_days,
                "grace_days": grace_days,
                "trigger_reason": trigger_reason,
            },
            request=request,
            at=now,
        )
    return campaign


def campaign_activate(
    *, campaign: Campaign, actor: User | None, now: datetime | None = None, request: Any = None
) -> Campaign:
    """Snapshot the population into items, route them, start the clock, notify reviewers.

    The identity ids and lifecycle states of the scope are read in one statement, so the
    inventory count, the exclusions and the population reconcile exactly; each item's snapshot
    is then read by id (an identity changed by a concurrent discovery is snapshotted as it is
    then). The whole activation is one transaction: items, counts, hashes and the audit event
    exist together or not at all.
    """
    _require_security(actor)
    now = now or timezone.now()
    check_campaign_transition(campaign.status, CampaignStatus.ACTIVE)
    identities = scope_queryset(campaign.scope)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_campaign_transition(locked.status, CampaignStatus.ACTIVE)
        _asynchronous_commit()
        result = population_write(campaign=campaign, identities=identities, now=now)
        if result.population_count == 0:
            raise ReviewError(
                "The scope selects no identity to review (none match, or all are vanished or "
                "deprovisioned)."
            )
        due_at = now + timedelta(days=campaign.due_days)
        campaign_transition(
            campaign,
            CampaignStatus.ACTIVE,
            activated_at=now,
            activated_by=actor,
            due_at=due_at,
            closes_at=due_at + timedelta(days=campaign.grace_days),
            inventory_count=result.inventory_count,
            excluded_count=result.excluded_count,
            population_count=result.population_count,
            snapshot_hash=result.snapshot_hash,
        )
        audit_record(
            verb="campaign.activated",
            actor=actor,
            obj=campaign,
            before={"status": CampaignStatus.DRAFT},
            after={"status": CampaignStatus.ACTIVE},
            details={
                "scope": campaign.scope,
                "scope_label": scope_label(campaign.scope),
                "inventory_count": result.inventory_count,
                "excluded_count": result.excluded_count,
                "population_count": result.population_count,
                "snapshot_hash": result.snapshot_hash,
                "due_at": due_at,
                "closes_at": campaign.closes_at,
                "no_response_policy": campaign.no_response_policy,
            },
            request=request,
            at=now,
        )
        campaign_id = campaign.pk

        def notify() -> None:
            from reviews.tasks import campaign_notify_opened

            campaign_notify_opened.delay(campaign_id)

        transaction.on_commit(notify)
    return campaign


def _asynchronous_commit() -> None:
    """Do not wait for this transaction's WAL to reach the disk at commit (PostgreSQL).

    An activation writes one row per identity (100k: a few hundred MB of WAL) and then waited
    seconds for the flush. Everything it writes is derived from the inventory and can be made
    again: if the server crashed within the WAL writer's delay (well under a second) after the
    commit, the campaign and its audit events would be lost together, never half, and the
    schedule (or the person) would simply launch it again. Other transactions keep the default.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def campaign_launch(
    *,
    name: str,
    scope: dict[str, Any],
    actor: User | None,
    now: datetime | None = None,
    request: Any = None,
    **options: Any,
) -> Campaign:
    """Create and activate in one transaction (the command line, the schedule, event triggers)."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = campaign_create(
            name=name, scope=scope, actor=actor, now=now, request=request, **options
        )
        return campaign_activate(campaign=campaign, actor=actor, now=now, request=request)


def campaign_preview(scope: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """What activating a scope would create, before creating anything."""
    counts = scope_counts(scope, now=now or timezone.now())
    return {
        "scope_label": scope_label(scope),
        "inventory": counts.inventory,
        "excluded": counts.excluded,
        "population": counts.population,
        "recently_used": counts.recently_used,
    }


# --- Deadline ---------------------------------------------------------------------------------


def campaign_extend(
    *,
    campaign: Campaign,
    actor: User,
    due_at: datetime,
    reason: str,
    now: datetime | None = None,
    request: Any = None,
) -> Campaign:
    """Move the deadline later (the grace period moves with it); the reason is recorded."""
    _require_security(actor)
    now = now or timezone.now()
    reason = reason.strip()
    if campaign.status != CampaignStatus.ACTIVE or campaign.due_at is None:
        raise InvalidTransition("Only an active campaign's deadline can be extended.")
    if not reason:
        raise ReviewError("Say why the deadline moves: the reason is kept with the campaign.")
    if due_at <= campaign.due_at or due_at <= now:
        raise ReviewError(
            f"The new deadline must be after the current one ({campaign.due_at:%Y-%m-%d %H:%M} "
            "UTC) and in the future."
        )
    if due_at > now + timedelta(days=365):
        raise ReviewError("A deadline more than a year away is not a deadline.")
    old_due, old_closes = campaign.due_at, campaign.closes_at
    closes_at = (old_closes or old_due) + (due_at - old_due)
    with transaction.atomic():
        rows = Campaign.objects.filter(
            pk=campaign.pk, status=CampaignStatus.ACTIVE, due_at=old_due
        ).update(due_at=due_at, closes_at=closes_at)
        if rows != 1:
            raise ConcurrentChange("Someone else changed this campaign first. Reload to see it.")
        campaign.due_at, campaign.closes_at = due_at, closes_at
        audit_record(
            verb="campaign.deadline_extended",
            actor=actor,
            obj=campaign,
            before={"due_at": old_due, "closes_at": old_closes},
            after={"due_at": due_at, "closes_at": closes_at},
            details={"reason": reason},
            request=request,
            at=now,
        )
    return campaign


# --- Closing: the no-response policy ----------------------------------------------------------


def policy_outcome(policy: str, recommendation: str) -> str:
    """What the no-response policy does to an undecided item."""
    if policy == NoResponsePolicy.DEPROVISION:
        return Outcome.DEPROVISION
    if policy == NoResponsePolicy.RECOMMENDATION and recommendation == Recommendation.DEPROVISION:
        return Outcome.DEPROVISION
    return Outcome.KEEP


def _unanswered(campaign: Campaign) -> Q:
    return Q(campaign=campaign) & (
        Q(status=ItemStatus.PENDING) | Q(status=ItemStatus.HANDOVER_REQUESTED)
    )


def cutoff_risk(campaign: Campaign, *, now: datetime | None = None) -> list[ReviewItem]:
    """Undecided items the policy would deprovision although used in the last 30 days."""
    now = now or timezone.now()
    if campaign.no_response_policy == NoResponsePolicy.KEEP:
        return []
    items = ReviewItem.objects.filter(_unanswered(campaign), last_used_at__gte=now - RECENT_USE)
    if campaign.no_response_policy == NoResponsePolicy.RECOMMENDATION:
        items = items.filter(recommendation=Recommendation.DEPROVISION)
    return list(items.order_by("-last_used_at")[:200])


def campaign_start_closing(
    *, campaign: Campaign, actor: User | None, now: datetime | None = None, request: Any = None
) -> dict[str, Any]:
    """Move to ``closing`` and apply the no-response policy to every undecided item.

    Each automatic decision is a :class:`~reviews.models.ReviewDecision` with ``source=auto``;
    an automatic keep leaves the item ``expired`` (nobody attested it), an automatic deprovision
    makes it ``revoke_requested`` with a remediation request. Handovers nobody answered are
    treated as undecided. Every decision is locked. Called by the tick at ``closes_at`` (actor
    None) or by a security admin earlier.
    """
    _require_security(actor, admin=True)
    now = now or timezone.now()
    check_campaign_transition(campaign.status, CampaignStatus.CLOSING)
    policy = campaign.no_response_policy
    at_risk = cutoff_risk(campaign, now=now)
    with transaction.atomic():
        campaign_transition(campaign, CampaignStatus.CLOSING, closing_at=now, closing_by=actor)
        items = list(
            ReviewItem.objects.select_for_update(of=("self",))
            .filter(_unanswered(campaign))
            .select_related("campaign", "decision")
            .order_by("id")
        )
        counts: dict[str, int] = defaultdict(int)
        audit: list[dict[str, Any]] = []
        unanswered_handovers = [i.decision_id for i in items if i.decision_id]
        if unanswered_handovers:
            ReviewDecision.objects.filter(pk__in=unanswered_handovers).update(
                handover_response=HandoverResponse.EXPIRED, superseded_at=now
            )
        due = f"{campaign.due_at:%Y-%m-%d}" if campaign.due_at else "the deadline"
        for item in items:
            outcome = policy_outcome(policy, item.recommendation)
            was = item.status
            decision = ReviewDecision.objects.create(
                item=item,
                outcome=outcome,
                source=DecisionSource.AUTO,
                decided_at=now,
                justification=(
                    f"No response by {due}: the campaign's no-response policy "
                    f"({campaign.get_no_response_policy_display().lower()}) applied."
                    + (
                        " The handover was not accepted."
                        if was == ItemStatus.HANDOVER_REQUESTED
                        else ""
                    )
                ),
                recommendation=item.recommendation,
                recommendation_reason=item.recommendation_reason,
            )
            target = (
                ItemStatus.REVOKE_REQUESTED
                if outcome == Outcome.DEPROVISION
                else ItemStatus.EXPIRED
            )
            item_transition(item, target, decision=decision, decided_at=now, locked_at=now)
            if outcome == Outcome.DEPROVISION:
                remediation_request_create(item=item, decision=decision, actor=None, now=now)
            counts[target] += 1
            if was == ItemStatus.HANDOVER_REQUESTED:
                counts["handovers_unanswered"] += 1
            audit.append(
                {
                    "verb": "review.decided",
                    "object_type": "reviews.reviewitem",
                    "object_id": item.pk,
                    "object_label": str(item),
                    "before": {"status": was},
                    "after": {"status": target, "outcome": outcome},
                    "details": {
                        "campaign_id": campaign.pk,
                        "identity_id": item.identity_id,
                        "decision_id": decision.pk,
                        "source": DecisionSource.AUTO,
                        "policy": policy,
                        "recommendation": item.recommendation,
                        "snapshot_hash": item.snapshot_hash,
                    },
                    "at": now,
                }
            )
        ReviewItem.objects.filter(campaign=campaign, locked_at=None).update(locked_at=now)
        audit_record_many(audit, actor=actor)
        summary = {
            "applied_at": now.isoformat(),
            "policy": policy,
            "undecided": len(items),
            "expired": counts[ItemStatus.EXPIRED],
            "deprovision_requested": counts[ItemStatus.REVOKE_REQUESTED],
            "handovers_unanswered": counts["handovers_unanswered"],
            "cutoff_warning": len(at_risk),
            "cutoff_identities": [i.name for i in at_risk[:20]],
        }
        Campaign.objects.filter(pk=campaign.pk).update(no_response_summary=summary)
        campaign.no_response_summary = summary
        audit_record(
            verb="campaign.closing",
            actor=actor,
            obj=campaign,
            before={"status": CampaignStatus.ACTIVE},
            after={"status": CampaignStatus.CLOSING},
            details=summary,
            request=request,
            at=now,
        )
        if at_risk:
            from reviews.services.reminders import security_team

            def warn() -> None:
                from reviews.services.reminders import _send

                _send(
                    f"{len(at_risk)} recently used identities set to be deprovisioned: "
                    f"{campaign.name}",
                    "reviews/email/cutoff_warning.txt",
                    {"campaign": campaign, "items": at_risk[:50], "count": len(at_risk)},
                    [u.email for u in security_team() if u.can_administer],
                )

            transaction.on_commit(warn)
    return summary


# --- Sign-off and cancel ----------------------------------------------------------------------


def close_blockers(campaign: Campaign) -> list[str]:
    """What still stands between a closing campaign and its sign-off, in words."""
    blockers: list[str] = []
    items = ReviewItem.objects.filter(campaign=campaign)
    pending = items.filter(status=ItemStatus.PENDING).count()
    if pending:
        blockers.append(f"{pending} item(s) are still undecided.")
    handovers = items.filter(status=ItemStatus.HANDOVER_REQUESTED).count()
    if handovers:
        blockers.append(f"{handovers} handover(s) wait for the new owner's answer.")
    unconfirmed = ReviewDecision.objects.filter(
        item__campaign=campaign,
        needs_confirmation=True,
        confirmed_at=None,
        superseded_at=None,
    ).count()
    if unconfirmed:
        blockers.append(
            f"{unconfirmed} self-reviewed keep(s) wait for a second reviewer from security."
        )
    return blockers


def campaign_sign_off(
    *,
    campaign: Campaign,
    actor: User,
    confirm: bool,
    comment: str = "",
    now: datetime | None = None,
    request: Any = None,
) -> Campaign:
    """Close the campaign with a named sign-off by a security admin; nothing changes after it.

    Seals a summary (counts per decision and source, completion, exceptions, remediation) with
    its SHA-256 and the audit chain's head at that moment.
    """
    from reviews.selectors import campaign_close_summary

    _require_security(actor, admin=True)
    now = now or timezone.now()
    if campaign.status == CampaignStatus.ACTIVE:
        raise InvalidTransition(
            "Move the campaign to closing first: that applies the no-response policy."
        )
    check_campaign_transition(campaign.status, CampaignStatus.CLOSED)
    if not confirm:
        raise ReviewError("Tick the statement to sign the campaign off.")
    blockers = close_blockers(campaign)
    if blockers:
        raise ReviewError("Not ready to close: " + " ".join(blockers))
    summary = campaign_close_summary(campaign)
    summary_hash = hashlib.sha256(canonical_json(summary).encode()).hexdigest()
    head_seq, head_hash = chain_head()
    name = actor.get_full_name() or actor.get_username()
    role = actor.get_role_display() if not actor.is_superuser else "Security admin (superuser)"
    with transaction.atomic():
        campaign_transition(
            campaign,
            CampaignStatus.CLOSED,
            closed_at=now,
            signed_off_by=actor,
            signed_off_name=name,
            signed_off_role=str(role),
            sign_off_comment=comment.strip(),
            close_summary=summary,
            close_summary_hash=summary_hash,
            audit_head_seq=head_seq,
            audit_head_hash=head_hash,
        )
        audit_record(
            verb="campaign.closed",
            actor=actor,
            obj=campaign,
            before={"status": CampaignStatus.CLOSING},
            after={"status": CampaignStatus.CLOSED},
            details={
                "signed_off_name": name,
                "signed_off_role": str(role),
                "comment": comment.strip(),
                "summary_sha256": summary_hash,
                "audit_head_seq": head_seq,
                "audit_head_hash": head_hash,
                "snapshot_hash": campaign.snapshot_hash,
            },
            request=request,
            at=now,
        )
    return campaign


def campaign_cancel(
    *,
    campaign: Campaign,
    actor: User,
    reason: str,
    now: datetime | None = None,
    request: Any = None,
) -> Campaign:
    """Stop a draft or active campaign; decisions already taken (and their remediation
    requests) stand, undecided items stay undecided."""
    _require_security(actor, admin=True)
    now = now or timezone.now()
    reason = reason.strip()
    check_campaign_transition(campaign.status, CampaignStatus.CANCELED)
    if not reason:
        raise ReviewError("Say why the campaign is canceled: the reason is kept with it.")
    with transaction.atomic():
        before = campaign.status
        campaign_transition(
            campaign,
            CampaignStatus.CANCELED,
            canceled_at=now,
            canceled_by=actor,
            cancel_reason=reason,
        )
        audit_record(
            verb="campaign.canceled",
            actor=actor,
            obj=campaign,
            before={"status": before},
            after={"status": CampaignStatus.CANCELED},
            details={"reason": reason},
            request=request,
            at=now,
        )
    return campaign
