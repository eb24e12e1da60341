"""Puts the demo's people, teams and source in the database (idempotent)."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory.choices import CredentialKind, CredentialStatus, SourceKind
from inventory.demo.people import DEMO_PASSWORD, PEOPLE, TEAMS
from inventory.models import Credential, LeakReport, Source, Team
from inventory.services.leaks import leaks_import
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


# The demo's leaked key: a CI user's key committed to a repository (rule LEAK-001).
DEMO_LEAK_IDENTITY = ("jenkins-release-prod", "prod")


def ensure_leak_report() -> LeakReport | None:
    """Import a gitleaks report naming one seeded access key, once (the demo's LEAK-001)."""
    if LeakReport.objects.exists():
        return None
    name, account = DEMO_LEAK_IDENTITY
    key = (
        Credential.objects.filter(
            kind=CredentialKind.ACCESS_KEY,
            status=CredentialStatus.ACTIVE,
            identity__name=name,
            identity__account__name=account,
        )
        .order_by("-last_used_at")
        .first()
    )
    if key is None:
        return None
    report = [
        {
            "Description": "AWS Access Key",
            "StartLine": 41,
            "EndLine": 41,
            "Match": f"AWS_ACCESS_KEY_ID={key.native_id}",
            "Secret": key.native_id,
            "File": "jenkins/release/Jenkinsfile",
            "Commit": "4f2c9a1e7b3d8c6f5a0e9d2b1c4a7f8e3d6b5a09",
            "Author": "Raj Patel",
            "Email": "raj.patel@example.com",
            "Date": "2026-10-14T09:12:44Z",
            "RuleID": "aws-access-token",
        },
        {
            # The matching secret: gitleaks reports it, nhigov drops it on import.
            "Description": "AWS Secret Access Key",
            "StartLine": 42,
            "Match": "AWS_SECRET_ACCESS_KEY=demo-not-a-real-secret-key-0000000000000",
            "Secret": "demo-not-a-real-secret-key-0000000000000",
            "File": "jenkins/release/Jenkinsfile",
            "Commit": "4f2c9a1e7b3d8c6f5a0e9d2b1c4a7f8e3d6b5a09",
            "Email": "raj.patel@example.com",
            "RuleID": "generic-api-key",
        },
    ]
    return leaks_import(
        content=json.dumps(report).encode(),
        filename="gitleaks-release-tooling.json",
        repository="example-org/release-tooling",
    )
