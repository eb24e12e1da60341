"""The questions a new security engineer must answer from the console alone (issue #3, "Done
when"), asked in headless Chromium; and the pages on a phone-sized screen."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inventory.choices import RunStatus
from inventory.models import DiscoveryRun
from tests.factories import SourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_who_owns_a_given_key_and_where_that_comes_from(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    sign_in(page, security_user.username)
    page.goto("/inventory/identities/")
    page.fill("#id_q", "AKIADEVKEY0000000002")
    page.wait_for_url(re.compile(r"q=AKIADEVKEY0000000002"))
    page.wait_for_function("document.querySelectorAll('table.identities tbody tr').length === 1")
    row = page.locator("table.identities tbody tr").first
    assert "raj@example.com" in row.locator("td.owner").inner_text()
    shot(page, "1-key-found")
    row.get_by_role("link", name="stale-bot").click()
    page.wait_for_url(re.compile(r"/inventory/identities/\d+/$"))
    assert page.get_by_text("AKIADEVKEY0000000002").first.is_visible()
    owner = page.locator("#owner")
    assert "raj@example.com" in owner.inner_text()
    shot(page, "2-owner-and-evidence")


def test_machine_identities_per_account_unowned_stale_and_last_runs(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    source = SourceFactory(name="acme-org")
    DiscoveryRun.objects.create(
        source=source,
        status=RunStatus.SUCCEEDED,
        identities_seen=7,
        finished_at=timezone.now() - timedelta(hours=2),
    )
    sign_in(page, security_user.username)
    accounts = page.locator("#h-accounts").locator("xpath=..").locator("tbody tr")
    machine = {
        row.locator("th .mono").inner_text(): row.locator("td").nth(1).inner_text()
        for row in accounts.all()
    }
    assert machine == {"111111111111": "3", "222222222222": "2"}
    health = page.locator("#h-health").locator("xpath=..")
    assert "acme-org" in health.inner_text()
    assert health.get_by_role("link", name=re.compile(r"^2 hours ago")).count() == 1
    shot(page, "1-dashboard")
    page.get_by_role("link", name=re.compile(r"^\d+ No owner$")).click()
    page.wait_for_url(re.compile(r"no_owner=true"))
    assert page.locator("table.identities tbody tr").count() == 2
    shot(page, "2-unowned")


def test_sorting_by_account_and_owner_from_the_keyboard(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any
) -> None:
    sign_in(page, security_user.username)
    page.goto("/inventory/identities/")
    page.locator("th a.sort", has_text="Account").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"ordering=account"))
    page.wait_for_function(
        "document.querySelector('th[aria-sort] a.sort').textContent.startsWith('Account')"
    )
    numbers = page.locator("table.identities tbody td:nth-child(4) .mono").all_inner_texts()
    assert numbers == sorted(numbers) and numbers[0] == "111111111111"
    page.locator("th a.sort", has_text="Owner").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"ordering=owner"))
    page.wait_for_function(
        "document.querySelector('th[aria-sort] a.sort').textContent.startsWith('Owner')"
    )
    owners = [
        t.split("\n")[0].strip()
        for t in page.locator("table.identities tbody td.owner").all_inner_texts()
    ]
    people = [o for o in owners if "@" in o]
    assert people == sorted(people) and people[0].startswith("olivia")
    page.go_back()
    page.wait_for_url(re.compile(r"ordering=account$"))


def fits_a_phone(page: Any, urls: list[str]) -> None:
    """At 390 px nothing makes the page scroll sideways: wide tables scroll inside their box."""
    for url in urls:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} is {width}px wide"


def test_the_security_pages_fit_a_phone_screen(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    SourceFactory(name="acme-org")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, security_user.username)
    fits_a_phone(
        page,
        [
            "/inventory/",
            "/inventory/identities/",
            f"/inventory/identities/{estate['orphan_admin'].pk}/",
            "/inventory/sources/",
            "/inventory/runs/",
            "/inventory/teams/",
            f"/inventory/teams/{estate['platform'].pk}/",
        ],
    )
    page.goto("/inventory/")
    shot(page, "dashboard")


def test_the_owner_pages_fit_a_phone_screen(
    page: Any, owner_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, owner_user.username)
    fits_a_phone(
        page,
        [
            "/inventory/mine/",
            "/inventory/",
            f"/inventory/identities/{estate['deployer'].pk}/",
            "/inventory/teams/",
        ],
    )
    shot(page, "teams")
