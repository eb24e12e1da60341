"""In a real browser: an auditor reads the compliance page, follows a control's evidence to the
identities behind it, and from an identity to its audit events.

Uses the project's browser fixtures (tests/browser/conftest.py, imported by
tests/audit/conftest.py): the system Chromium, headless,
screenshots in artifacts/screenshots/, skipped only when Chromium is missing outside CI.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from nhigov.audit import audit_record
from tests.audit.test_compliance import closed_review, inventoried
from tests.reviews.factories import make_identity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_auditor_reads_controls_and_follows_the_evidence(  # type: ignore[no-untyped-def] # noqa: PLR0917
    page,
    live_server,
    shot,
    sign_in,
    settings,
    security_user,
    owner_user,
    auditor_user,
) -> None:
    cache.clear()  # the page keeps its counts a minute
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NHIGOV_REVIEW_CADENCE_DAYS = {"critical": 30, "high": 90, "medium": 365, "low": 365}
    closed_review(security_user, owner_user)
    stale = make_identity(
        "nightly-<b>export</b>",
        stale=True,
        stale_since=timezone.now() - timedelta(days=40),
        used_days=130,
        findings=(("AK-002", "medium"),),
    )
    audit_record(verb="identity.changed", object_type="inventory.identity", object_id=stale.pk)
    inventoried()

    sign_in(page, "aud")
    page.click("nav.mainnav >> text=Compliance")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Compliance"
    control = page.locator("#control-pci-826")
    assert "Not met" in control.locator(".cbadge").first.inner_text()
    assert "1 still enabled" in control.locator(".statement").inner_text()
    weak = page.locator("#control-pci-7251 .weaker")
    assert "medium every 365 days" in weak.inner_text()
    assert page.locator("main form").count() == 0  # nothing to change here
    shot(page, "01-compliance")

    control.locator("a", has_text="Stale and still enabled").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("table.identities tbody tr").count() == 1
    page.locator("table.identities tbody a", has_text="nightly-").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("a", has_text="Audit events").click()
    page.wait_for_load_state("networkidle")
    assert f"identity={stale.pk}" in page.url
    assert page.locator("#id_identity").input_value() == str(stale.pk)
    assert page.locator("#results tbody tr").count() == 1
    assert "identity.changed" in page.locator("#results tbody").inner_text()
    shot(page, "02-identity-audit-events")
