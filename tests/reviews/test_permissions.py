"""Only the assigned reviewer (or a security admin on their behalf, recorded) decides an item;
auditors and other owners cannot, from the pages, the API or by crafting requests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reviews.choices import ItemStatus
from reviews.models import ReviewDecision
from reviews.services.decisions import item_decide
from reviews.states import NotAllowed
from tests.reviews.factories import client_for, item_of

pytestmark = pytest.mark.django_db


def decide_url(item) -> str:  # type: ignore[no-untyped-def]
    return reverse("reviews:item-decide", args=[item.pk])


def test_the_reviewer_decides_through_the_page(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    response = client_for(estate.olivia).post(decide_url(item), {"outcome": "keep", "version": 0})
    assert response.status_code == 302
    assert item_of(campaign, estate.ci).status == ItemStatus.KEPT


def test_another_owner_cannot_see_or_decide_an_item(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    c = client_for(estate.bob)
    assert c.post(decide_url(item), {"outcome": "deprovision"}).status_code == 404
    assert c.get(reverse("reviews:item-detail", args=[item.pk])).status_code == 404
    assert c.post(f"/api/reviews/items/{item.pk}/decide/", {"outcome": "keep"}).status_code == 404
    assert item_of(campaign, estate.ci).status == ItemStatus.PENDING


def test_a_team_mate_sees_the_item_but_cannot_decide_it(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)  # team platform: Raj sees it through the inventory gate
    c = client_for(estate.raj)
    assert c.get(reverse("reviews:item-detail", args=[item.pk])).status_code == 200
    assert c.post(decide_url(item), {"outcome": "deprovision"}).status_code == 403
    assert c.post(decide_url(item), {"outcome": "keep"}, HTTP_HX_REQUEST="true").status_code == 403
    assert item_of(campaign, estate.ci).status == ItemStatus.PENDING
    assert not ReviewDecision.objects.exists()


def test_an_auditor_reads_everything_and_decides_nothing(campaign, estate, auditor_user) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    c = client_for(auditor_user)
    assert c.get(reverse("reviews:campaign-detail", args=[campaign.pk])).status_code == 200
    assert c.get(reverse("reviews:item-detail", args=[item.pk])).status_code == 200
    assert c.post(decide_url(item), {"outcome": "keep"}).status_code == 403
    api = c.post(f"/api/reviews/items/{item.pk}/decide/", {"outcome": "keep"})
    assert api.status_code == 403
    for name in ("campaign-remind", "campaign-escalate", "campaign-closing", "campaign-cancel"):
        assert (
            c.post(reverse(f"reviews:{name}", args=[campaign.pk]), {"reason": "x"}).status_code
            == 403
        )
    assert c.post(reverse("reviews:bulk-keep"), {"all_eligible": "1"}).status_code == 403
    assert item_of(campaign, estate.ci).status == ItemStatus.PENDING
    body = c.get(reverse("reviews:campaign-detail", args=[campaign.pk])).content.decode()
    assert 'method="post"' not in body.split("<main", 1)[1]


def test_a_security_admin_acts_on_behalf_only_when_saying_so(
    campaign, estate, security_user
) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    c = client_for(security_user)
    assert c.post(decide_url(item), {"outcome": "keep"}).status_code == 403
    response = c.post(decide_url(item), {"outcome": "keep", "on_behalf_of": estate.olivia.pk})
    assert response.status_code == 302
    decision = item_of(campaign, estate.ci).decision
    assert decision.decided_by == security_user and decision.on_behalf_of == estate.olivia


def test_an_analyst_decides_the_security_queue_but_not_for_owners(
    campaign, estate, analyst_user
) -> None:  # type: ignore[no-untyped-def]
    orphan = item_of(campaign, estate.orphan)
    item_decide(item=orphan, actor=analyst_user, outcome="deprovision")
    assert item_of(campaign, estate.orphan).status == ItemStatus.REVOKE_REQUESTED
    with pytest.raises(NotAllowed):
        item_decide(
            item=item_of(campaign, estate.ci),
            actor=analyst_user,
            outcome="keep",
            on_behalf_of_id=estate.olivia.pk,
        )


def test_an_owner_cannot_decide_the_security_queue(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        item_decide(item=item_of(campaign, estate.orphan), actor=estate.olivia, outcome="keep")


def test_a_crafted_bulk_keep_of_other_peoples_items_is_refused(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    response = client_for(estate.raj).post(reverse("reviews:bulk-keep"), {"item": [item.pk]})
    assert response.status_code == 403
    assert item_of(campaign, estate.ci).status == ItemStatus.PENDING


def test_owners_cannot_open_the_security_pages(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(estate.olivia)
    assert c.get(reverse("reviews:queue") + "?queue=security").status_code == 403
    assert c.get(reverse("reviews:queue") + f"?reviewer={estate.bob.pk}").status_code == 403
    assert c.get(reverse("reviews:campaign-new")).status_code == 403
    detail = c.get(reverse("reviews:campaign-detail", args=[campaign.pk]))
    assert detail.status_code == 302 and detail["Location"].endswith(f"?campaign={campaign.pk}")
    assert c.post(reverse("reviews:campaign-remind", args=[campaign.pk])).status_code == 403


def test_the_api_lists_only_what_the_gate_shows(campaign, estate, auditor_user) -> None:  # type: ignore[no-untyped-def]
    mine = client_for(estate.olivia).get("/api/reviews/items/?mine=true").json()["results"]
    assert {r["name"] for r in mine} == {"olivia-ci", "olivia-old", "olivia-admin", "olivia.park"}
    bobs = client_for(estate.bob).get("/api/reviews/items/").json()["results"]
    assert {r["name"] for r in bobs} == {"bobs-role"}
    everything = client_for(auditor_user).get("/api/reviews/items/?page_size=100").json()["results"]
    assert len(everything) == 7
    assert (
        client_for(estate.bob).get("/api/reviews/campaigns/").json()["results"][0]["id"]
        == campaign.pk
    )
