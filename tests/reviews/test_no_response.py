"""At the deadline: the campaign's no-response policy, recorded as automatic, with a warning
when it would cut off an identity used in the last 30 days."""

from __future__ import annotations

import pytest
from django.core import mail

from inventory.choices import LifecycleState
from inventory.models import Identity
from nhigov.models import AuditEvent
from reviews.choices import DecisionSource, HandoverResponse, ItemStatus
from reviews.models import RemediationRequest, ReviewDecision
from reviews.services.campaigns import campaign_start_closing, cutoff_risk
from reviews.services.decisions import item_decide
from reviews.states import NotAllowed
from tests.reviews.factories import item_of, launch

pytestmark = pytest.mark.django_db


def test_policy_keep_leaves_undecided_items_expired_and_marks_them_automatic(
    estate, security_user
) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user, no_response_policy="keep")
    item_decide(item=item_of(campaign, estate.ci), actor=estate.olivia, outcome="deprovision")
    summary = campaign_start_closing(campaign=campaign, actor=security_user)
    assert summary["undecided"] == 6 and summary["expired"] == 6
    item = item_of(campaign, estate.old)
    assert item.status == ItemStatus.EXPIRED and item.locked_at is not None
    assert item.decision.source == DecisionSource.AUTO and item.decision.decided_by is None
    assert "No response by" in item.decision.justification
    human = item_of(campaign, estate.ci).decision
    assert human.source == DecisionSource.HUMAN
    auto_events = AuditEvent.objects.filter(verb="review.decided", details__source="auto")
    assert auto_events.count() == 6


def test_policy_deprovision_requests_remediation_for_every_undecided_item(
    estate, security_user
) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user, no_response_policy="deprovision")
    campaign_start_closing(campaign=campaign, actor=security_user)
    assert (
        RemediationRequest.objects.filter(item__campaign=campaign, requested_by=None).count() == 7
    )
    assert item_of(campaign, estate.ci).status == ItemStatus.REVOKE_REQUESTED
    assert (
        Identity.objects.get(pk=estate.ci.pk).lifecycle_state == LifecycleState.PENDING_DEPROVISION
    )


def test_policy_recommendation_follows_each_items_recommendation(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user, no_response_policy="recommendation")
    campaign_start_closing(campaign=campaign, actor=security_user)
    assert item_of(campaign, estate.old).status == ItemStatus.REVOKE_REQUESTED  # unused 200 days
    assert item_of(campaign, estate.ci).status == ItemStatus.EXPIRED  # used yesterday: keep
    assert item_of(campaign, estate.orphan).status == ItemStatus.EXPIRED  # hand over: kept as is


def test_deprovision_by_default_warns_about_recently_used_identities(  # type: ignore[no-untyped-def]
    estate, security_user, django_capture_on_commit_callbacks
) -> None:
    campaign = launch(security_user, no_response_policy="deprovision")
    at_risk = {i.name for i in cutoff_risk(campaign)}
    assert "olivia-ci" in at_risk and "olivia-old" not in at_risk
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        summary = campaign_start_closing(campaign=campaign, actor=security_user)
    assert summary["cutoff_warning"] == len(at_risk) == 6
    warning = [m for m in mail.outbox if "recently used" in m.subject]
    assert warning and warning[0].to == ["sec@example.com"]


def test_recommendation_policy_warns_only_where_it_would_deprovision(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user, no_response_policy="recommendation")
    assert cutoff_risk(campaign) == []
    assert cutoff_risk(launch(security_user, no_response_policy="keep")) == []


def test_an_unanswered_handover_gets_the_policy_too(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user, no_response_policy="keep")
    item_decide(
        item=item_of(campaign, estate.ci),
        actor=estate.olivia,
        outcome="handover",
        handover_to=estate.bob,
    )
    summary = campaign_start_closing(campaign=campaign, actor=security_user)
    assert summary["handovers_unanswered"] == 1
    handover = ReviewDecision.objects.get(item__identity=estate.ci, outcome="handover")
    assert handover.handover_response == HandoverResponse.EXPIRED
    assert item_of(campaign, estate.ci).status == ItemStatus.EXPIRED


def test_only_a_security_admin_or_the_schedule_closes_early(
    estate, security_user, analyst_user
) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user)
    with pytest.raises(NotAllowed):
        campaign_start_closing(campaign=campaign, actor=analyst_user)
    campaign_start_closing(campaign=campaign, actor=None)
    campaign.refresh_from_db()
    assert campaign.status == "closing" and campaign.closing_by is None


def test_the_page_asks_to_confirm_before_cutting_off_recent_use(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    from tests.reviews.factories import client_for

    campaign = launch(security_user, no_response_policy="deprovision")
    c = client_for(security_user)
    url = f"/reviews/campaigns/{campaign.pk}/closing/"
    c.post(url)
    campaign.refresh_from_db()
    assert campaign.status == "active"
    c.post(url, {"confirm_cutoff": "on"})
    campaign.refresh_from_db()
    assert campaign.status == "closing"
