"""The review pages: the queue with its context, deciding in place, the campaign page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviews.choices import ItemStatus
from reviews.models import Campaign, ReviewItem
from reviews.services.decisions import item_decide
from tests.reviews.factories import client_for, item_of, launch, make_identity

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reviews"


def test_the_queue_shows_what_is_needed_to_decide(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    response = client_for(estate.olivia).get(reverse("reviews:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["items"][0].name == "olivia-old"  # deprovision first
    assert "olivia-admin" in body and "IAM role" in body
    assert item_of(campaign, estate.ci).snapshot["account_id"] in body
    assert "not used for 200 days: deprovision" in body
    assert "used yesterday, key 30 days old: keep" in body
    assert "PRIV-001" in body and "full admin" in body
    assert "30 days" in body  # oldest key age
    assert 'name="justification"' in body and 'value="keep"' in body
    assert "0 of 4 decided" in body


def test_the_queue_marks_when_items_were_shown(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    client_for(estate.olivia).get(reverse("reviews:queue"))
    assert not ReviewItem.objects.filter(reviewer=estate.olivia, shown_at=None).exists()
    assert ReviewItem.objects.filter(reviewer=estate.raj, shown_at=None).exists()


def test_deciding_in_place_returns_the_row_and_the_progress(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    response = client_for(estate.olivia).post(
        reverse("reviews:item-decide", args=[item.pk]),
        {"outcome": "keep", "version": item.version},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith("<tr") and f'id="item-{item.pk}"' in body
    assert 'hx-swap-oob="true"' in body and "1 of 4 decided" in body
    assert "Kept" in body and "Change decision" in body


def test_an_invalid_decision_is_explained_in_the_row(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.admin)
    response = client_for(estate.olivia).post(
        reverse("reviews:item-decide", args=[item.pk]),
        {"outcome": "keep", "version": item.version},
        HTTP_HX_REQUEST="true",
    )
    assert "needs a justification" in response.content.decode()
    assert item_of(campaign, estate.admin).status == ItemStatus.PENDING


def test_a_refused_decision_keeps_what_the_reviewer_typed(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.admin)
    until = (timezone.now() + timedelta(days=30)).date().isoformat()
    response = client_for(estate.olivia).post(
        reverse("reviews:item-decide", args=[item.pk]),
        {
            "outcome": "keep",
            "version": item.version,
            "justification": "ok",
            "exception_until": until,
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "needs a justification" in body
    assert 'value="ok"' in body and f'value="{until}"' in body
    assert '<details class="more" open>' in body  # the exception field stays visible


def test_chasing_messages_name_the_reviewer(campaign, estate, security_user) -> None:  # type: ignore[no-untyped-def]
    client = client_for(security_user)
    url = reverse("reviews:campaign-remind", args=[campaign.pk])
    response = client.post(url, {"reviewer": estate.olivia.pk}, follow=True)
    assert "Reminder e-mailed to olivia.park@example.com" in response.content.decode()
    url = reverse("reviews:campaign-escalate", args=[campaign.pk])
    response = client.post(url, {"reviewer": estate.olivia.pk}, follow=True)
    assert "4 undecided items of olivia.park@example.com" in response.content.decode()
    assert "escalated one level" in response.content.decode()


def test_without_javascript_a_decision_redirects_back_with_a_message(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.old)
    c = client_for(estate.olivia)
    response = c.post(
        reverse("reviews:item-decide", args=[item.pk]),
        {"outcome": "deprovision", "next": "/reviews/?view=all"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/reviews/?view=all"
    assert "olivia-old: deprovision." in response.content.decode()


def test_the_queue_query_count_does_not_grow_with_the_queue(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    def queries() -> int:
        c = client_for(estate.olivia)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse("reviews:queue")).status_code == 200
        return len(ctx)

    launch(security_user)
    few = queries()
    for n in range(30):
        make_identity(f"more-{n}", owner=estate.olivia, team=estate.platform, used_days=n + 1)
    launch(security_user, scope={"owner": estate.olivia.email})
    many = queries()
    assert many <= few + 2  # one more campaign in the progress list, never per item


def test_bulk_keep_from_the_page(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(estate.olivia)
    body = c.get(reverse("reviews:queue")).content.decode()
    assert "Keep all 1" in body and 'form="bulk-form"' in body
    c.post(reverse("reviews:bulk-keep"), {"all_eligible": "1", "campaign": campaign.pk})
    assert item_of(campaign, estate.ci).status == ItemStatus.KEPT
    assert item_of(campaign, estate.old).status == ItemStatus.PENDING


def test_a_handover_waits_in_the_new_owners_queue(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item = item_of(campaign, estate.ci)
    client_for(estate.olivia).post(
        reverse("reviews:item-decide", args=[item.pk]),
        {"outcome": "handover", "handover_to": "bob@example.com"},
    )
    c = client_for(estate.bob)
    assert "Handovers waiting for your answer" in c.get(reverse("reviews:queue")).content.decode()
    c.post(reverse("reviews:item-handover", args=[item.pk]), {"answer": "accept"})
    assert item_of(campaign, estate.ci).status == ItemStatus.REASSIGNED


def test_the_campaign_page_shows_progress_reconciliation_and_rubber_stamping(
    estate, security_user
) -> None:  # type: ignore[no-untyped-def]
    for n in range(12):
        make_identity(f"stamp-{n}", owner=estate.bob, used_days=2)
    campaign = launch(security_user)
    now = timezone.now()
    for n, item in enumerate(ReviewItem.objects.filter(campaign=campaign, reviewer=estate.bob)):
        at = now + timedelta(seconds=2 * n)
        item_decide(item=item, actor=estate.bob, outcome="keep", justification="Needed.", now=at)
    body = (
        client_for(security_user)
        .get(reverse("reviews:campaign-detail", args=[campaign.pk]))
        .content.decode()
    )
    assert "reconciled" in body and campaign.snapshot_hash in body
    assert "rubber-stamping?" in body
    assert "13/13" in body  # Bob's progress


def test_new_campaign_counts_the_population_before_creating(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    page = c.get(reverse("reviews:campaign-new") + "?team=platform")
    assert page.context["preview"]["population"] == 5
    response = c.post(
        reverse("reviews:campaign-new"),
        {
            "team": "platform",
            "name": "Platform review",
            "due_days": 10,
            "grace_days": 3,
            "no_response_policy": "keep",
            "activate": "on",
        },
    )
    campaign = Campaign.objects.get(name="Platform review")
    assert response["Location"] == reverse("reviews:campaign-detail", args=[campaign.pk])
    assert campaign.status == "active" and campaign.population_count == 5
    assert campaign.scope == {"team": "platform"} and campaign.no_response_policy == "keep"


def test_hostile_identity_names_are_escaped(estate, security_user) -> None:  # type: ignore[no-untyped-def]
    make_identity('<img src=x onerror="alert(1)">', owner=estate.olivia)
    launch(security_user)
    body = client_for(estate.olivia).get(reverse("reviews:queue")).content.decode()
    assert "<img src=x" not in body and "&lt;img src=x" in body


def test_templates_have_no_inline_script_or_style() -> None:
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), path
        assert not re.search(r"\son[a-z]+=", text), path
        assert "|safe" not in text, path


def test_the_identity_history_partial_renders(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    from django.template.loader import render_to_string

    from reviews.selectors import identity_review_history

    item_decide(item=item_of(campaign, estate.ci), actor=estate.olivia, outcome="keep")
    html = render_to_string(
        "reviews/_identity_reviews.html", {"reviews": identity_review_history(estate.ci)}
    )
    assert "Q4 review" in html and "Keep" in html
