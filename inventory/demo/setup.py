"""Puts the demo's people, teams and source in the database (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory.choices import SourceKind
from inventory.demo.people import DEMO_PASSWORD, PEOPLE, TEAMS
from inventory.models import Source, Team
from inventory.services.sources import source_create

DEMO_SOURCE = "demo-organization"
DEMO_REGIONS = ["us-east-1", "eu-west-1"]


@transaction.atomic
def ensure_people() -> None:
    """One user per demo person (logins for the personas), and the teams with managers."""
    User = get_user_model()
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
    for person in PEOPLE:
        user, created = User.objects.get_or_create(
            username=person.username,
            defaults={
                "email": person.email,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "role": person.role,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.is_active = person.active
        user.left_at = None if person.active else (user.left_at or timezone.now())
        user.save()
        for team in person.teams:
            teams[team].members.add(user)
        for team in person.manages:
            Team.objects.filter(pk=teams[team].pk).update(manager=user)


def ensure_source() -> Source:
    existing = Source.objects.filter(name=DEMO_SOURCE).first()
    if existing:
        return existing
    return source_create(
        name=DEMO_SOURCE,
        kind=SourceKind.AWS_ORGANIZATION,
        role_name="OrganizationAccountAccessRole",
        regions=DEMO_REGIONS,
        schedule_minutes=None,
    )
