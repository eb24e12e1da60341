"""Event-triggered one-item reviews: owner deactivated or moved team, identity became stale,
an administrator policy attached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import Identity
from inventory.services.people import person_deactivate
from inventory.services.risk import risk_evaluate
from inventory.services.teams import team_member_remove
from reviews.choices import CampaignKind, TriggerReason
from reviews.models import Campaign, ReviewItem
from reviews.services.triggers import review_trigger, review_trigger_owner_moved
from tests.reviews.factories import launch, make_identity

pytestmark = pytest.mark.django_db

ADMIN_POLICY = {
    "name": "AdministratorAccess",
    "source": "managed",
    "document": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
}


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """``with on_commit(): ...`` runs what the block queued after commit (tasks), at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def event_campaigns(reason: str) -> list[Campaign]:
    return list(Campaign.objects.filter(kind=CampaignKind.EVENT, trigger_reason=reason))


def test_deactivating_an_owner_opens_a_review_of_each_identity_for_the_manager(  # type: ignore[no-untyped-def]
    estate, security_user, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        person_deactivate(person=estate.olivia, actor=security_user)
    campaigns = event_campaigns(TriggerReason.OWNER_DEACTIVATED)
    assert len(campaigns) == 4
    assert all(c.status == "active" and c.population_count == 1 for c in campaigns)
    items = ReviewItem.objects.filter(campaign__in=campaigns)
    assert {i.reviewer for i in items} == {estate.raj}
    assert {c.trigger_identity for c in campaigns} == {
        estate.ci,
        estate.old,
        estate.admin,
        estate.console,
    }
    assert campaigns[0].name.startswith("Owner deactivated: ")


def test_an_identity_already_under_review_gets_no_second_review(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    launch(security_user)
    assert review_trigger(identity_ids=[estate.ci.pk], reason=TriggerReason.BECAME_STALE) == []


def test_an_identity_that_became_stale_is_reviewed(estate, on_commit) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    idle = make_identity("idle-role", owner=estate.bob, used_days=120, created_days=500, now=now)
    with on_commit():
        risk_evaluate(identity_ids=[idle.pk], now=now - timedelta(days=100))  # baseline: in use
        risk_evaluate(identity_ids=[idle.pk], now=now)
    campaigns = event_campaigns(TriggerReason.BECAME_STALE)
    assert [c.trigger_identity for c in campaigns] == [idle]
    item = ReviewItem.objects.get(campaign=campaigns[0])
    assert item.reviewer == estate.bob and item.recommendation == "deprovision"
    with on_commit():
        risk_evaluate(identity_ids=[idle.pk], now=now + timedelta(hours=1))  # still stale
    assert len(event_campaigns(TriggerReason.BECAME_STALE)) == 1


def test_an_administrator_policy_attached_is_reviewed(estate, on_commit) -> None:  # type: ignore[no-untyped-def]
    role = make_identity("deploy-role", owner=estate.bob, used_days=1)
    with on_commit():
        risk_evaluate(identity_ids=[role.pk])  # the baseline: no admin policy
    Identity.objects.filter(pk=role.pk).update(  # as discovery writes it
        policies=[ADMIN_POLICY], content_hash="changed by discovery"
    )
    with on_commit():
        risk_evaluate(identity_ids=[role.pk])
    campaigns = event_campaigns(TriggerReason.ADMIN_POLICY)
    assert [c.trigger_identity for c in campaigns] == [role]
    assert (
        ReviewItem.objects.get(campaign=campaigns[0]).snapshot["findings"][0]["rule_id"]
        == "PRIV-001"
    )


def test_a_first_discovery_is_not_an_event(estate, on_commit) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    fresh = make_identity("new-admin", owner=estate.bob, created_days=0, used_days=None, now=now)
    fresh.policies = [ADMIN_POLICY]
    fresh.save()
    with on_commit():
        risk_evaluate(identity_ids=[fresh.pk], now=now)
    assert not Campaign.objects.exists()


def test_the_first_analysis_of_an_existing_estate_is_a_baseline(estate, on_commit) -> None:  # type: ignore[no-untyped-def]
    """Turning nhigov on over an old estate reviews its admins and stale identities in the
    scheduled campaigns, not in one event campaign each."""
    admin = make_identity("old-admin", owner=estate.bob, used_days=1, created_days=400)
    admin.policies = [ADMIN_POLICY]
    admin.save()
    idle = make_identity("old-idle", owner=estate.bob, used_days=200, created_days=500)
    with on_commit():
        risk_evaluate(identity_ids=[admin.pk, idle.pk])
    assert not Campaign.objects.exists()
    assert Identity.objects.get(pk=idle.pk).is_stale


def test_triggers_can_be_switched_off(estate, on_commit, settings) -> None:  # type: ignore[no-untyped-def]
    settings.NHIGOV_REVIEW_EVENT_TRIGGERS = False
    idle = make_identity("idle-role", owner=estate.bob, used_days=120, created_days=500)
    with on_commit():
        risk_evaluate(identity_ids=[idle.pk])
    assert not Campaign.objects.exists()


def test_an_owner_moving_team_reviews_what_they_owned_for_the_old_team(estate, on_commit) -> None:  # type: ignore[no-untyped-def]
    estate.platform.members.remove(estate.olivia)
    with on_commit():
        campaigns = review_trigger_owner_moved(person=estate.olivia, left_team=estate.platform)
    assert len(campaigns) == 4
    assert {c.trigger_reason for c in campaigns} == {TriggerReason.OWNER_MOVED_TEAM}


def test_removing_an_owner_from_a_team_opens_the_reviews(  # type: ignore[no-untyped-def]
    estate, security_user, on_commit
) -> None:
    """The team-membership workflow (Teams page: remove member) is what fires the trigger."""
    personal = make_identity("olivia-personal", owner=estate.olivia, team=None)
    with on_commit():
        assert team_member_remove(team=estate.platform, person=estate.olivia, actor=security_user)
    campaigns = event_campaigns(TriggerReason.OWNER_MOVED_TEAM)
    assert {c.trigger_identity for c in campaigns} == {
        estate.ci,
        estate.old,
        estate.admin,
        estate.console,
    }
    assert personal not in {c.trigger_identity for c in campaigns}  # not owned for the team
    # Nothing is queued when the person was not a member (no change, no event).
    with on_commit():
        assert not team_member_remove(
            team=estate.platform, person=estate.olivia, actor=security_user
        )
    assert len(event_campaigns(TriggerReason.OWNER_MOVED_TEAM)) == 4


def test_the_teams_page_remove_button_fires_the_trigger(  # type: ignore[no-untyped-def]
    estate, security_user, client, on_commit
) -> None:
    client.force_login(security_user)
    with on_commit():
        response = client.post(
            reverse("inventory:team-member-remove", args=[estate.platform.pk, estate.olivia.pk])
        )
    assert response.status_code in (200, 302)
    assert len(event_campaigns(TriggerReason.OWNER_MOVED_TEAM)) == 4


def test_gone_identities_are_not_reviewed(estate) -> None:  # type: ignore[no-untyped-def]
    gone = make_identity("gone", owner=estate.bob, lifecycle="vanished")
    assert review_trigger(identity_ids=[gone.pk], reason=TriggerReason.BECAME_STALE) == []
