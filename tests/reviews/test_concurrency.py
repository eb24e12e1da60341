"""Two people deciding one item at once: one wins, the other is told, nothing is overwritten."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from nhigov.models import AuditEvent
from reviews.choices import ItemStatus
from reviews.models import ReviewDecision
from reviews.services.decisions import item_decide
from reviews.states import ConcurrentChange
from tests.reviews.factories import client_for, item_of, launch, make_estate


@pytest.mark.django_db
def test_the_second_decider_is_told_who_decided_first(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    seen_by_olivia = item_of(campaign, estate.ci)
    seen_by_admin = item_of(campaign, estate.ci)
    item_decide(item=seen_by_olivia, actor=estate.olivia, outcome="keep")
    events = AuditEvent.objects.count()
    with pytest.raises(ConcurrentChange, match="Someone else decided this item first"):
        item_decide(
            item=seen_by_admin,
            actor=security_user,
            outcome="deprovision",
            on_behalf_of_id=estate.olivia.pk,
        )
    item = item_of(campaign, estate.ci)
    assert item.status == ItemStatus.KEPT and item.decision.decided_by == estate.olivia
    assert ReviewDecision.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_form_showing_an_older_version_is_refused(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(estate.olivia)
    url = f"/reviews/items/{item_of(campaign, estate.ci).pk}/decide/"
    c.post(url, {"outcome": "keep", "version": 0}, HTTP_HX_REQUEST="true")
    response = c.post(url, {"outcome": "deprovision", "version": 0}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Someone else decided this item first" in response.content.decode()
    assert item_of(campaign, estate.ci).status == ItemStatus.KEPT


@pytest.mark.django_db
def test_the_api_answers_409_to_the_loser(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(estate.olivia)
    url = f"/api/reviews/items/{item_of(campaign, estate.ci).pk}/decide/"
    assert c.post(url, {"outcome": "keep", "version": 0}).status_code == 200
    assert c.post(url, {"outcome": "deprovision", "version": 0}).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_two_threads_deciding_at_once_one_wins(owner_user, security_user) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database (CI runs this on PostgreSQL)")
    estate = make_estate(owner_user)
    campaign = launch(security_user)
    copies = [item_of(campaign, estate.ci), item_of(campaign, estate.ci)]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def decide(index: int, actor: Any, outcome: str, behalf: int | None) -> None:
        try:
            barrier.wait(timeout=10)
            item_decide(item=copies[index], actor=actor, outcome=outcome, on_behalf_of_id=behalf)
            outcomes[index] = "won"
        except ConcurrentChange as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(0, estate.olivia, "keep", None)),
        threading.Thread(target=decide, args=(1, security_user, "deprovision", estate.olivia.pk)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(str(type(o).__name__) for o in outcomes) == ["ConcurrentChange", "str"]
    assert ReviewDecision.objects.filter(item=copies[0]).count() == 1
    item = item_of(campaign, estate.ci)
    winner = 0 if outcomes[0] == "won" else 1
    assert item.status == (ItemStatus.KEPT if winner == 0 else ItemStatus.REVOKE_REQUESTED)
    assert item.version == 1
