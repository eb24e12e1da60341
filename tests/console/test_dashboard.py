"""The dashboard: every number links to the identities behind it; trends; discovery health."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.choices import RunStatus
from inventory.models import DiscoveryRun, InventorySnapshot
from inventory.services.snapshots import snapshot_take
from inventory.trends import week_start
from tests.console.conftest import HOSTILE_NAME
from tests.factories import IdentityFactory, SourceFactory

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("inventory:dashboard")


def count_behind(client: Any, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200
    count = response.context["count"]
    assert count.exact
    return int(count.value)


def all_numbers(context: Any) -> list[tuple[int, str]]:
    numbers = [(s["value"], s["url"]) for s in context["headline"]]
    numbers += [(r["value"], r["url"]) for g in context["breakdowns"] for r in g["rows"]]
    numbers += [(c["value"], c["url"]) for a in context["accounts"] for c in a["cells"]]
    return numbers


@pytest.mark.parametrize("persona", ["security_user", "owner_user"])
def test_every_number_links_to_a_list_of_exactly_that_many(
    request: Any, persona: str, estate: Any, client_for: Any
) -> None:
    c = client_for(request.getfixturevalue(persona))
    context = c.get(DASHBOARD).context
    numbers = all_numbers(context)
    assert len(numbers) > 15
    for value, url in numbers:
        assert count_behind(c, url) == value, url


def test_the_numbers_answer_the_questions_of_the_issue(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    context = client_for(security_user).get(DASHBOARD).context
    headline = {s["key"]: s["value"] for s in context["headline"]}
    assert headline["total"] == 6  # the vanished secret is not counted as "we have"
    assert headline["machine"] == 5
    assert headline["unowned"] == 2
    assert headline["stale"] == 1
    assert headline["privileged_unowned"] == 1
    per_account = {a["account"].account_id: a["total"] for a in context["accounts"]}
    assert per_account == {"111111111111": 3, "222222222222": 3}
    lifecycle = {r["key"]: r["value"] for g in context["breakdowns"] for r in g["rows"]}
    assert lifecycle["lifecycle_state:vanished"] == 1


def test_an_owner_dashboard_counts_only_their_identities_and_hides_estate_health(
    owner_user: Any, estate: Any, client_for: Any
) -> None:
    context = client_for(owner_user).get(DASHBOARD).context
    assert {s["key"]: s["value"] for s in context["headline"]}["total"] == 2
    assert "health" not in context and "trend" not in context


def test_riskiest_identities_and_discovery_health(
    auditor_user: Any, estate: Any, client_for: Any
) -> None:
    source = SourceFactory(name="org")
    now = timezone.now()
    DiscoveryRun.objects.create(
        source=source,
        status=RunStatus.SUCCEEDED,
        started_at=now,
        finished_at=now,
        identities_seen=7,
    )
    failed = DiscoveryRun.objects.create(
        source=source,
        status=RunStatus.FAILED,
        started_at=now,
        finished_at=now,
        errors=[{"code": "AccessDenied", "operation": "AssumeRole", "message": "<b>denied</b>"}],
    )
    response = client_for(auditor_user).get(DASHBOARD)
    context = response.context
    riskiest = [(i.risk_tier, i.name) for i in context["riskiest"]]
    assert riskiest == sorted(riskiest, key=lambda r: (r[0] != "critical", r[1]))
    assert {n for t, n in riskiest if t == "critical"} == {"orphan-admin", HOSTILE_NAME}
    health = context["health"]
    assert health["sources"][0].last_top_run == failed
    assert health["failures"] == [failed]
    body = response.content.decode()
    assert "&lt;b&gt;denied&lt;/b&gt;" in body and "<b>denied</b>" not in body


def test_trends_are_weekly_points_of_the_daily_snapshots(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    today = timezone.localdate()
    for weeks_ago, unowned in ((5, 10), (2, 7)):
        day = week_start(today) - timedelta(weeks=weeks_ago)
        InventorySnapshot.objects.create(date=day, taken_at=timezone.now(), counts={"unowned": 1})
        InventorySnapshot.objects.create(
            date=day + timedelta(days=2), taken_at=timezone.now(), counts={"unowned": unowned}
        )
    context = client_for(security_user).get(DASHBOARD).context
    unowned = next(s for s in context["trend"].series if s.key == "unowned")
    # The last snapshot of each week; no point for weeks without one; this week is live.
    assert unowned.values[-6:] == [10, None, None, 7, None, 2]
    assert unowned.points.count(",") == 3
    stat = next(s for s in context["headline"] if s["key"] == "unowned")
    assert stat["change"] == 2 - 10  # against the snapshot four weeks back or older


def test_snapshot_keeps_one_row_per_day(estate: Any) -> None:
    first = snapshot_take()
    IdentityFactory(name="new-one")
    second = snapshot_take()
    assert first.pk == second.pk and InventorySnapshot.objects.count() == 1
    assert second.counts["total"] == first.counts["total"] + 1
    assert second.date == timezone.localdate()


def test_beat_runs_the_snapshot_at_the_configured_interval() -> None:
    from nhigov.celery import beat_schedule

    schedule = beat_schedule(300, 3600, 86400, 7200)
    entry = schedule["inventory-snapshot"]
    assert entry["task"] == "inventory.tasks.inventory_snapshot"
    assert entry["schedule"] == 7200.0 and entry["options"] == {"expires": 7140}


def test_snapshot_task_runs(estate: Any) -> None:
    from inventory.tasks import inventory_snapshot

    pk = inventory_snapshot.delay().get()
    assert InventorySnapshot.objects.get(pk=pk).counts["total"] == 6


def test_dashboard_query_count_does_not_grow_with_the_inventory(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(security_user)
    with CaptureQueriesContext(connection) as before:
        c.get(DASHBOARD + "?fresh=1")
    IdentityFactory.create_batch(30, account=estate["dev"], is_stale=True)
    with CaptureQueriesContext(connection) as after:
        c.get(DASHBOARD + "?fresh=1")
    assert len(before) == len(after) < 20


def test_dashboard_keeps_its_counts_a_minute(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(security_user)
    first = c.get(DASHBOARD).context
    IdentityFactory(name="one-more", account=estate["dev"])
    kept = c.get(DASHBOARD).context
    assert kept["headline"][0]["value"] == first["headline"][0]["value"]
    assert kept["counted_at"] == first["counted_at"]
    recounted = c.get(DASHBOARD + "?fresh=1").context
    assert recounted["headline"][0]["value"] == first["headline"][0]["value"] + 1


def test_week_start_is_monday() -> None:
    assert week_start(date(2026, 12, 4)) == date(2026, 11, 30)


def test_campaign_progress_shows_the_whole_campaign_to_security_and_their_part_to_owners(
    security_user: Any, owner_user: Any, auditor_user: Any, estate: Any, client_for: Any
) -> None:
    from reviews.choices import ItemStatus
    from reviews.models import ReviewItem
    from reviews.services.campaigns import campaign_launch

    assert client_for(security_user).get(DASHBOARD).context["campaigns"] == []
    campaign = campaign_launch(name="Q4 <review>", scope={}, actor=security_user)
    items = ReviewItem.objects.filter(campaign=campaign)
    total = items.count()
    assert total == 6  # the present identities; the vanished secret is not reviewed
    ReviewItem.objects.filter(pk__in=items.filter(identity=estate["deployer"]).values("pk")).update(
        status=ItemStatus.KEPT
    )
    ReviewItem.objects.filter(
        pk__in=items.filter(identity=estate["stale_bot"]).values("pk")
    ).update(status=ItemStatus.REVOKE_REQUESTED)
    ReviewItem.objects.filter(
        pk__in=items.filter(identity=estate["orphan_admin"]).values("pk")
    ).update(status=ItemStatus.HANDOVER_REQUESTED)

    for user in (security_user, auditor_user):
        response = client_for(user).get(DASHBOARD)
        (shown,) = response.context["campaigns"]
        assert (shown.decided_items, shown.total_items, shown.percent) == (3, 6, 50)
        body = response.content.decode()
        url = reverse("reviews:campaign-detail", args=[campaign.pk])
        assert f'<a href="{url}" aria-label="3 of 6 decided">3/6</a>' in body
        assert "Q4 &lt;review&gt;" in body  # the name is escaped

    # The owner's part: the items of ci-deployer (kept) and platform-role (pending).
    response = client_for(owner_user).get(DASHBOARD)
    (shown,) = response.context["campaigns"]
    assert (shown.decided_items, shown.total_items, shown.percent) == (1, 2, 50)
    assert "50% decided of your items" in response.content.decode()

    campaign.status = "closed"
    campaign.save(update_fields=["status"])
    cache.clear()
    assert client_for(security_user).get(DASHBOARD).context["campaigns"] == []


def test_an_auditor_follows_every_number_to_exactly_that_many(
    auditor_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(auditor_user)
    response = c.get(DASHBOARD)
    for value, url in all_numbers(response.context):
        assert count_behind(c, url) == value, url
    # "All identities by risk": the riskiest list continues in the inventory, in the same order.
    (more,) = re.findall(r'href="([^"]*ordering=risk_tier[^"]*)"', response.content.decode())
    listed = [i.name for i in c.get(unescape(more)).context["page"].object_list]
    riskiest = [i.name for i in response.context["riskiest"]]
    assert listed[: len(riskiest)] == riskiest


def test_every_link_in_the_dashboard_html_opens(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    """Not only the numbers the view computes: every link the page renders answers 200, and
    each number in the page is inside a link."""
    run = DiscoveryRun.objects.create(
        source=SourceFactory(name="org"),
        status=RunStatus.PARTIAL,
        identities_seen=7,
        errors=[{"code": "AccessDenied", "operation": "ListSecrets", "message": "denied"}],
    )
    c = client_for(security_user)
    body = c.get(DASHBOARD).content.decode()
    run_url = reverse("inventory:run-detail", args=[run.pk])
    assert f'<a href="{run_url}" aria-label="7 identities seen by run {run.pk}">7</a>' in body
    assert f'href="{run_url}#h-errors"' in body
    links = {unescape(h) for h in re.findall(r'href="(/[^"]*)"', body)}
    links -= {"/logout/"}
    assert len(links) > 20
    for url in sorted(links):
        response = c.get(url, follow=True)  # "nhigov" (home) sends the user to their page
        assert response.status_code == 200, url
    # The key numbers, the breakdowns and the per-account table: no bare number outside a link.
    stats = body.split('id="h-headline"')[1].split('id="h-trend"')[0]
    bare = re.findall(r"<td>\s*(\d[\d,]*)\s*</td>", stats)
    assert bare == []
