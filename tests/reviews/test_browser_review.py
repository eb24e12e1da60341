"""In a real browser: an owner accepts a handover and works through her queue (bulk keep,
deprovision, a justified keep with an exception end date, a self-review), signs it off; a
security admin reminds, extends the deadline, moves the campaign to closing and signs it off.

Uses the project's browser fixtures (tests/browser/conftest.py, imported by
tests/reviews/conftest.py): the system Chromium, headless, screenshots in artifacts/screenshots/,
skipped only when Chromium is missing outside CI.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from inventory.models import Identity
from reviews.choices import CampaignStatus, ItemStatus
from reviews.models import Campaign
from reviews.services.decisions import item_decide
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
    item_decide(  # Raj (platform's manager) hands the job of the person who left to Olivia
        item=item_of(campaign, estate.orphan_team),
        actor=estate.raj,
        outcome="handover",
        justification="Olivia's team runs this job now.",
        handover_to=owner_user,
    )

    sign_in(page, "olivia")
    page.goto("/reviews/")
    assert page.locator("tr.review-row").count() == 4
    assert "not used for 200 days: deprovision" in row(page, old).inner_text()
    assert "toms-job" in page.locator("#handovers").inner_text()
    shot(page, "01-owner-queue")

    page.click("#handovers button[value=accept]")
    page.wait_for_load_state("networkidle")
    assert "handover accepted" in page.locator(".messages").inner_text()
    assert Identity.objects.get(pk=estate.orphan_team.pk).owner == owner_user

    page.keyboard.press("j")  # the keyboard lands in the first item's justification
    assert page.evaluate("document.activeElement.name") == "justification"

    page.click("button[name=all_eligible]")  # the one low-risk item used yesterday
    page.wait_for_load_state("networkidle")
    assert "Kept 1 low-risk" in page.locator(".messages").inner_text()

    row(page, old).locator("button[value=deprovision]").click()
    page.wait_for_selector(f"#item-{old.pk}.status-revoke_requested")

    until = (timezone.now() + timedelta(days=60)).date().isoformat()
    row(page, admin).locator("summary", has_text="Exception end date").click()
    row(page, admin).locator("input[name=exception_until]").fill(until)
    row(page, admin).locator("button[value=keep]").click()  # no justification: refused in place
    page.wait_for_selector(f"#item-{admin.pk} .error")
    assert "needs a justification" in row(page, admin).inner_text()
    # What she entered is still there.
    assert row(page, admin).locator("input[name=exception_until]").input_value() == until
    shot(page, "02-justification-required")
    row(page, admin).locator("input[name=justification]").fill("Terraform applies prod with it.")
    row(page, admin).locator("button[value=keep]").click()
    page.wait_for_selector(f"#item-{admin.pk}.status-kept")
    assert f"exception until {until}" in row(page, admin).inner_text()
    assert Identity.objects.get(pk=estate.admin.pk).lifecycle_state == "excepted"

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
    mail.outbox.clear()
    bob_row = admin_page.locator("tr", has_text="bob@example.com").filter(
        has=admin_page.locator("button:has-text('Remind')")
    )
    bob_row.locator("button:has-text('Remind')").click()
    admin_page.wait_for_load_state("networkidle")
    assert "Reminder e-mailed to" in admin_page.locator(".messages").inner_text()
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    admin_page.click("text=Extend the deadline…")
    new_due = (timezone.now() + timedelta(days=20)).date()
    admin_page.fill("#due_date", new_due.isoformat())
    admin_page.fill("#extend_reason", "Bob is on leave this week.")
    admin_page.click("button:has-text('Extend')")
    admin_page.wait_for_load_state("networkidle")
    assert f"Deadline moved to {new_due:%Y-%m-%d}" in admin_page.locator(".messages").inner_text()
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
