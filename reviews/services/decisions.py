"""What reviewers do with their items: keep, deprovision, hand over, re-route, bulk keep, answer
a handover, confirm a self-review, sign off their queue.

Rules that hold for every write here:

* only the assigned reviewer decides an item (the security team for the security queue); a
  security admin may act for the reviewer, and the decision says so (``on_behalf_of``);
  auditors never change anything;
* decisions change only while the campaign is active and until the reviewer signs off;
* every change goes through :mod:`reviews.states` (validated, conditional on the version the
  person saw) and is written to the audit trail in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from inventory.choices import LifecycleState
from inventory.models import Identity, Team
from nhigov.audit import audit_record, audit_record_many
from nhigov.models import User
from reviews.choices import (
    CampaignStatus,
    DecisionSource,
    ItemStatus,
    Outcome,
)
from reviews.models import Campaign, ReviewDecision, ReviewerSignOff, ReviewItem
from reviews.services.exceptions import exception_sync
from reviews.services.remediation import remediation_cancel_open, remediation_request_create
from reviews.states import (
    ConcurrentChange,
    InvalidTransition,
    NotAllowed,
    ReviewError,
    concurrent_message,
    item_transition,
)

OUTCOME_STATUS: dict[str, str] = {
    Outcome.KEEP: ItemStatus.KEPT,
    Outcome.DEPROVISION: ItemStatus.REVOKE_REQUESTED,
    Outcome.HANDOVER: ItemStatus.HANDOVER_REQUESTED,
}
# Consecutive decisions further apart than this are separate sittings (decision time).
_SITTING = timedelta(hours=1)


def person_label(user: User | None) -> str:
    if user is None:
        return "the security queue"
    return user.get_full_name() or user.email or user.get_username()


def may_review(user: User) -> bool:
    return user.is_active and not user.is_read_only


# --- Who may act ------------------------------------------------------------------------------


def acting_for(item: ReviewItem, actor: User, on_behalf_of_id: int | None = None) -> User | None:
    """Check that ``actor`` may decide ``item``; return the reviewer they act for, if any.

    Raises :class:`NotAllowed` for auditors, other owners, analysts outside the security queue,
    and a security admin who did not say whose behalf they act on.
    """
    if actor.is_read_only:
        raise NotAllowed("Auditors see every review but cannot decide one.")
    if item.reviewer_id is not None and item.reviewer_id == actor.pk:
        return None
    if item.reviewer_id is None:
        if actor.can_assign_owners:
            return None
        raise NotAllowed("This item is in the security queue: only the security team decides it.")
    if actor.can_administer:
        if on_behalf_of_id != item.reviewer_id:
            raise NotAllowed(
                f"This item is assigned to {person_label(item.reviewer)}. A security admin may "
                "decide it on their behalf, and must say so (it is recorded)."
            )
        return item.reviewer
    raise NotAllowed("Only the reviewer this item is assigned to can decide it.")


def check_campaign_open(item: ReviewItem) -> None:
    if item.campaign.status != CampaignStatus.ACTIVE:
        raise InvalidTransition(
            f"The campaign is {item.campaign.get_status_display().lower()}: decisions can no "
            "longer change."
        )


def check_version(item: ReviewItem, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != item.version:
        raise ConcurrentChange(concurrent_message(item.pk))


# --- Deciding ---------------------------------------------------------------------------------


def _seconds_to_decide(item: ReviewItem, actor: User, now: datetime) -> float:
    """From when the item was shown (or the reviewer's previous decision, if later) to now."""
    start = item.shown_at or item.assigned_at
    previous = (
        ReviewDecision.objects.filter(decided_by=actor, decided_at__gte=now - _SITTING)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if previous is not None and previous > start:
        start = previous
    return max(0.0, (now - start).total_seconds())


def _validate_keep(
    item: ReviewItem,
    *,
    actor: User,
    justification: str,
    exception_until: date | None,
    now: datetime,
) -> bool:
    """Check a keep; return whether it needs a second reviewer (self-review)."""
    minimum = settings.NHIGOV_REVIEW_JUSTIFICATION_MIN_CHARS
    if item.justification_required and len(justification) < minimum:
        why = (
            f"{item.tier}-risk"
            if item.tier in {"critical", "high"}
            else "flagged (stale, orphaned, privileged or with serious findings)"
        )
        raise ReviewError(
            f"Keeping a {why} identity needs a justification of at least {minimum} characters: "
            "say why it is still needed."
        )
    if exception_until is not None:
        today = now.date()
        if exception_until <= today:
            raise ReviewError("The exception must end in the future.")
        if exception_until > today + timedelta(days=366):
            raise ReviewError("An exception lasts at most a year: review it again by then.")
        if len(justification) < minimum:
            raise ReviewError(
                f"An exception is documented: give the reason (at least {minimum} characters) "
                "with its end date."
            )
    owner = (item.snapshot.get("owner") or {}).get("user_id")
    if item.self_review and owner == actor.pk:
        return len(justification) < settings.NHIGOV_REVIEW_SELF_REVIEW_MIN_CHARS
    return False


def item_decide(
    *,
    item: ReviewItem,
    actor: User,
    outcome: str,
    justification: str = "",
    exception_until: date | None = None,
    handover_to: User | Team | None = None,
    on_behalf_of_id: int | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    request: Any = None,
) -> ReviewDecision:
    """Keep, deprovision or hand over one item (or change the decision before sign-off).

    * keep: a justification for critical/high-tier and flagged items; an optional exception end
      date; an owner keeping an identity they use themselves (a person's machine credential)
      writes a reason of at least ``NHIGOV_REVIEW_SELF_REVIEW_MIN_CHARS`` characters, or the keep
      waits for a second reviewer from security;
    * deprovision: creates a :class:`~reviews.models.RemediationRequest` (dry run) and moves the
      identity to ``pending_deprovision``;
    * hand over: to a person or a team, who must accept (the item waits in their queue).
    """
    now = now or timezone.now()
    justification = justification.strip()
    if outcome not in OUTCOME_STATUS:
        raise ReviewError("Choose keep, deprovision or hand over.")
    on_behalf = acting_for(item, actor, on_behalf_of_id)
    check_campaign_open(item)
    check_version(item, expected_version)
    if item.locked_at is not None:
        raise InvalidTransition(
            "This decision is locked: the reviewer signed off their queue on "
            f"{item.locked_at:%Y-%m-%d %H:%M} UTC."
        )
    needs_confirmation = False
    if outcome == Outcome.KEEP:
        needs_confirmation = _validate_keep(
            item, actor=actor, justification=justification, exception_until=exception_until, now=now
        )
    elif exception_until is not None:
        raise ReviewError("Only a keep can have an exception end date.")
    if outcome == Outcome.HANDOVER:
        if handover_to is None:
            raise ReviewError("Name the person or team (team:NAME) to hand this identity over to.")
        if isinstance(handover_to, User):
            if handover_to.pk in (actor.pk, item.reviewer_id):
                raise ReviewError("Hand it over to someone else: you review it already.")
            if not may_review(handover_to):
                raise ReviewError(f"{person_label(handover_to)} cannot own identities.")
    target = OUTCOME_STATUS[outcome]
    previous: ReviewDecision | None = item.decision if item.decision_id else None
    with transaction.atomic():
        if previous is not None:
            ReviewDecision.objects.filter(pk=previous.pk).update(superseded_at=now)
            if previous.outcome == Outcome.DEPROVISION:
                remediation_cancel_open(item=item, actor=actor, now=now)
        decision = ReviewDecision.objects.create(
            item=item,
            outcome=outcome,
            source=DecisionSource.HUMAN,
            decided_by=actor,
            on_behalf_of=on_behalf,
            decided_at=now,
            justification=justification,
            exception_until=exception_until if outcome == Outcome.KEEP else None,
            recommendation=item.recommendation,
            recommendation_reason=item.recommendation_reason,
            seconds_to_decide=_seconds_to_decide(item, actor, now),
            needs_confirmation=needs_confirmation,
            handover_to_user=handover_to if isinstance(handover_to, User) else None,
            handover_to_team=handover_to if isinstance(handover_to, Team) else None,
        )
        before = {"status": item.status, "outcome": previous.outcome if previous else None}
        item_transition(item, target, decision=decision, decided_at=now)
        item.decision = decision
        if outcome == Outcome.DEPROVISION:
            remediation_request_create(item=item, decision=decision, actor=actor, now=now)
        else:  # a keep with an end date is an exception; a changed one may end it
            exception_sync(identity_id=item.identity_id, actor=actor, now=now)
        audit_record(
            verb="review.decision_changed" if previous else "review.decided",
            actor=actor,
            obj=item,
            before=before,
            after={"status": target, "outcome": outcome},
            details={
                "campaign_id": item.campaign_id,
                "identity_id": item.identity_id,
                "decision_id": decision.pk,
                "source": DecisionSource.HUMAN,
                "on_behalf_of": on_behalf.pk if on_behalf else None,
                "justification": justification,
                "exception_until": exception_until.isoformat() if exception_until else None,
                "recommendation": item.recommendation,
                "handover_to": decision.handover_target_label or None,
                "needs_confirmation": needs_confirmation,
                "snapshot_hash": item.snapshot_hash,
            },
            request=request,
            at=now,
        )
        if outcome == Outcome.HANDOVER:
            from reviews.services.reminders import notify_handover

            transaction.on_commit(lambda: notify_handover(decision_id=decision.pk))
    return decision


@dataclass
class BulkResult:
    kept: list[int] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def items_bulk_keep(
    *,
    items: QuerySet[ReviewItem],
    actor: User,
    justification: str = "",
    now: datetime | None = None,
) -> BulkResult:
    """Keep many low-risk, recently used items of the actor's own queue at once.

    Every item must be eligible (low tier, not flagged, used within
    ``NHIGOV_REVIEW_BULK_KEEP_MAX_IDLE_DAYS``, recommendation keep, no self-review) or nothing is
    done. Items someone else decided meanwhile are skipped and named.
    """
    now = now or timezone.now()
    if actor.is_read_only:
        raise NotAllowed("Auditors see every review but cannot decide one.")
    chosen = list(items.select_related("campaign").filter(status=ItemStatus.PENDING))
    if not chosen:
        raise ReviewError("Nothing to keep: no pending item was selected.")
    not_mine = [i.name for i in chosen if i.reviewer_id != actor.pk]
    if not_mine:
        raise NotAllowed(
            "Bulk keep works on your own queue only; not yours: " + ", ".join(not_mine[:5])
        )
    ineligible = [i.name for i in chosen if not i.bulk_keep_eligible or i.locked_at]
    if ineligible:
        more = f" and {len(ineligible) - 5} more" if len(ineligible) > 5 else ""
        raise ReviewError(
            "Bulk keep is only for low-risk items used recently. Decide these one by one: "
            + ", ".join(ineligible[:5])
            + more
            + "."
        )
    closed = {i.campaign.name for i in chosen if i.campaign.status != CampaignStatus.ACTIVE}
    if closed:
        raise InvalidTransition(f"Campaign {', '.join(sorted(closed))} no longer takes decisions.")
    result = BulkResult()
    per_item = 0.0  # one click for all: no time spent per item (counted apart as bulk)
    with transaction.atomic():
        decisions = ReviewDecision.objects.bulk_create(
            [
                ReviewDecision(
                    item=item,
                    outcome=Outcome.KEEP,
                    source=DecisionSource.HUMAN,
                    decided_by=actor,
                    decided_at=now,
                    justification=justification.strip(),
                    recommendation=item.recommendation,
                    recommendation_reason=item.recommendation_reason,
                    seconds_to_decide=per_item,
                    bulk=True,
                )
                for item in chosen
            ]
        )
        lost: list[int] = []
        audit: list[dict[str, Any]] = []
        for item, decision in zip(chosen, decisions, strict=True):
            try:
                item_transition(item, ItemStatus.KEPT, decision_id=decision.pk, decided_at=now)
            except ConcurrentChange:
                lost.append(decision.pk)
                result.conflicts.append(item.name)
                continue
            result.kept.append(item.pk)
            audit.append(
                {
                    "verb": "review.decided",
                    "object_type": "reviews.reviewitem",
                    "object_id": item.pk,
                    "object_label": str(item),
                    "before": {"status": ItemStatus.PENDING, "outcome": None},
                    "after": {"status": ItemStatus.KEPT, "outcome": Outcome.KEEP},
                    "details": {
                        "campaign_id": item.campaign_id,
                        "identity_id": item.identity_id,
                        "decision_id": decision.pk,
                        "source": DecisionSource.HUMAN,
                        "bulk": True,
                        "justification": justification.strip(),
                        "recommendation": item.recommendation,
                        "snapshot_hash": item.snapshot_hash,
                    },
                    "at": now,
                }
            )
        if lost:
            ReviewDecision.objects.filter(pk__in=lost).delete()
        audit_record_many(audit, actor=actor)
        # A keep without an end date ends an earlier exception (rare for low-risk items).
        kept_identities = [i.identity_id for i in chosen if i.pk in set(result.kept)]
        for identity_id in Identity.objects.filter(
            pk__in=kept_identities, lifecycle_state=LifecycleState.EXCEPTED
        ).values_list("pk", flat=True):
            exception_sync(identity_id=identity_id, actor=actor, now=now)
    return result


def self_review_confirm(
    *,
    item: ReviewItem,
    actor: User,
    confirm: bool,
    reason: str = "",
    now: datetime | None = None,
    request: Any = None,
) -> ReviewDecision:
    """A second reviewer from security confirms (or rejects) an owner's keep of an identity the
    owner uses themselves. Rejected: the item goes back to the owner, undecided."""
    now = now or timezone.now()
    if not actor.can_assign_owners:
        raise NotAllowed("Only the security team confirms self-reviewed keeps.")
    decision = item.decision
    if decision is None or not decision.needs_confirmation or decision.confirmed_at is not None:
        raise InvalidTransition("This item has no keep waiting for a second reviewer.")
    if decision.decided_by_id == actor.pk:
        raise NotAllowed("The second reviewer must be someone else than the first.")
    if item.campaign.status not in (CampaignStatus.ACTIVE, CampaignStatus.CLOSING):
        raise InvalidTransition("The campaign is closed: nothing in it changes.")
    reason = reason.strip()
    if not confirm and not reason:
        raise ReviewError("Say why the keep is rejected: the owner will read it.")
    with transaction.atomic():
        if confirm:
            rows = ReviewDecision.objects.filter(pk=decision.pk, confirmed_at=None).update(
                confirmed_by=actor, confirmed_at=now
            )
            if rows != 1:
                raise ConcurrentChange("Someone else confirmed this keep first.")
        else:
            if item.campaign.status != CampaignStatus.ACTIVE:
                raise InvalidTransition("The campaign is closing: the keep can only be confirmed.")
            ReviewDecision.objects.filter(pk=decision.pk).update(superseded_at=now)
            item_transition(
                item, ItemStatus.PENDING, decision=None, decided_at=None, locked_at=None
            )
            exception_sync(identity_id=item.identity_id, actor=actor, now=now)
        audit_record(
            verb="review.self_review_confirmed" if confirm else "review.self_review_rejected",
            actor=actor,
            obj=item,
            details={"decision_id": decision.pk, "reason": reason, "campaign_id": item.campaign_id},
            request=request,
            at=now,
        )
    decision.refresh_from_db()
    return decision


def queue_sign_off(
    *, campaign: Campaign, actor: User, now: datetime | None = None, request: Any = None
) -> ReviewerSignOff:
    """The reviewer is done: every item of their queue decided, and the decisions locked."""
    now = now or timezone.now()
    if actor.is_read_only:
        raise NotAllowed("Auditors see every review but cannot sign one off.")
    if campaign.status != CampaignStatus.ACTIVE:
        raise InvalidTransition("Only an active campaign's queue can be signed off.")
    mine = ReviewItem.objects.filter(campaign=campaign, reviewer=actor)
    pending = mine.filter(status=ItemStatus.PENDING).count()
    if pending:
        raise ReviewError(
            f"{pending} item{'s' if pending != 1 else ''} still undecided: decide every item "
            "before signing off."
        )
    with transaction.atomic():
        locked = mine.filter(locked_at=None).update(locked_at=now)
        if not locked:
            raise ReviewError("Nothing new to sign off in this campaign.")
        sign_off = ReviewerSignOff.objects.create(
            campaign=campaign, reviewer=actor, signed_at=now, items_locked=locked
        )
        audit_record(
            verb="review.queue_signed_off",
            actor=actor,
            obj=campaign,
            details={"items_locked": locked, "reviewer_id": actor.pk},
            request=request,
            at=now,
        )
    return sign_off


def items_mark_shown(*, items: list[ReviewItem], user: User, now: datetime | None = None) -> int:
    """Note when pending items were first shown to their reviewer (decision time starts then)."""
    ids = [
        i.pk for i in items if i.reviewer_id == user.pk and i.shown_at is None and not i.is_decided
    ]
    if not ids:
        return 0
    # Not a state change: a measurement, so no version bump and no audit record.
    return ReviewItem.objects.filter(pk__in=ids, shown_at=None).update(
        shown_at=now or timezone.now()
    )
