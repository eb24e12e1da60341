"""Handing over and re-routing: who else takes an identity or its review.

* *Hand over* is a decision (``item_decide(outcome="handover")``): the person or team named
  must accept; on acceptance the identity's owner changes (like a manual assignment, which wins
  over tags) and the item is ``reassigned``; a declined handover goes back to its reviewer.
* *Re-route* is not a decision: the review task moves to another reviewer (or the security
  queue), and the chain is kept (:class:`~reviews.models.ReviewAssignment`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory.choices import IdentityEventKind, LifecycleState, OwnerSource
from inventory.models import Identity, IdentityEvent, Team
from nhigov.audit import audit_record
from nhigov.models import User
from reviews.choices import AssignmentReason, HandoverResponse, ItemStatus, Outcome
from reviews.models import ReviewAssignment, ReviewDecision, ReviewItem
from reviews.services.decisions import (
    check_campaign_open,
    check_version,
    may_review,
    person_label,
)
from reviews.states import (
    InvalidTransition,
    NotAllowed,
    ReviewError,
    item_touch,
    item_transition,
)

# --- Handover targets -------------------------------------------------------------------------


def resolve_person(text: str) -> User:
    """An active person by e-mail or username (what the reviewer typed)."""
    value = text.strip()
    if not value:
        raise ReviewError("Name a person by e-mail or username.")
    user = User.objects.filter(Q(email__iexact=value) | Q(username__iexact=value)).first()
    if user is None:
        raise ReviewError(f"Nobody is called {value!r} (use an e-mail or a username).")
    if not user.is_active:
        raise ReviewError(f"{person_label(user)} is deactivated.")
    if user.is_read_only:
        raise ReviewError(
            f"{person_label(user)} is an auditor and cannot own or review identities."
        )
    return user


def resolve_handover_target(text: str) -> User | Team:
    """``team:NAME`` for a team, else a person by e-mail or username."""
    value = text.strip()
    if value.lower().startswith("team:"):
        name = value[5:].strip()
        team = Team.objects.filter(name__iexact=name).select_related("manager").first()
        if team is None:
            raise ReviewError(f"No team is called {name!r}.")
        if team.manager_id is None and not team.members.filter(is_active=True).exists():
            raise ReviewError(f"Team {team.name} has no manager or member to accept it.")
        return team
    return resolve_person(value)


def _handover_answerers(decision: ReviewDecision, actor: User) -> bool:
    """May ``actor`` accept or decline this handover as its addressee?"""
    if decision.handover_to_user_id is not None:
        return decision.handover_to_user_id == actor.pk
    team = decision.handover_to_team
    if team is None:
        return False
    return team.manager_id == actor.pk or team.members.filter(pk=actor.pk).exists()


# --- Re-routing and handovers -----------------------------------------------------------------


def item_reroute(
    *,
    item: ReviewItem,
    actor: User,
    to_user: User | None,
    note: str,
    expected_version: int | None = None,
    now: datetime | None = None,
    request: Any = None,
) -> ReviewAssignment:
    """Send a pending item to another reviewer (None: the security queue), with the reason.

    The reviewer or the security team may re-route; the chain is kept (ReviewAssignment).
    """
    now = now or timezone.now()
    if actor.is_read_only:
        raise NotAllowed("Auditors see every review but cannot re-route one.")
    if item.reviewer_id != actor.pk and not actor.can_assign_owners:
        raise NotAllowed(
            "Only the reviewer this item is assigned to (or security) can re-route it."
        )
    check_campaign_open(item)
    check_version(item, expected_version)
    if item.status != ItemStatus.PENDING:
        raise InvalidTransition("Only an undecided item can be re-routed.")
    note = note.strip()
    if not note:
        raise ReviewError("Say why it should go to someone else: the note is kept with it.")
    if to_user is not None and not may_review(to_user):
        raise ReviewError(f"{person_label(to_user)} cannot review identities.")
    if (to_user.pk if to_user else None) == item.reviewer_id:
        raise ReviewError(f"It is already with {person_label(to_user)}.")
    with transaction.atomic():
        assignment = ReviewAssignment.objects.create(
            item=item,
            from_reviewer_id=item.reviewer_id,
            to_reviewer=to_user,
            reason=AssignmentReason.REROUTED,
            note=note,
            by=actor,
            at=now,
        )
        before = item.reviewer_id
        item_touch(
            item,
            reviewer=to_user,
            assigned_at=now,
            assigned_reason=AssignmentReason.REROUTED,
            shown_at=None,
        )
        audit_record(
            verb="review.rerouted",
            actor=actor,
            obj=item,
            before={"reviewer_id": before},
            after={"reviewer_id": to_user.pk if to_user else None},
            details={"campaign_id": item.campaign_id, "note": note},
            request=request,
            at=now,
        )
        if to_user is not None:
            from reviews.services.reminders import notify_assigned

            transaction.on_commit(lambda: notify_assigned(item_ids=[item.pk], reason=note))
    return assignment


def _identity_owner_set(
    *,
    identity_id: int,
    user: User | None,
    team: Team | None,
    actor: User,
    reason: str,
    now: datetime,
) -> None:
    """The new owner after an accepted handover, like a manual assignment (wins over tags)."""
    row = (
        Identity.objects.select_for_update()
        .filter(pk=identity_id)
        .values_list("owner_id", "owner_team_id", "owner_source", "lifecycle_state", "name")
        .get()
    )
    before_owner, before_team, before_source, state, name = row
    owner_id = user.pk if user else None
    team_id = team.pk if team else before_team
    new_state = LifecycleState.ACTIVE if state == LifecycleState.DISCOVERED else state
    Identity.objects.filter(pk=identity_id).update(
        owner_id=owner_id,
        owner_team_id=team_id,
        owner_source=OwnerSource.MANUAL,
        owner_evidence={
            "manual": {"by": actor.get_username(), "at": now.isoformat(), "reason": reason}
        },
        owner_raw="",
        owner_unmatched=False,
        is_orphaned=False,
        orphaned_since=None,
        lifecycle_state=new_state,
        **({"lifecycle_changed_at": now} if new_state != state else {}),
    )
    IdentityEvent.objects.create(
        identity_id=identity_id,
        kind=IdentityEventKind.OWNER_CHANGED,
        at=now,
        actor=actor,
        reason=reason,
        details={
            "owner_id": [before_owner, owner_id],
            "owner_team_id": [before_team, team_id],
            "source": OwnerSource.MANUAL,
        },
    )
    audit_record(
        verb="identity.owner_changed",
        actor=actor,
        object_type="inventory.identity",
        object_id=identity_id,
        object_label=name,
        before={
            "owner_id": before_owner,
            "owner_team_id": before_team,
            "owner_source": before_source,
        },
        after={"owner_id": owner_id, "owner_team_id": team_id, "owner_source": OwnerSource.MANUAL},
        details={"reason": reason},
        at=now,
    )

    def reevaluate() -> None:
        from inventory.services.risk import risk_evaluate

        risk_evaluate(identity_ids=[identity_id])

    transaction.on_commit(reevaluate)


def handover_respond(
    *,
    item: ReviewItem,
    actor: User,
    accept: bool,
    reason: str = "",
    now: datetime | None = None,
    request: Any = None,
) -> ReviewDecision:
    """The new owner accepts (the identity becomes theirs, the item ``reassigned``) or declines
    (with a reason; the item goes back to its reviewer, undecided)."""
    now = now or timezone.now()
    if actor.is_read_only:
        raise NotAllowed("Auditors see every review but cannot answer a handover.")
    check_campaign_open(item)
    decision = item.decision
    if (
        item.status != ItemStatus.HANDOVER_REQUESTED
        or decision is None
        or decision.outcome != Outcome.HANDOVER
    ):
        raise InvalidTransition("This item is not waiting for a handover answer.")
    addressee = _handover_answerers(decision, actor)
    if not addressee and not actor.can_administer:
        raise NotAllowed(f"This handover is addressed to {decision.handover_target_label}.")
    reason = reason.strip()
    if not accept and not reason:
        raise ReviewError("Say why you decline: the reviewer will read it.")
    response = HandoverResponse.ACCEPTED if accept else HandoverResponse.DECLINED
    with transaction.atomic():
        ReviewDecision.objects.filter(pk=decision.pk).update(
            handover_response=response,
            handover_responded_by=actor,
            handover_responded_at=now,
            handover_response_reason=reason,
            **({} if accept else {"superseded_at": now}),
        )
        if accept:
            item_transition(item, ItemStatus.REASSIGNED)
            _identity_owner_set(
                identity_id=item.identity_id,
                user=decision.handover_to_user,
                team=decision.handover_to_team,
                actor=actor,
                reason=f"Handover accepted in review campaign {item.campaign_id} "
                f"({item.campaign.name}).",
                now=now,
            )
        else:
            item_transition(
                item, ItemStatus.PENDING, decision=None, decided_at=None, locked_at=None
            )
        audit_record(
            verb="review.handover_accepted" if accept else "review.handover_declined",
            actor=actor,
            obj=item,
            before={"status": ItemStatus.HANDOVER_REQUESTED},
            after={"status": item.status},
            details={
                "campaign_id": item.campaign_id,
                "identity_id": item.identity_id,
                "decision_id": decision.pk,
                "handover_to": decision.handover_target_label,
                "on_behalf": not addressee,
                "reason": reason,
            },
            request=request,
            at=now,
        )
        if not accept:
            from reviews.services.reminders import notify_assigned

            transaction.on_commit(
                lambda: notify_assigned(
                    item_ids=[item.pk], reason=f"{person_label(actor)} declined: {reason}"
                )
            )
    decision.refresh_from_db()
    return decision
