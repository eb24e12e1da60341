"""In a real browser: an owner works through her queue (bulk keep, deprovision, a justified keep,
a self-review), signs it off; a security admin moves the campaign to closing and signs it off.

Uses the project's browser fixtures (tests/browser/conftest.py, imported by
tests/reviews/conftest.py): the system Chromium, headless, screenshots in artifacts/screenshots/,
skipped only when Chromium is missing outside CI.
"""

from __future__ import annotations

from typing import Any

import pytest

from reviews.choices import CampaignStatus, ItemStatus
from reviews.models import Campaign
from tests.reviews.factories import item_of, launch, make_estate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(page: Any, item: Any) -> Any:
    return page.locator(f"#item-{item.pk}")


def test_an_owner_completes_her_queue_and_security_signs_off(  # type: ignore[no-untyped-def] # noqa: PLR0917
    page, browser, live_server, shot, sign_in, owner_user, security_user
) -> None:
    estate = make_estate(owner_user)
    campaign = launch(security_user)
    old, admin, console = (item_of(campaign, i) for i in (estate.old, estate.admin, estate.console))

    sign_in(page, "olivia")
    page.goto("/reviews/")
    assert page.locator("tr.review-row").count() == 4
    assert "not used for 200 days: deprovision" in row(page, old).inner_text()
    shot(page, "01-owner-queue")

    page.click("button[name=all_eligible]")  # the one low-risk item used yesterday
    page.wait_for_load_state("networkidle")
    assert "Kept 1 low-risk" in page.locator(".messages").inner_text()

    row(page, old).locator("button[value=deprovision]").click()
    page.wait_for_selector(f"#item-{old.pk}.status-revoke_requested")

    row(page, admin).locator("button[value=keep]").click()  # no justification: refused in place
    page.wait_for_selector(f"#item-{admin.pk} .error")
    assert "needs a justification" in row(page, admin).inner_text()
    shot(page, "02-justification-required")
    row(page, admin).locator("input[name=justification]").fill("Terraform applies prod with it.")
    row(page, admin).locator("button[value=keep]").click()
    page.wait_for_selector(f"#item-{admin.pk}.status-kept")

    row(page, console).locator("input[name=justification]").fill(
        "My own CLI key for the quarterly export; moving it to SSO in January."
    )
    row(page, console).locator("button[value=keep]").click()
    page.wait_for_selector(f"#item-{console.pk}.status-kept")
    page.wait_for_selector(f"#progress-{campaign.pk} >> text=4 of 4 decided")
    shot(page, "03-all-decided")

    page.goto("/reviews/")
    page.click("text=Sign off my decisions")
    page.wait_for_load_state("networkidle")
    assert "are locked" in page.locator(".messages").inner_text()
    assert item_of(campaign, estate.old).locked_at is not None

    security = browser.new_context(
        viewport={"width": 1440, "height": 900}, base_url=live_server.url
    )
    admin_page = security.new_page()
    admin_page.set_default_timeout(10_000)
    sign_in(admin_page, "sec")
    admin_page.goto(f"/reviews/campaigns/{campaign.pk}/")
    assert "reconciled" in admin_page.content()
    shot(admin_page, "04-security-campaign")
    admin_page.click("text=Close now: apply the no-response policy…")
    admin_page.click("button:has-text('Move to closing')")
    admin_page.wait_for_load_state("networkidle")
    assert "is closing" in admin_page.locator(".messages").inner_text()
    admin_page.check("input[name=confirm]")
    admin_page.fill("#signoff_comment", "Q4 review complete.")
    admin_page.click("button:has-text('Sign off and close')")
    admin_page.wait_for_load_state("networkidle")
    assert "signed off by" in admin_page.locator(".messages").inner_text()
    shot(admin_page, "05-signed-off")
    security.close()

    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == CampaignStatus.CLOSED and campaign.signed_off_by == security_user
    assert item_of(campaign, estate.admin).status == ItemStatus.KEPT
    assert item_of(campaign, estate.bobs).decision.source == "auto"
