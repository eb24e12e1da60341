"""Teams: creating them, naming a manager, adding and removing members.

Only a security admin changes teams. A team's name is what ``team`` tags on identities are
matched against at discovery, and its manager is where reviews escalate.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from inventory.models import Identity, Team
from nhigov.audit import audit_record
from nhigov.models import User


class TeamActionError(ValueError):
    """Not allowed or not valid; nothing was changed."""


def _check_actor(actor: User) -> None:
    if not actor.can_administer:
        raise TeamActionError("Only a security admin can change teams.")


def _clean_name(name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise TeamActionError("A team needs a name.")
    if len(name) > 150:
        raise TeamActionError("A team name is at most 150 characters.")
    clash = Team.objects.filter(name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise TeamActionError(f"There is already a team named {name!r}.")
    return name


def _check_manager(manager: User | None) -> None:
    if manager is not None and not manager.is_active:
        raise TeamActionError(f"{manager} is deactivated and cannot manage a team.")


def _settings(team: Team) -> dict[str, object]:
    return {"name": team.name, "description": team.description, "manager_id": team.manager_id}


def team_create(
    *, name: str, description: str = "", manager: User | None = None, actor: User
) -> Team:
    _check_actor(actor)
    _check_manager(manager)
    team = Team(name=_clean_name(name), description=(description or "").strip(), manager=manager)
    try:
        with transaction.atomic():
            team.save()
            audit_record(verb="team.created", actor=actor, obj=team, after=_settings(team))
    except IntegrityError as exc:  # a concurrent create with the same name
        raise TeamActionError(f"There is already a team named {team.name!r}.") from exc
    return team


def team_update(
    *, team: Team, name: str, description: str, manager: User | None, actor: User
) -> Team:
    _check_actor(actor)
    _check_manager(manager)
    with transaction.atomic():
        fresh = Team.objects.select_for_update().get(pk=team.pk)
        before = _settings(fresh)
        fresh.name = _clean_name(name, exclude=fresh.pk)
        fresh.description = (description or "").strip()
        fresh.manager = manager
        fresh.save()
        audit_record(
            verb="team.updated", actor=actor, obj=fresh, before=before, after=_settings(fresh)
        )
    return fresh


def team_member_add(*, team: Team, person: User, actor: User) -> bool:
    """Add a person; returns False if they were already a member."""
    _check_actor(actor)
    if not person.is_active:
        raise TeamActionError(f"{person} is deactivated and cannot join a team.")
    with transaction.atomic():
        if team.members.filter(pk=person.pk).exists():
            return False
        team.members.add(person)
        audit_record(
            verb="team.member_added",
            actor=actor,
            obj=team,
            details={"user_id": person.pk, "user": person.get_username()},
        )
    return True


def team_member_remove(*, team: Team, person: User, actor: User) -> bool:
    """Remove a person; returns False if they were not a member.

    The identities they own on this team's behalf get a one-item review ("owner moved team"),
    queued after the commit, like a deactivation's.
    """
    _check_actor(actor)
    with transaction.atomic():
        if not team.members.filter(pk=person.pk).exists():
            return False
        team.members.remove(person)
        owned = list(
            Identity.objects.filter(owner=person, owner_team=team).values_list("id", flat=True)
        )
        audit_record(
            verb="team.member_removed",
            actor=actor,
            obj=team,
            details={
                "user_id": person.pk,
                "user": person.get_username(),
                "identities_owned_for_team": len(owned),
            },
        )
        from reviews.services.triggers import review_trigger_later  # one-item reviews (reviews)

        review_trigger_later(identity_ids=owned, reason="owner_moved_team")
    return True
