"""Launching a campaign: scope through the inventory filter, snapshot and hash, reconciliation,
routing to reviewers, notifications."""

from __future__ import annotations

import hashlib

import pytest
from django.core import mail

from inventory.services.bulk import dumps
from nhigov.models import AuditEvent
from reviews.choices import AssignmentReason, CampaignStatus
from reviews.models import ReviewItem
from reviews.services.campaigns import campaign_create, campaign_preview
from reviews.services.population import campaign_hash, snapshot_verify
from reviews.states import NotAllowed, ReviewError
from tests.factories import UserFactory
from tests.reviews.factories import item_of, launch, make_identity

pytestmark = pytest.mark.django_db


def test_activation_snapshots_what_the_identity_could_do(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    snap = item_of(campaign, estate.admin).snapshot
    assert snap["name"] == "olivia-admin" and snap["kind"] == "iam_role"
    assert snap["owner"]["email"] == "olivia.park@example.com" and snap["owner_team"] == "platform"
    assert snap["findings"] == [{"rule_id": "PRIV-001", "severity": "critical"}]
    assert snap["policies"] == ["olivia-admin-policy"]
    assert snap["permissions_summary"]["admin"] is True
    assert snap["risk_tier"] == "critical" and snap["flags"]["privileged"] is True
    assert snap["recommendation"]["action"] == "keep"
    ci = item_of(campaign, estate.ci).snapshot
    assert ci["oldest_key_age_days"] == 30 and ci["access_keys"][0]["status"] == "active"


def test_each_snapshot_and_the_population_are_hashed(campaign) -> None:  # type: ignore[no-untyped-def]
    items = list(campaign.items.order_by("identity_id"))
    for item in items:
        assert item.snapshot_json == dumps(item.snapshot)  # canonical JSON, as stored
        assert item.snapshot_hash == hashlib.sha256(item.snapshot_json.encode()).hexdigest()
        assert snapshot_verify(item)
    assert campaign.snapshot_hash == campaign_hash((i.identity_id, i.snapshot_hash) for i in items)


def test_a_tampered_snapshot_no_longer_verifies(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    tampered = item.snapshot_json.replace('"policies":["olivia-ci-policy"]', '"policies":[]')
    assert tampered != item.snapshot_json
    ReviewItem.objects.filter(pk=item.pk).update(snapshot_json=tampered)
    item.refresh_from_db()
    assert not snapshot_verify(item)


def test_population_is_reconciled_against_the_inventory(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    make_identity("gone-role", lifecycle="vanished")
    campaign = launch(security_user)
    assert campaign.inventory_count == 8
    assert campaign.excluded_count == 1
    assert campaign.population_count == campaign.items.count() == 7
    assert campaign.reconciled


def test_scope_is_a_saved_inventory_filter(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign = launch(security_user, scope={"team": "platform", "risk_tier": ["critical"]})
    assert [i.name for i in campaign.items.all()] == ["olivia-admin"]
    assert campaign.scope == {"team": "platform", "risk_tier": ["critical"]}


def test_an_unknown_filter_or_a_bad_value_is_refused(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReviewError, match="Unknown filter 'colour'"):
        launch(security_user, scope={"colour": "blue"})
    with pytest.raises(ReviewError, match="not a valid inventory filter"):
        launch(security_user, scope={"risk_tier": ["extreme"]})


def test_an_empty_population_launches_nothing(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReviewError, match="no identity"):
        launch(security_user, scope={"team": "nobody"})
    from reviews.models import Campaign

    assert not Campaign.objects.exists()


def test_items_go_to_the_owner_else_the_team_manager_else_security(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    mine = item_of(campaign, estate.ci)
    assert (mine.reviewer, mine.assigned_reason) == (estate.olivia, AssignmentReason.OWNER)
    left = item_of(campaign, estate.orphan_team)
    assert (left.reviewer, left.assigned_reason) == (estate.raj, AssignmentReason.TEAM_MANAGER)
    nobody = item_of(campaign, estate.orphan)
    assert (nobody.reviewer, nobody.assigned_reason) == (None, AssignmentReason.SECURITY_QUEUE)
    assert nobody.first_reviewer is None


def test_an_auditor_who_owns_an_identity_does_not_review_it(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    auditor = UserFactory(username="audrey", role="auditor")
    identity = make_identity("audrey-role", owner=auditor, team=estate.platform)
    campaign = launch(security_user)
    assert item_of(campaign, identity).reviewer == estate.raj


def test_justification_self_review_and_bulk_flags_come_from_the_snapshot(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    assert item_of(campaign, estate.ci).bulk_keep_eligible
    admin = item_of(campaign, estate.admin)
    assert admin.justification_required and not admin.bulk_keep_eligible
    assert item_of(campaign, estate.old).flagged
    console = item_of(campaign, estate.console)
    assert console.self_review and not console.bulk_keep_eligible


def test_activation_is_recorded_and_notifies_each_reviewer_once(  # type: ignore[no-untyped-def]
    estate, security_user, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        campaign = launch(security_user)
    event = AuditEvent.objects.get(verb="campaign.activated", object_id=str(campaign.pk))
    assert event.details["population_count"] == 7
    assert event.details["snapshot_hash"] == campaign.snapshot_hash
    recipients = sorted(tuple(m.to) for m in mail.outbox)
    assert ("olivia.park@example.com",) in recipients and ("raj.patel@example.com",) in recipients
    olivias = [m for m in mail.outbox if m.to == ["olivia.park@example.com"]]
    assert len(olivias) == 1 and "4 identities to review" in olivias[0].subject
    assert "https://nhigov.example.com/reviews/?campaign=" in olivias[0].body


def test_the_deadline_and_the_no_response_date_are_set_at_activation(campaign) -> None:  # type: ignore[no-untyped-def]
    assert campaign.status == CampaignStatus.ACTIVE
    assert (campaign.due_at - campaign.activated_at).days == 14
    assert (campaign.closes_at - campaign.due_at).days == 7


def test_preview_counts_before_anything_is_created(estate) -> None:  # type: ignore[no-untyped-def]
    preview = campaign_preview({"team": "platform"})
    assert preview["population"] == 5 and preview["inventory"] == 5
    from reviews.models import Campaign

    assert not Campaign.objects.exists()


def test_only_the_security_team_creates_campaigns(estate, owner_user, auditor_user) -> None:  # type: ignore[no-untyped-def]
    for user in (owner_user, auditor_user):
        with pytest.raises(NotAllowed):
            campaign_create(name="x", scope={}, actor=user)
