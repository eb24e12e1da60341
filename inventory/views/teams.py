"""Teams: members and a manager (the escalation target for reviews), and people leaving.

The security team and auditors read every team, an owner the teams they belong to; only a
security admin (``can_administer``) changes a team or marks a person as gone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inventory.counts import inventory_url
from inventory.forms import TeamForm, TeamMemberForm
from inventory.models import Identity, Team
from inventory.services.people import PersonActionError, person_deactivate
from inventory.services.teams import (
    TeamActionError,
    team_create,
    team_member_add,
    team_member_remove,
    team_update,
)
from inventory.views.access import capability_required, may, teams_visible_to
from nhigov.models import User


def _owned_counts(team_ids: list[int]) -> dict[int, int]:
    rows = (
        Identity.objects.filter(owner_team_id__in=team_ids)
        .order_by()
        .values("owner_team_id")
        .annotate(n=Count("id"))
    )
    return {r["owner_team_id"]: r["n"] for r in rows}


def _team_url(team: Team) -> str:
    return inventory_url([("team", team.name)])


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = list(
        teams_visible_to(request.user)
        .select_related("manager")
        .annotate(member_count=Count("members"))
        .order_by("name")
    )
    owned = _owned_counts([t.pk for t in teams])
    for team in teams:
        team.owned_count = owned.get(team.pk, 0)  # type: ignore[attr-defined]
        team.identities_url = _team_url(team)  # type: ignore[attr-defined]
    return render(
        request,
        "inventory/team_list.html",
        {"teams": teams, "can_administer": may(request.user, "can_administer")},
    )


def _team_or_404(request: HttpRequest, pk: int) -> Team:
    members = get_user_model().objects.order_by("-is_active", "last_name", "username")
    return get_object_or_404(
        teams_visible_to(request.user)
        .select_related("manager")
        .prefetch_related(Prefetch("members", queryset=members)),
        pk=pk,
    )


def _detail(
    request: HttpRequest,
    team: Team,
    *,
    team_form: TeamForm | None = None,
    member_form: TeamMemberForm | None = None,
    status: int = 200,
) -> HttpResponse:
    admin = may(request.user, "can_administer")
    if admin and team_form is None:
        team_form = TeamForm(
            initial={
                "name": team.name,
                "description": team.description,
                "manager": team.manager.email or team.manager.username if team.manager else "",
            }
        )
    context: dict[str, Any] = {
        "team": team,
        "members": list(team.members.all()),
        "owned_count": _owned_counts([team.pk]).get(team.pk, 0),
        "identities_url": _team_url(team),
        "can_administer": admin,
        "team_form": team_form,
        "member_form": member_form or (TeamMemberForm() if admin else None),
    }
    return render(request, "inventory/team_detail.html", context, status=status)


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _team_or_404(request, pk))


@capability_required("can_administer")
def team_create_view(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                manager=form.cleaned_data["manager"],
                actor=_actor(request),
            )
        except TeamActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Team {team.name} created. Add its members.")
            return redirect("inventory:team-detail", pk=team.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/team_form.html", {"form": form}, status=status)


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_POST
@capability_required("can_administer")
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_or_404(request, pk)
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team_update(
                team=team,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                manager=form.cleaned_data["manager"],
                actor=_actor(request),
            )
        except TeamActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Team saved.")
            return redirect("inventory:team-detail", pk=team.pk)
    return _detail(request, team, team_form=form, status=400)


@require_POST
@capability_required("can_administer")
def team_member_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_or_404(request, pk)
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        person = form.cleaned_data["person"]
        try:
            added = team_member_add(team=team, person=person, actor=_actor(request))
        except TeamActionError as exc:
            form.add_error("person", str(exc))
        else:
            messages.success(
                request, f"{person} added." if added else f"{person} is already a member."
            )
            return redirect("inventory:team-detail", pk=team.pk)
    return _detail(request, team, member_form=form, status=400)


@require_POST
@capability_required("can_administer")
def team_member_remove_view(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    team = _team_or_404(request, pk)
    person = get_object_or_404(get_user_model(), pk=user_pk)
    team_member_remove(team=team, person=person, actor=_actor(request))
    messages.success(request, f"{person} removed from {team.name}.")
    return redirect("inventory:team-detail", pk=team.pk)


@require_POST
@capability_required("can_administer")
def person_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A person left: their identities become orphaned (and are re-evaluated) at once."""
    person = get_object_or_404(get_user_model(), pk=pk)
    try:
        owned = person_deactivate(person=person, actor=_actor(request))
    except PersonActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{person} marked as gone; the {owned} identit{'y' if owned == 1 else 'ies'} they "
            "owned are now orphaned.",
        )
    back = request.POST.get("team")
    if back and back.isdigit():
        return redirect("inventory:team-detail", pk=int(back))
    return redirect(reverse("inventory:team-list"))
