"""Teams: members and a manager; people leaving; who may see and change them."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from inventory.models import Identity, Team
from nhigov.models import AuditEvent
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_a_team_with_a_manager(security_user: Any, client_for: Any) -> None:
    manager = UserFactory(username="mei", email="mei@example.com")
    response = client_for(security_user).post(
        reverse("inventory:team-create"),
        {"name": "data", "description": "Data platform", "manager": "MEI@example.com"},
    )
    team = Team.objects.get(name="data")
    assert response.url == reverse("inventory:team-detail", args=[team.pk])
    assert team.manager == manager
    assert AuditEvent.objects.filter(verb="team.created", object_id=str(team.pk)).exists()


def test_team_names_are_unique_whatever_the_case(security_user: Any, client_for: Any) -> None:
    TeamFactory(name="Data")
    response = client_for(security_user).post(reverse("inventory:team-create"), {"name": "data"})
    assert response.status_code == 400 and "already a team named" in response.content.decode()


def test_members_are_added_and_removed(
    security_user: Any, owner_user: Any, client_for: Any
) -> None:
    team = TeamFactory(name="payments")
    c = client_for(security_user)
    add = reverse("inventory:team-member-add", args=[team.pk])
    assert c.post(add, {"person": "olivia.park@example.com"}).status_code == 302
    assert list(team.members.all()) == [owner_user]
    missing = c.post(add, {"person": "nobody@example.com"})
    assert missing.status_code == 400 and "No person" in missing.content.decode()
    c.post(reverse("inventory:team-member-remove", args=[team.pk, owner_user.pk]))
    assert not team.members.exists()
    verbs = list(
        AuditEvent.objects.filter(object_type="inventory.team")
        .order_by("seq")
        .values_list("verb", flat=True)
    )
    assert verbs == ["team.member_added", "team.member_removed"]


def test_edit_team_sets_the_manager(security_user: Any, owner_user: Any, client_for: Any) -> None:
    team = TeamFactory(name="platform")
    response = client_for(security_user).post(
        reverse("inventory:team-edit", args=[team.pk]),
        {"name": "platform", "description": "", "manager": "olivia"},
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.manager == owner_user
    gone = UserFactory(username="gone", is_active=False)
    bad = client_for(security_user).post(
        reverse("inventory:team-edit", args=[team.pk]),
        {"name": "platform", "manager": gone.username},
    )
    assert bad.status_code == 400 and "has left" in bad.content.decode()


def test_marking_a_person_as_gone_orphans_their_identities(
    security_user: Any, owner_user: Any, estate: Any, client_for: Any
) -> None:
    response = client_for(security_user).post(
        reverse("inventory:person-deactivate", args=[owner_user.pk]),
        {"team": estate["platform"].pk},
        follow=True,
    )
    assert "now orphaned" in response.content.decode()
    owner_user.refresh_from_db()
    assert not owner_user.is_active
    assert Identity.objects.get(pk=estate["deployer"].pk).is_orphaned


def test_team_list_counts_members_and_owned_identities(
    auditor_user: Any, estate: Any, client_for: Any
) -> None:
    response = client_for(auditor_user).get(reverse("inventory:team-list"))
    team = next(t for t in response.context["teams"] if t.name == "platform")
    assert (team.member_count, team.owned_count) == (1, 1)
    assert team.identities_url.endswith("?team=platform")
    assert "New team" not in response.content.decode()


def test_owners_see_only_their_teams_and_change_nothing(
    owner_user: Any, estate: Any, client_for: Any
) -> None:
    other = TeamFactory(name="secret-team")
    c = client_for(owner_user)
    assert [t.name for t in c.get(reverse("inventory:team-list")).context["teams"]] == ["platform"]
    assert c.get(reverse("inventory:team-detail", args=[other.pk])).status_code == 404
    platform = estate["platform"]
    for url, data in (
        (reverse("inventory:team-create"), {"name": "x"}),
        (reverse("inventory:team-edit", args=[platform.pk]), {"name": "renamed"}),
        (reverse("inventory:team-member-add", args=[platform.pk]), {"person": "sec"}),
        (reverse("inventory:team-member-remove", args=[platform.pk, owner_user.pk]), {}),
        (reverse("inventory:person-deactivate", args=[owner_user.pk]), {}),
    ):
        assert c.post(url, data).status_code == 403
    assert Team.objects.get(pk=platform.pk).name == "platform"


@pytest.mark.parametrize("persona", ["analyst_user", "auditor_user"])
def test_analysts_and_auditors_cannot_change_teams(
    request: Any, persona: str, estate: Any, client_for: Any
) -> None:
    c = client_for(request.getfixturevalue(persona))
    platform = estate["platform"]
    assert (
        c.post(reverse("inventory:team-edit", args=[platform.pk]), {"name": "x"}).status_code == 403
    )
    assert c.post(reverse("inventory:team-create"), {"name": "x"}).status_code == 403


def test_team_pages_query_count_is_constant(security_user: Any, client_for: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(security_user)
    team = TeamFactory(name="big")
    with CaptureQueriesContext(connection) as few_list:
        c.get(reverse("inventory:team-list"))
    with CaptureQueriesContext(connection) as few_detail:
        c.get(reverse("inventory:team-detail", args=[team.pk]))
    for n in range(12):
        team.members.add(UserFactory(username=f"member{n}"))
        TeamFactory(name=f"team-{n}").members.add(security_user)
    with CaptureQueriesContext(connection) as many_list:
        c.get(reverse("inventory:team-list"))
    with CaptureQueriesContext(connection) as many_detail:
        c.get(reverse("inventory:team-detail", args=[team.pk]))
    assert len(few_list) == len(many_list) and len(few_detail) == len(many_detail)
