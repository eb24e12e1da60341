"""Pages and API through the one permission gate: security, owner, auditor."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import Identity
from tests.factories import IdentityFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(owner_user):  # type: ignore[no-untyped-def]
    team = TeamFactory(name="platform")
    team.members.add(owner_user)
    mine = IdentityFactory(name="olivia-deployer", owner=owner_user)
    team_owned = IdentityFactory(name="platform-role", owner_team=team)
    other = IdentityFactory(name="someone-elses", owner=UserFactory(username="raj"))
    hostile = IdentityFactory(
        name='<script>alert("x")</script>', tags={"description": "<img src=x onerror=alert(1)>"}
    )
    return {"mine": mine, "team": team_owned, "other": other, "hostile": hostile}


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def names(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {i.name for i in response.context["page"].object_list}


def test_security_sees_every_identity(security_user, estate) -> None:  # type: ignore[no-untyped-def]
    response = client_for(security_user).get(reverse("inventory:identity-list"))
    assert names(response) == {i.name for i in estate.values()}


def test_owner_sees_only_their_own_and_their_teams_identities(owner_user, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(owner_user)
    assert names(c.get(reverse("inventory:identity-list"))) == {"olivia-deployer", "platform-role"}
    assert c.get(reverse("inventory:identity-detail", args=[estate["mine"].pk])).status_code == 200
    assert c.get(reverse("inventory:identity-detail", args=[estate["other"].pk])).status_code == 404


def test_auditor_sees_everything_but_cannot_change_anything(auditor_user, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(auditor_user)
    assert len(names(c.get(reverse("inventory:identity-list")))) == 4
    response = c.post(
        "/api/sources/", {"name": "x", "kind": "aws-organization"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_anonymous_users_are_sent_to_login(estate) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse("inventory:identity-list"))
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert Client().get("/api/identities/").status_code in (401, 403)


def test_provider_strings_are_escaped_everywhere(security_user, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    listing = c.get(reverse("inventory:identity-list")).content.decode()
    assert '<script>alert("x")</script>' not in listing
    assert "&lt;script&gt;" in listing
    detail = c.get(
        reverse("inventory:identity-detail", args=[estate["hostile"].pk])
    ).content.decode()
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(1)&gt;" in detail


def test_pages_send_a_content_security_policy_without_inline_script(security_user, estate) -> None:  # type: ignore[no-untyped-def]
    response = client_for(security_user).get(reverse("inventory:identity-list"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.content.decode().replace("<script src=", "")


def test_htmx_request_renders_only_the_table(security_user, estate) -> None:  # type: ignore[no-untyped-def]
    response = client_for(security_user).get(
        reverse("inventory:identity-list") + "?q=deployer", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "<html" not in body and "olivia-deployer" in body and "someone-elses" not in body


def test_filters_narrow_the_list(security_user, estate) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    assert names(c.get(reverse("inventory:identity-list") + "?owner=olivia.park@example.com")) == {
        "olivia-deployer"
    }
    assert names(c.get(reverse("inventory:identity-list") + "?team=platform")) == {"platform-role"}
    no_owner = names(c.get(reverse("inventory:identity-list") + "?no_owner=true"))
    assert no_owner == {'<script>alert("x")</script>'}


def test_list_query_count_does_not_grow_with_the_page(security_user) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    IdentityFactory.create_batch(3, owner=security_user)
    with CaptureQueriesContext(connection) as small:
        c.get(reverse("inventory:identity-list"))
    IdentityFactory.create_batch(45, owner=security_user)
    with CaptureQueriesContext(connection) as large:
        c.get(reverse("inventory:identity-list"))
    assert len(large) == len(small)


def test_api_lists_through_the_same_gate(owner_user, estate) -> None:  # type: ignore[no-untyped-def]
    data = client_for(owner_user).get("/api/identities/").json()
    assert {r["name"] for r in data["results"]} == {"olivia-deployer", "platform-role"}


def test_login_is_throttled_after_repeated_failures(owner_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.NHIGOV_LOGIN_MAX_FAILURES = 3
    c = Client()
    for _ in range(3):
        c.post(reverse("login"), {"username": "olivia", "password": "wrong"})
    response = c.post(reverse("login"), {"username": "olivia", "password": "pw-for-tests-1"})
    assert response.status_code == 200 and "Too many failed sign-ins" in response.content.decode()


def test_login_with_the_right_password_works(owner_user) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(reverse("login"), {"username": "olivia", "password": "pw-for-tests-1"})
    assert response.status_code == 302


def test_healthz(db) -> None:  # type: ignore[no-untyped-def]
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_identity_count(estate) -> None:  # type: ignore[no-untyped-def]
    assert Identity.objects.count() == 4
