"""The reviews API: campaigns, items, and the decide endpoint with the pages' rules."""

from __future__ import annotations

import pytest

from reviews.choices import ItemStatus
from tests.reviews.factories import client_for, item_of

pytestmark = pytest.mark.django_db


def test_campaign_detail_carries_the_reconciliation(campaign, auditor_user) -> None:  # type: ignore[no-untyped-def]
    data = client_for(auditor_user).get(f"/api/reviews/campaigns/{campaign.pk}/").json()
    assert data["population_count"] == 7 and data["inventory_count"] == 7
    assert data["snapshot_hash"] == campaign.snapshot_hash
    assert data["scope_label"] == "every identity in the inventory"


def test_decide_through_the_api(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.admin)
    url = f"/api/reviews/items/{item.pk}/decide/"
    c = client_for(estate.olivia)
    bad = c.post(url, {"outcome": "keep"}, content_type="application/json")
    assert bad.status_code == 400 and "justification" in bad.json()["detail"]
    ok = c.post(
        url,
        {"outcome": "keep", "justification": "Runs terraform for prod.", "version": 0},
        content_type="application/json",
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (
        body["status"] == ItemStatus.KEPT
        and body["decision"]["decided_by"] == "olivia.park@example.com"
    )
    assert body["decision"]["source"] == "human"


def test_handover_through_the_api_names_a_team(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.bobs)
    response = client_for(estate.bob).post(
        f"/api/reviews/items/{item.pk}/decide/",
        {"outcome": "handover", "handover_to": "team:platform"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["decision"]["handover_to"] == "team platform"


def test_the_schema_documents_the_reviews_endpoints(auditor_user) -> None:  # type: ignore[no-untyped-def]
    schema = client_for(auditor_user).get("/api/schema/").content.decode()
    assert "/api/reviews/items/{id}/decide/" in schema and "/api/reviews/campaigns/" in schema
