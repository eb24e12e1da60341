"""Every console page and htmx partial runs the same number of queries however much it shows.

Each page is requested by every persona allowed to read it, once over the small estate and
once after everything it lists has grown (identities, credentials, findings, runs and their
per-account children, accounts, team members): the counts must be equal. The inventory list's
own page-size test is in test_inventory_list.py, the export's in test_bulk_actions.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.choices import FindingStatus, RunStatus, Severity
from inventory.models import DiscoveryRun, Finding
from tests.console.conftest import add_key
from tests.factories import AccountFactory, IdentityFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def finding(identity: Any, rule_id: str = "AK-001") -> Finding:
    now = timezone.now()
    return Finding.objects.create(
        identity=identity,
        rule_id=rule_id,
        severity=Severity.HIGH,
        status=FindingStatus.OPEN,
        message=f"{rule_id} on {identity.name}",
        first_seen_at=now,
        last_seen_at=now,
    )


@pytest.fixture
def console(estate: dict[str, Any], owner_user: Any) -> dict[str, Any]:
    source = SourceFactory(name="org")
    parent = DiscoveryRun.objects.create(source=source, status=RunStatus.SUCCEEDED)
    DiscoveryRun.objects.create(
        source=source, parent=parent, account_id="111111111111", status=RunStatus.SUCCEEDED
    )
    finding(estate["deployer"])
    return {"source": source, "run": parent, **estate}


def grow(console: dict[str, Any], owner_user: Any) -> None:
    """Ten times more of everything the pages list."""
    now = timezone.now()
    for n in range(30):
        account = AccountFactory(account_id=f"3000000000{n:02d}", name=f"acct-{n}")
        identity = IdentityFactory(
            account=account, name=f"grown-{n}", owner=owner_user if n % 2 else None
        )
        add_key(identity, f"AKIAGROWN{n:011d}", age_days=100 + n)
        finding(identity)
        finding(identity, "PRIV-001")
        child = DiscoveryRun.objects.create(
            source=console["source"],
            parent=console["run"],
            account_id=account.account_id,
            status=RunStatus.PARTIAL if n % 3 else RunStatus.SUCCEEDED,
            errors=[{"code": "AccessDenied", "operation": "ListSecrets", "message": "no"}],
        )
        account.last_run = child
        account.save(update_fields=["last_run"])
        other = SourceFactory(name=f"src-{n}")
        DiscoveryRun.objects.create(source=other, status=RunStatus.FAILED, finished_at=now)
        console["platform"].members.add(UserFactory(username=f"member-{n}"))


def pages(console: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    identity = console["deployer"].pk
    run = console["run"].pk
    return [
        (reverse("inventory:dashboard"), {}),
        (reverse("inventory:identity-list"), {}),
        (reverse("inventory:identity-list") + "?ordering=owner&stale=false", HTMX),
        (reverse("inventory:my-identities"), {}),
        (reverse("inventory:my-identities") + "?ordering=account", HTMX),
        (reverse("inventory:identity-detail", args=[identity]), {}),
        (reverse("inventory:source-list"), {}),
        (reverse("inventory:source-detail", args=[console["source"].pk]), {}),
        (reverse("inventory:run-list"), {}),
        (reverse("inventory:run-list") + "?status=partial", HTMX),
        (reverse("inventory:run-detail", args=[run]), {}),
        (reverse("inventory:run-detail", args=[run]) + "?live=1", HTMX),
        (reverse("inventory:team-list"), {}),
        (reverse("inventory:team-detail", args=[console["platform"].pk]), {}),
        (reverse("inventory:finding-list"), {}),
        (reverse("inventory:finding-list") + "?rule=AK-001", HTMX),
        (reverse("inventory:rule-list"), {}),
        (reverse("inventory:rule-detail", args=["AK-001"]), {}),
        (reverse("inventory:leak-list"), {}),
        (reverse("inventory:risk-settings"), {}),
    ]


def query_counts(client: Any, console: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for url, headers in pages(console):
        cache.clear()  # the dashboard's minute of cached counts
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, url
        counts[f"{url} {'htmx' if headers else ''}"] = len(queries)
    return counts


@pytest.mark.parametrize("persona", ["security_user", "auditor_user", "owner_user"])
def test_every_page_and_partial_runs_a_constant_number_of_queries(
    request: Any,
    persona: str,
    console: dict[str, Any],
    owner_user: Any,
    client_for: Callable[[Any], Any],
) -> None:
    client = client_for(request.getfixturevalue(persona))
    query_counts(client, console)  # first visits create singletons (risk settings)
    few = query_counts(client, console)
    grow(console, owner_user)
    many = query_counts(client, console)
    assert many == few
    # The owner reads their own identities, teams and findings; the others every page.
    assert len(few) >= (7 if persona == "owner_user" else len(pages(console)))
