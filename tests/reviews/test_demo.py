"""The demo's campaign: launched once, half-reviewed by the other personas, the owner's untouched."""

from __future__ import annotations

import pytest

from reviews.choices import ItemStatus
from reviews.demo import ensure_demo_campaign
from reviews.models import Campaign, ReviewerSignOff, ReviewItem
from reviews.selectors import campaign_reviewers, handovers_for
from tests.factories import TeamFactory, UserFactory
from tests.reviews.factories import make_identity

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(owner_user):  # type: ignore[no-untyped-def]
    raj = UserFactory(username="raj.patel", email="raj.patel@example.com")
    diego = UserFactory(username="diego.santos", email="diego.santos@example.com")
    mei = UserFactory(username="mei.chen", email="mei.chen@example.com")
    owner = UserFactory(username="owner", email="olivia.park@example.com")
    platform = TeamFactory(name="platform", manager=raj)
    platform.members.add(owner, raj)
    for n in range(6):
        make_identity(f"raj-{n}", owner=raj, team=platform, used_days=1 + 60 * (n % 3))
        make_identity(f"olivia-{n}", owner=owner, team=platform, used_days=2 + n)
        make_identity(f"mei-{n}", owner=mei, used_days=150 if n % 2 else 3)
    for n in range(14):
        make_identity(f"diego-{n}", owner=diego, used_days=5)
    return {"raj": raj, "owner": owner, "diego": diego}


def test_the_demo_campaign_is_launched_once_and_half_reviewed(demo_people) -> None:  # type: ignore[no-untyped-def]
    campaign = ensure_demo_campaign()
    assert campaign is not None and campaign.status == "active" and campaign.kind == "scheduled"
    assert ensure_demo_campaign() == campaign and Campaign.objects.count() == 1
    owners = ReviewItem.objects.filter(campaign=campaign, reviewer=demo_people["owner"])
    assert owners.count() == 6 and all(i.status == ItemStatus.PENDING for i in owners)
    assert ReviewerSignOff.objects.filter(reviewer=demo_people["raj"]).exists()
    assert [i.name for i in handovers_for(demo_people["owner"])]
    stamps = {
        r.reviewer.username: r.rubber_stamping for r in campaign_reviewers(campaign) if r.reviewer
    }
    assert stamps["diego.santos"] is True and stamps["raj.patel"] is False
    assert campaign.due_at > campaign.activated_at
