"""Sign-off: a named security admin closes a campaign; after that nothing in it changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from nhigov.audit import chain_head
from nhigov.models import AuditEvent
from reviews.choices import CampaignStatus
from reviews.models import Campaign
from reviews.services.campaigns import (
    campaign_cancel,
    campaign_extend,
    campaign_sign_off,
    campaign_start_closing,
)
from reviews.services.decisions import item_decide
from reviews.services.handovers import handover_respond
from reviews.services.reminders import reminders_send_now
from reviews.states import InvalidTransition, NotAllowed, ReviewError
from tests.reviews.factories import client_for, item_of

pytestmark = pytest.mark.django_db


def test_sign_off_records_name_role_time_and_seals_a_summary(campaign, security_user) -> None:  # type: ignore[no-untyped-def]
    security_user.first_name, security_user.last_name = "Sam", "Rivera"
    security_user.save()
    campaign_start_closing(campaign=campaign, actor=security_user)
    campaign_sign_off(campaign=campaign, actor=security_user, confirm=True, comment="Q4 done.")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert (campaign.signed_off_name, campaign.signed_off_role) == ("Sam Rivera", "Security admin")
    assert campaign.closed_at is not None and campaign.sign_off_comment == "Q4 done."
    assert (
        campaign.close_summary["items"] == 7 and campaign.close_summary["percent_complete"] == 100
    )
    assert len(campaign.close_summary_hash) == 64
    event = AuditEvent.objects.get(verb="campaign.closed")
    assert event.details["summary_sha256"] == campaign.close_summary_hash
    assert campaign.audit_head_seq is not None and campaign.audit_head_seq < chain_head()[0]


def test_only_a_security_admin_signs_off(
    campaign, security_user, analyst_user, auditor_user, estate
) -> None:  # type: ignore[no-untyped-def]
    campaign_start_closing(campaign=campaign, actor=security_user)
    for user in (analyst_user, auditor_user, estate.olivia):
        with pytest.raises(NotAllowed):
            campaign_sign_off(campaign=campaign, actor=user, confirm=True)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CLOSING


def test_sign_off_needs_the_statement_ticked_and_a_closing_campaign(
    campaign, security_user
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition, match="closing first"):
        campaign_sign_off(campaign=campaign, actor=security_user, confirm=True)
    campaign_start_closing(campaign=campaign, actor=security_user)
    with pytest.raises(ReviewError, match="Tick"):
        campaign_sign_off(campaign=campaign, actor=security_user, confirm=False)


def test_after_close_nothing_in_the_campaign_changes(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign_start_closing(campaign=campaign, actor=security_user)
    campaign_sign_off(campaign=campaign, actor=security_user, confirm=True)
    item = item_of(campaign, estate.ci)
    with pytest.raises(InvalidTransition):
        item_decide(item=item, actor=estate.olivia, outcome="deprovision")
    with pytest.raises(InvalidTransition):
        campaign_extend(
            campaign=campaign,
            actor=security_user,
            due_at=timezone.now() + timedelta(days=30),
            reason="x",
        )
    with pytest.raises(InvalidTransition):
        campaign_cancel(campaign=campaign, actor=security_user, reason="x")
    with pytest.raises(InvalidTransition):
        reminders_send_now(campaign=campaign, actor=security_user)
    with pytest.raises(InvalidTransition):
        handover_respond(item=item, actor=estate.bob, accept=True)
    response = client_for(security_user).post(
        f"/reviews/items/{item.pk}/decide/", {"outcome": "keep", "on_behalf_of": estate.olivia.pk}
    )
    assert response.status_code == 302
    assert item_of(campaign, estate.ci).decision.source == "auto"


def test_extending_needs_a_reason_and_a_later_date(campaign, security_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReviewError, match="why"):
        campaign_extend(
            campaign=campaign,
            actor=security_user,
            due_at=campaign.due_at + timedelta(days=1),
            reason="",
        )
    with pytest.raises(ReviewError, match="after the current one"):
        campaign_extend(
            campaign=campaign,
            actor=security_user,
            due_at=campaign.due_at - timedelta(days=1),
            reason="x",
        )
    old = campaign.due_at
    campaign_extend(
        campaign=campaign, actor=security_user, due_at=old + timedelta(days=7), reason="Holidays."
    )
    event = AuditEvent.objects.get(verb="campaign.deadline_extended")
    assert event.details["reason"] == "Holidays." and event.before["due_at"] == old.isoformat()


def test_cancel_needs_an_admin_and_a_reason(campaign, security_user, analyst_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        campaign_cancel(campaign=campaign, actor=analyst_user, reason="x")
    with pytest.raises(ReviewError):
        campaign_cancel(campaign=campaign, actor=security_user, reason=" ")
    campaign_cancel(campaign=campaign, actor=security_user, reason="Wrong scope.")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELED and campaign.cancel_reason == "Wrong scope."


def test_the_security_persona_closes_and_signs_off_from_the_page(campaign, security_user) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    c.post(f"/reviews/campaigns/{campaign.pk}/closing/")
    page = c.get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
    assert "Sign off and close" in page
    c.post(f"/reviews/campaigns/{campaign.pk}/sign-off/", {"confirm": "on", "comment": "ok"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert "Signed off" in c.get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
