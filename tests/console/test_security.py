"""Provider strings are hostile: escaped everywhere; CSP without inline script or style; CSRF on
htmx requests; the one gate on every page, partial and export."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from inventory.choices import RunStatus
from inventory.models import DiscoveryRun
from tests.console.conftest import HOSTILE_NAME, HOSTILE_TAG
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def console_urls(estate: dict[str, Any]) -> list[str]:
    source = SourceFactory(name="org-src")
    run = DiscoveryRun.objects.create(
        source=source,
        status=RunStatus.FAILED,
        account_id="222222222222",
        errors=[{"code": "<script>x</script>", "message": HOSTILE_TAG}],
    )
    return [
        reverse("inventory:dashboard"),
        reverse("inventory:identity-list"),
        reverse("inventory:identity-list") + "?q=%3Cscript%3E&tag=description%3D%3Cimg",
        reverse("inventory:my-identities"),
        reverse("inventory:identity-detail", args=[estate["hostile"].pk]),
        reverse("inventory:identity-detail", args=[estate["orphan_admin"].pk]),
        reverse("inventory:source-list"),
        reverse("inventory:source-detail", args=[source.pk]),
        reverse("inventory:source-create"),
        reverse("inventory:run-list"),
        reverse("inventory:run-detail", args=[run.pk]),
        reverse("inventory:team-list"),
        reverse("inventory:team-detail", args=[estate["platform"].pk]),
    ]


def test_hostile_provider_strings_are_escaped_on_every_page(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(security_user)
    for url in console_urls(estate):
        response = c.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for raw in (
            HOSTILE_NAME,
            HOSTILE_TAG,
            "<b>evil-policy</b>",
            "<svg onload",
            "<u>nobody</u>",
            "<i>xid</i>",
            "<script>x</script>",
        ):
            assert raw not in body, (url, raw)
        assert not INLINE_SCRIPT.search(body), url
        assert not STYLE_ATTRIBUTE.search(body), url
        assert not EVENT_HANDLER.search(body), url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
    detail = c.get(
        reverse("inventory:identity-detail", args=[estate["hostile"].pk])
    ).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "&lt;b&gt;evil-policy&lt;/b&gt;" in detail


def test_the_htmx_partials_escape_too(security_user: Any, estate: Any, client_for: Any) -> None:
    partial = (
        client_for(security_user)
        .get(reverse("inventory:identity-list") + "?q=script", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert HOSTILE_NAME not in partial and "&lt;script&gt;" in partial


def test_csrf_is_required_and_works_on_htmx_posts(security_user: Any, estate: Any) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(security_user)
    page = c.get(reverse("inventory:identity-detail", args=[estate["orphan_admin"].pk]))
    token = page.cookies["csrftoken"].value
    assert "X-CSRFToken" in page.content.decode()  # hx-headers on <body>
    url = reverse("inventory:identity-owner", args=[estate["orphan_admin"].pk])
    data = {"owner": "raj", "reason": "csrf check"}
    assert c.post(url, data, HTTP_HX_REQUEST="true").status_code == 403
    ok = c.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 302


def test_anonymous_users_are_sent_to_sign_in_everywhere(estate: Any) -> None:
    for url in [*console_urls(estate), reverse("inventory:identity-export")]:
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), url
    assert (
        Client().post(reverse("inventory:identity-bulk"), {"action": "export"}).status_code == 302
    )


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("security_user", "inventory:dashboard"),
        ("analyst_user", "inventory:dashboard"),
        ("auditor_user", "inventory:dashboard"),
        ("owner_user", "inventory:my-identities"),
    ],
)
def test_home_sends_each_role_to_its_page(
    request: Any, persona: str, landing: str, client_for: Any
) -> None:
    user = request.getfixturevalue(persona)
    response = client_for(user).get("/")
    assert response.url == reverse(landing)
    login = Client().post(
        reverse("login"), {"username": user.username, "password": "pw-for-tests-1"}
    )
    assert login.url == "/"


def test_navigation_follows_the_role(
    owner_user: Any, auditor_user: Any, security_user: Any, client_for: Any
) -> None:
    owner_nav = client_for(owner_user).get(reverse("inventory:my-identities")).content.decode()
    assert 'href="/inventory/sources/"' not in owner_nav and "My identities" in owner_nav
    auditor_nav = client_for(auditor_user).get(reverse("inventory:dashboard")).content.decode()
    assert 'href="/inventory/sources/"' in auditor_nav and "read-only" in auditor_nav
    assert (
        "Add a source"
        not in client_for(auditor_user).get(reverse("inventory:source-list")).content.decode()
    )
    assert (
        "Add a source"
        in client_for(security_user).get(reverse("inventory:source-list")).content.decode()
    )


def test_auditors_see_no_bulk_assignment_form(
    auditor_user: Any, estate: Any, client_for: Any
) -> None:
    body = client_for(auditor_user).get(reverse("inventory:identity-list")).content.decode()
    assert "Assign owner" not in body and "Export CSV" in body
