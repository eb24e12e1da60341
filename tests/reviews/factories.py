"""Builders for review tests: identities with the facts a review reads, and a small estate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from inventory.choices import CredentialKind, FindingStatus
from inventory.models import Credential, Finding, Identity, Team
from nhigov.models import User
from reviews.models import Campaign, ReviewItem
from reviews.services.campaigns import campaign_launch
from tests.factories import AccountFactory, IdentityFactory, TeamFactory, UserFactory


def make_identity(
    name: str,
    *,
    owner: User | None = None,
    team: Team | None = None,
    kind: str = "iam_role",
    classification: str = "machine",
    used_days: int | None = 1,
    created_days: int = 400,
    key_days: int | None = None,
    tier: str = "low",
    findings: tuple[tuple[str, str], ...] = (),
    stale: bool = False,
    orphaned: bool = False,
    privileged: bool = False,
    lifecycle: str = "active",
    now: datetime | None = None,
    **extra: Any,
) -> Identity:
    """An identity as the risk engine leaves it, with an access key and open findings if asked."""
    now = now or timezone.now()
    identity = IdentityFactory(
        name=name,
        kind=kind,
        classification=classification,
        owner=owner,
        owner_team=team,
        created_at=now - timedelta(days=created_days),
        first_seen_at=now - timedelta(days=created_days),
        last_used_at=None if used_days is None else now - timedelta(days=used_days),
        risk_tier=tier,
        is_stale=stale,
        is_orphaned=orphaned,
        is_privileged=privileged,
        lifecycle_state=lifecycle,
        permissions_summary={
            "admin": privileged,
            "services": ["s3", "sqs"],
            "sensitive_wildcards": [],
        },
        policies=[{"name": f"{name}-policy", "document": {"Statement": []}}],
        **extra,
    )
    if key_days is not None:
        Credential.objects.create(
            identity=identity,
            kind=CredentialKind.ACCESS_KEY,
            native_id=f"AKIA{identity.pk:016d}",
            created_at=now - timedelta(days=key_days),
            last_used_at=None if used_days is None else now - timedelta(days=used_days),
        )
    for rule_id, severity in findings:
        Finding.objects.create(
            identity=identity,
            rule_id=rule_id,
            severity=severity,
            status=FindingStatus.OPEN,
            message=f"{rule_id} fires",
            first_seen_at=now,
            last_seen_at=now,
        )
    return identity


@dataclass
class Estate:
    """Olivia's identities, her team (managed by Raj), Bob's, and two orphans."""

    olivia: User
    raj: User
    bob: User
    left: User
    platform: Team
    ci: Identity  # low risk, used yesterday, young key: bulk keep
    old: Identity  # unused 200 days: deprovision
    admin: Identity  # critical, PRIV-001, used yesterday: keep needs a justification
    console: Identity  # Olivia's own IAM user with keys: self-review
    orphan_team: Identity  # owner left, team platform: Raj (manager) reviews it
    orphan: Identity  # nobody: the security queue
    bobs: Identity


def make_estate(owner_user: User) -> Estate:
    raj = UserFactory(username="raj", email="raj.patel@example.com", first_name="Raj")
    bob = UserFactory(username="bob", email="bob@example.com")
    left = UserFactory(username="tom", email="tom@example.com", is_active=False)
    platform = TeamFactory(name="platform", manager=raj)
    platform.members.add(owner_user, raj, left)
    AccountFactory(account_id="111111111111", name="prod")
    ci = make_identity(
        "olivia-ci", owner=owner_user, team=platform, kind="iam_user", key_days=30, used_days=1
    )
    old = make_identity("olivia-old", owner=owner_user, team=platform, used_days=200, stale=True)
    admin = make_identity(
        "olivia-admin",
        owner=owner_user,
        team=platform,
        tier="critical",
        findings=(("PRIV-001", "critical"),),
        privileged=True,
    )
    console = make_identity(
        "olivia.park",
        owner=owner_user,
        team=platform,
        kind="iam_user",
        classification="machine_used_by_person",
        key_days=100,
        used_days=3,
        tier="medium",
    )
    orphan_team = make_identity("toms-job", owner=left, team=platform, used_days=5)
    orphan = make_identity("nobodys-role", used_days=10, orphaned=True)
    bobs = make_identity("bobs-role", owner=bob, used_days=2)
    return Estate(
        olivia=owner_user,
        raj=raj,
        bob=bob,
        left=left,
        platform=platform,
        ci=ci,
        old=old,
        admin=admin,
        console=console,
        orphan_team=orphan_team,
        orphan=orphan,
        bobs=bobs,
    )


def launch(
    actor: User | None = None, *, scope: dict[str, Any] | None = None, **options: Any
) -> Campaign:
    return campaign_launch(name="Q4 review", scope=scope or {}, actor=actor, **options)


def item_of(campaign: Campaign, identity: Identity) -> ReviewItem:
    return ReviewItem.objects.select_related("campaign", "reviewer", "decision").get(
        campaign=campaign, identity=identity
    )


def client_for(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c
