"""The campaign and item state machines: what may follow what, and invalid moves change nothing."""

from __future__ import annotations

import pytest

from nhigov.models import AuditEvent
from reviews.choices import CampaignStatus, ItemStatus
from reviews.models import Campaign, ReviewItem
from reviews.services.campaigns import (
    campaign_activate,
    campaign_cancel,
    campaign_create,
    campaign_sign_off,
    campaign_start_closing,
)
from reviews.services.decisions import item_decide
from reviews.states import (
    CAMPAIGN_TRANSITIONS,
    ITEM_TRANSITIONS,
    ConcurrentChange,
    InvalidTransition,
    campaign_transition,
    check_item_transition,
    item_transition,
)
from tests.reviews.factories import item_of

pytestmark = pytest.mark.django_db


def test_the_tables_cover_every_state() -> None:
    assert set(CAMPAIGN_TRANSITIONS) == set(CampaignStatus.values)
    assert set(ITEM_TRANSITIONS) == set(ItemStatus.values)
    for targets in (*CAMPAIGN_TRANSITIONS.values(), *ITEM_TRANSITIONS.values()):
        assert targets <= set(CampaignStatus.values) | set(ItemStatus.values)


def test_item_states_follow_the_review_model() -> None:
    assert ITEM_TRANSITIONS[ItemStatus.PENDING] == {
        ItemStatus.KEPT,
        ItemStatus.REVOKE_REQUESTED,
        ItemStatus.HANDOVER_REQUESTED,
        ItemStatus.EXPIRED,
    }
    assert {ItemStatus.REMEDIATED, ItemStatus.REMEDIATION_FAILED} <= ITEM_TRANSITIONS[
        ItemStatus.REVOKE_REQUESTED
    ]
    assert ItemStatus.REASSIGNED in ITEM_TRANSITIONS[ItemStatus.HANDOVER_REQUESTED]
    for terminal in (
        ItemStatus.EXPIRED,
        ItemStatus.REMEDIATED,
        ItemStatus.REMEDIATION_FAILED,
        ItemStatus.REASSIGNED,
    ):
        assert not ITEM_TRANSITIONS[terminal]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("pending", "remediated"),
        ("pending", "reassigned"),
        ("kept", "expired"),
        ("expired", "kept"),
        ("reassigned", "kept"),
    ],
)
def test_invalid_item_transitions_are_refused_with_a_clear_message(
    current: str, target: str
) -> None:
    with pytest.raises(InvalidTransition, match="cannot become"):
        check_item_transition(current, target)


def test_an_invalid_item_transition_changes_nothing(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidTransition):
        item_transition(item, ItemStatus.REMEDIATED)
    fresh = ReviewItem.objects.get(pk=item.pk)
    assert (fresh.status, fresh.version) == (ItemStatus.PENDING, 0)
    assert AuditEvent.objects.count() == events


def test_a_stale_copy_cannot_move_an_item(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    first = item_of(campaign, estate.ci)
    second = item_of(campaign, estate.ci)
    item_transition(first, ItemStatus.KEPT)
    with pytest.raises(ConcurrentChange):
        item_transition(second, ItemStatus.REVOKE_REQUESTED)
    assert ReviewItem.objects.get(pk=first.pk).status == ItemStatus.KEPT


def test_campaign_goes_draft_active_closing_closed(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign = campaign_create(name="c", scope={}, actor=security_user)
    assert campaign.status == CampaignStatus.DRAFT
    campaign_activate(campaign=campaign, actor=security_user)
    assert campaign.status == CampaignStatus.ACTIVE
    campaign_start_closing(campaign=campaign, actor=security_user)
    assert campaign.status == CampaignStatus.CLOSING
    campaign_sign_off(campaign=campaign, actor=security_user, confirm=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    verbs = list(
        AuditEvent.objects.filter(object_type="reviews.campaign", object_id=str(campaign.pk))
        .order_by("seq")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "campaign.created",
        "campaign.activated",
        "campaign.closing",
        "campaign.closed",
    ]


def test_a_draft_cannot_close_and_a_closed_campaign_cannot_reopen(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign = campaign_create(name="c", scope={}, actor=security_user)
    with pytest.raises(InvalidTransition):
        campaign_start_closing(campaign=campaign, actor=security_user)
    with pytest.raises(InvalidTransition):
        campaign_sign_off(campaign=campaign, actor=security_user, confirm=True)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    campaign_cancel(campaign=campaign, actor=security_user, reason="wrong scope")
    with pytest.raises(InvalidTransition):
        campaign_activate(campaign=campaign, actor=security_user)
    with pytest.raises(InvalidTransition):
        campaign_transition(campaign, CampaignStatus.ACTIVE)


def test_activating_twice_is_refused_and_creates_no_second_population(
    campaign, security_user
) -> None:  # type: ignore[no-untyped-def]
    count = campaign.items.count()
    stale = Campaign.objects.get(pk=campaign.pk)
    stale.status = CampaignStatus.DRAFT  # what a second browser tab still shows
    with pytest.raises(InvalidTransition):
        campaign_activate(campaign=stale, actor=security_user)
    assert campaign.items.count() == count


def test_decisions_only_while_active(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    campaign_start_closing(campaign=campaign, actor=security_user)
    item = item_of(campaign, estate.ci)
    with pytest.raises(InvalidTransition, match="closing"):
        item_decide(item=item, actor=estate.olivia, outcome="keep")
