"""The main flows of each persona, in headless Chromium against the live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from inventory.models import Identity, IdentityEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_names(page: Any) -> list[str]:
    return page.locator("table.identities tbody td.name > a").all_inner_texts()


def test_security_filters_searches_opens_an_identity_and_assigns_an_owner(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    sign_in(page, security_user.username)
    assert page.url.endswith("/inventory/")  # the dashboard
    shot(page, "1-dashboard")
    page.get_by_role("link", name=re.compile(r"^\d+ Stale$")).click()
    page.wait_for_url(re.compile(r"stale=true"))
    assert row_names(page) == ["stale-bot"]

    page.goto("/inventory/identities/")
    shot(page, "2-inventory")
    page.select_option("#id_stale", "true")  # htmx: the results change in place
    page.wait_for_url(re.compile(r"stale=true"))
    page.wait_for_function("document.querySelectorAll('table.identities tbody tr').length === 1")
    assert row_names(page) == ["stale-bot"]
    assert "q=" not in page.url  # empty fields stay out of the shareable URL
    shot(page, "3-filtered")

    page.select_option("#id_stale", "")
    page.fill("#id_q", "orphan")
    page.wait_for_url(re.compile(r"q=orphan"))
    page.wait_for_function("document.querySelectorAll('table.identities tbody tr').length === 1")
    assert row_names(page) == ["orphan-admin"]
    shot(page, "4-searched")

    page.go_back()  # the back button returns to the previous list
    page.wait_for_url(lambda url: "q=orphan" not in url)

    page.goto("/inventory/identities/?q=orphan")
    page.get_by_role("link", name="orphan-admin").click()
    page.wait_for_url(re.compile(r"/inventory/identities/\d+/$"))
    assert page.get_by_text("admin: every action on every resource").is_visible()
    shot(page, "5-identity")

    page.get_by_text("Change owner").click()
    page.fill("#owner-owner", "raj@example.com")
    page.fill("#owner-reason", "Raj runs the break-glass role")
    page.get_by_role("button", name="Save owner").click()
    page.wait_for_url(re.compile(r"#owner$"))
    assert page.get_by_text("Owner changed.").is_visible()
    assert page.get_by_text("Raj runs the break-glass role").first.is_visible()
    shot(page, "6-owner-assigned")
    identity = Identity.objects.get(name="orphan-admin")
    assert identity.owner_id == estate["raj"].pk
    assert IdentityEvent.objects.filter(identity=identity, actor=security_user).exists()


def test_security_assigns_a_team_to_a_whole_filter_after_confirming(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    sign_in(page, security_user.username)
    page.goto("/inventory/identities/?no_owner=true&present=true")
    page.check("input[name=scope][value=filter]")
    page.select_option("#bulk-team", label="platform")
    page.fill("#bulk-reason", "Platform triages the unowned")
    page.get_by_role("button", name="Assign owner").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role(
        "heading", name=re.compile("Assign an owner to 2 identities")
    ).is_visible()
    shot(page, "1-confirm")
    page.get_by_role("button", name=re.compile("Yes, assign to 2")).click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("on 2 identities").is_visible()
    shot(page, "2-done")
    assert set(
        Identity.objects.filter(owner_team=estate["platform"]).values_list("name", flat=True)
    ) >= {"orphan-admin"}


def test_ticking_every_row_selects_the_page_for_export(
    page: Any, security_user: Any, estate: dict[str, Any], sign_in: Any
) -> None:
    sign_in(page, security_user.username)
    page.goto("/inventory/identities/?account=111111111111")
    page.check("input[data-select-all]")
    assert page.locator("input[name=ids]:checked").count() == 3
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.count("\n") == 4 and "orphan-admin" in text


def test_an_owner_sees_only_their_identities(
    page: Any, owner_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    sign_in(page, owner_user.username)
    assert page.url.endswith("/inventory/mine/")
    assert sorted(row_names(page)) == ["ci-deployer", "platform-role"]
    assert page.get_by_role("link", name="Sources").count() == 0
    assert page.get_by_role("button", name="Assign owner").count() == 0
    shot(page, "1-my-identities")
    page.goto("/inventory/identities/")  # the whole inventory, through the same gate
    assert sorted(row_names(page)) == ["ci-deployer", "platform-role"]
    response = page.goto(f"/inventory/identities/{estate['stale_bot'].pk}/")
    assert response.status == 404
    response = page.goto("/inventory/sources/")
    assert response.status == 403
    page.goto("/inventory/")
    shot(page, "2-owner-dashboard")


def test_an_auditor_reads_everything_and_cannot_change_anything(
    page: Any, auditor_user: Any, estate: dict[str, Any], sign_in: Any, shot: Any
) -> None:
    sign_in(page, auditor_user.username)
    assert page.get_by_text("read-only").is_visible()
    shot(page, "1-dashboard")
    page.goto("/inventory/identities/")
    assert len(row_names(page)) == 7
    assert page.get_by_role("button", name="Assign owner").count() == 0
    page.goto(f"/inventory/identities/{estate['orphan_admin'].pk}/")
    assert page.get_by_text("Change owner").count() == 0
    shot(page, "2-identity")
    page.goto("/inventory/sources/")
    assert page.get_by_role("link", name="Add a source").count() == 0
    assert page.get_by_role("button", name="Run now").count() == 0
    shot(page, "3-sources")
    # A crafted request with a valid CSRF token is refused by the server itself.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/inventory/identities/{estate['orphan_admin'].pk}/owner/",
        form={"owner": "aud", "reason": "mine"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status == 403
    assert Identity.objects.get(pk=estate["orphan_admin"].pk).owner_id is None
