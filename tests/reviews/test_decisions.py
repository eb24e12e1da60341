"""What reviewers decide: keep, deprovision, hand over, re-route, bulk keep, self-review, sign-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.choices import IdentityEventKind, LifecycleState, OwnerSource
from inventory.models import Identity, IdentityEvent
from nhigov.models import AuditEvent
from reviews.choices import (
    AssignmentReason,
    DecisionSource,
    HandoverResponse,
    ItemStatus,
    RemediationStatus,
)
from reviews.models import RemediationRequest, ReviewAssignment, ReviewDecision, ReviewItem
from reviews.services.campaigns import campaign_sign_off, campaign_start_closing
from reviews.services.decisions import (
    item_decide,
    items_bulk_keep,
    queue_sign_off,
    self_review_confirm,
)
from reviews.services.handovers import handover_respond, item_reroute
from reviews.services.remediation import remediation_record_result
from reviews.states import InvalidTransition, NotAllowed, ReviewError
from tests.reviews.factories import item_of

pytestmark = pytest.mark.django_db


def test_keep_of_a_low_risk_item_needs_no_justification(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    decision = item_decide(item=item, actor=estate.olivia, outcome="keep")
    item.refresh_from_db()
    assert item.status == ItemStatus.KEPT and item.decision == decision
    assert decision.source == DecisionSource.HUMAN and decision.decided_by == estate.olivia
    assert decision.recommendation == "keep" and decision.recommendation_reason.startswith("used")


def test_keep_of_a_critical_item_needs_a_justification(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.admin)
    with pytest.raises(ReviewError, match="critical-risk identity needs a justification"):
        item_decide(item=item, actor=estate.olivia, outcome="keep", justification="ok")
    assert ReviewItem.objects.get(pk=item.pk).status == ItemStatus.PENDING
    item_decide(
        item=item, actor=estate.olivia, outcome="keep", justification="Terraform applies prod."
    )
    assert ReviewItem.objects.get(pk=item.pk).status == ItemStatus.KEPT


def test_keep_of_a_flagged_item_needs_a_justification(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReviewError, match="flagged"):
        item_decide(item=item_of(campaign, estate.old), actor=estate.olivia, outcome="keep")


def test_a_keep_may_carry_an_exception_end_date_within_a_year(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    today = timezone.now().date()
    with pytest.raises(ReviewError, match="future"):
        item_decide(item=item, actor=estate.olivia, outcome="keep", exception_until=today)
    with pytest.raises(ReviewError, match="at most a year"):
        item_decide(
            item=item,
            actor=estate.olivia,
            outcome="keep",
            exception_until=today + timedelta(days=400),
        )
    with pytest.raises(ReviewError, match="documented"):
        item_decide(
            item=item,
            actor=estate.olivia,
            outcome="keep",
            exception_until=today + timedelta(days=90),
        )
    decision = item_decide(
        item=item,
        actor=estate.olivia,
        outcome="keep",
        justification="Needed until the migration to OIDC ends.",
        exception_until=today + timedelta(days=90),
    )
    assert decision.exception_until == today + timedelta(days=90)


def test_deprovision_requests_remediation_and_marks_the_identity(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.old)
    decision = item_decide(item=item, actor=estate.olivia, outcome="deprovision")
    item.refresh_from_db()
    assert item.status == ItemStatus.REVOKE_REQUESTED
    request = RemediationRequest.objects.get(item=item)
    assert request.status == RemediationStatus.REQUESTED and request.dry_run
    assert request.decision == decision and request.requested_by == estate.olivia
    assert request.previous_lifecycle_state == LifecycleState.ACTIVE
    identity = Identity.objects.get(pk=estate.old.pk)
    assert identity.lifecycle_state == LifecycleState.PENDING_DEPROVISION
    event = IdentityEvent.objects.get(identity=identity, kind=IdentityEventKind.STATE_CHANGED)
    assert "review campaign" in event.reason
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"review.decided", "remediation.requested", "identity.lifecycle_changed"} <= verbs


def test_a_changed_decision_cancels_the_remediation_and_restores_the_identity(
    campaign, estate
) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.old)
    first = item_decide(item=item, actor=estate.olivia, outcome="deprovision")
    item = item_of(campaign, estate.old)
    second = item_decide(
        item=item, actor=estate.olivia, outcome="keep", justification="Still used by billing."
    )
    first.refresh_from_db()
    assert first.superseded_at is not None and second.superseded_at is None
    assert RemediationRequest.objects.get(item=item).status == RemediationStatus.CANCELED
    assert Identity.objects.get(pk=estate.old.pk).lifecycle_state == LifecycleState.ACTIVE
    assert item_of(campaign, estate.old).status == ItemStatus.KEPT
    assert AuditEvent.objects.filter(verb="review.decision_changed").count() == 1


def test_remediation_results_move_the_item_while_the_campaign_is_open(
    campaign, estate, security_user
) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.old)
    item_decide(item=item, actor=estate.olivia, outcome="deprovision")
    request = RemediationRequest.objects.get(item=item)
    with pytest.raises(NotAllowed):
        remediation_record_result(request=request, actor=estate.olivia, succeeded=True)
    remediation_record_result(request=request, actor=security_user, succeeded=True, note="by hand")
    assert item_of(campaign, estate.old).status == ItemStatus.REMEDIATED
    assert Identity.objects.get(pk=estate.old.pk).lifecycle_state == LifecycleState.DEPROVISIONED


def test_handover_waits_for_the_new_owner_who_accepts(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    item_decide(item=item, actor=estate.olivia, outcome="handover", handover_to=estate.bob)
    item = item_of(campaign, estate.ci)
    assert item.status == ItemStatus.HANDOVER_REQUESTED
    with pytest.raises(NotAllowed):
        handover_respond(item=item, actor=estate.raj, accept=True)
    decision = handover_respond(item=item, actor=estate.bob, accept=True)
    assert decision.handover_response == HandoverResponse.ACCEPTED
    assert item_of(campaign, estate.ci).status == ItemStatus.REASSIGNED
    identity = Identity.objects.get(pk=estate.ci.pk)
    assert identity.owner == estate.bob and identity.owner_source == OwnerSource.MANUAL
    event = IdentityEvent.objects.get(identity=identity, kind=IdentityEventKind.OWNER_CHANGED)
    assert event.reason.startswith("Handover accepted in review campaign")
    assert AuditEvent.objects.filter(verb="identity.owner_changed").exists()


def test_a_declined_handover_goes_back_to_the_reviewer_undecided(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    item_decide(item=item, actor=estate.olivia, outcome="handover", handover_to=estate.bob)
    item = item_of(campaign, estate.ci)
    with pytest.raises(ReviewError, match="why"):
        handover_respond(item=item, actor=estate.bob, accept=False)
    handover_respond(item=item, actor=estate.bob, accept=False, reason="Not my service.")
    item = item_of(campaign, estate.ci)
    assert item.status == ItemStatus.PENDING and item.decision is None
    assert item.reviewer == estate.olivia
    assert Identity.objects.get(pk=estate.ci.pk).owner == estate.olivia


def test_a_team_handover_is_accepted_by_its_manager_or_a_member(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.bobs)
    item_decide(item=item, actor=estate.bob, outcome="handover", handover_to=estate.platform)
    handover_respond(item=item_of(campaign, estate.bobs), actor=estate.olivia, accept=True)
    identity = Identity.objects.get(pk=estate.bobs.pk)
    assert identity.owner is None and identity.owner_team == estate.platform


def test_handing_over_to_yourself_is_refused(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReviewError, match="someone else"):
        item_decide(
            item=item_of(campaign, estate.ci),
            actor=estate.olivia,
            outcome="handover",
            handover_to=estate.olivia,
        )


def test_reroute_keeps_the_chain(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    with pytest.raises(ReviewError, match="why"):
        item_reroute(item=item, actor=estate.olivia, to_user=estate.raj, note="")
    item_reroute(item=item, actor=estate.olivia, to_user=estate.raj, note="Raj runs CI.")
    item = item_of(campaign, estate.ci)
    assert item.reviewer == estate.raj and item.first_reviewer == estate.olivia
    assert item.assigned_reason == AssignmentReason.REROUTED
    item_reroute(item=item, actor=security_user, to_user=None, note="Raj is on leave.")
    chain = list(ReviewAssignment.objects.filter(item=item).order_by("at", "id"))
    assert [(a.from_reviewer, a.to_reviewer, a.by) for a in chain] == [
        (estate.olivia, estate.raj, estate.olivia),
        (estate.raj, None, security_user),
    ]
    with pytest.raises(NotAllowed):
        item_reroute(
            item=item_of(campaign, estate.ci), actor=estate.olivia, to_user=estate.bob, note="x"
        )


def test_only_undecided_items_are_rerouted(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    item_decide(item=item, actor=estate.olivia, outcome="keep")
    with pytest.raises(InvalidTransition):
        item_reroute(
            item=item_of(campaign, estate.ci), actor=estate.olivia, to_user=estate.raj, note="x"
        )


def test_bulk_keep_is_only_for_low_risk_recently_used_items(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    mine = ReviewItem.objects.filter(campaign=campaign, reviewer=estate.olivia)
    with pytest.raises(ReviewError, match="low-risk"):
        items_bulk_keep(items=mine, actor=estate.olivia)
    assert not ReviewDecision.objects.exists()
    result = items_bulk_keep(items=mine.filter(bulk_keep_eligible=True), actor=estate.olivia)
    assert result.kept == [item_of(campaign, estate.ci).pk] and not result.conflicts
    decision = item_of(campaign, estate.ci).decision
    assert decision.bulk and decision.outcome == "keep"
    assert AuditEvent.objects.filter(verb="review.decided", details__bulk=True).count() == 1


def test_bulk_keep_of_someone_elses_items_is_refused(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    theirs = ReviewItem.objects.filter(campaign=campaign, identity=estate.ci)
    with pytest.raises(NotAllowed):
        items_bulk_keep(items=theirs, actor=estate.bob)


def test_self_review_keep_needs_a_long_reason_or_a_second_reviewer(
    campaign, estate, security_user, analyst_user
) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.console)
    assert item.self_review
    short = item_decide(item=item, actor=estate.olivia, outcome="keep", justification="mine")
    assert short.needs_confirmation
    with pytest.raises(NotAllowed):
        self_review_confirm(
            item=item_of(campaign, estate.console), actor=estate.olivia, confirm=True
        )
    confirmed = self_review_confirm(
        item=item_of(campaign, estate.console), actor=analyst_user, confirm=True
    )
    assert confirmed.confirmed_by == analyst_user and confirmed.confirmed_at is not None


def test_self_review_keep_with_a_written_reason_needs_no_second_reviewer(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    reason = "I run the quarterly export by hand with this key; moving it to SSO in January."
    decision = item_decide(
        item=item_of(campaign, estate.console),
        actor=estate.olivia,
        outcome="keep",
        justification=reason,
    )
    assert not decision.needs_confirmation


def test_a_rejected_self_review_goes_back_to_the_owner(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    item_decide(item=item_of(campaign, estate.console), actor=estate.olivia, outcome="keep")
    self_review_confirm(
        item=item_of(campaign, estate.console),
        actor=security_user,
        confirm=False,
        reason="Use SSO instead of keys.",
    )
    item = item_of(campaign, estate.console)
    assert item.status == ItemStatus.PENDING and item.decision is None


def test_an_unconfirmed_self_review_blocks_the_sign_off(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    item_decide(item=item_of(campaign, estate.console), actor=estate.olivia, outcome="keep")
    campaign_start_closing(campaign=campaign, actor=security_user)
    with pytest.raises(ReviewError, match="second reviewer"):
        campaign_sign_off(campaign=campaign, actor=security_user, confirm=True)
    self_review_confirm(item=item_of(campaign, estate.console), actor=security_user, confirm=True)
    campaign_sign_off(campaign=campaign, actor=security_user, confirm=True)


def test_decisions_change_until_the_queue_is_signed_off_then_lock(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    mine = ReviewItem.objects.filter(campaign=campaign, reviewer=estate.olivia)
    with pytest.raises(ReviewError, match="still undecided"):
        queue_sign_off(campaign=campaign, actor=estate.olivia)
    reason = "Needed for the nightly pipeline run by platform."
    for item in mine:
        item_decide(item=item, actor=estate.olivia, outcome="keep", justification=reason * 2)
    item = item_of(campaign, estate.ci)
    item_decide(item=item, actor=estate.olivia, outcome="deprovision")  # changed: allowed
    sign_off = queue_sign_off(campaign=campaign, actor=estate.olivia)
    assert sign_off.items_locked == 4
    with pytest.raises(InvalidTransition, match="locked"):
        item_decide(item=item_of(campaign, estate.ci), actor=estate.olivia, outcome="keep")
    with pytest.raises(ReviewError, match="Nothing new"):
        queue_sign_off(campaign=campaign, actor=estate.olivia)
