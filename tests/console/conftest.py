"""Fixtures of the console tests: a small estate with every kind of case, and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inventory.choices import (
    Classification,
    CredentialKind,
    CredentialStatus,
    IdentityKind,
    LifecycleState,
    RiskTier,
)
from inventory.models import Credential
from tests.factories import AccountFactory, IdentityFactory, TeamFactory, UserFactory

HOSTILE_NAME = '<script>alert("x")</script>'
HOSTILE_TAG = "<img src=x onerror=alert(1)>"
ADMIN_POLICY = {
    "name": "AdministratorAccess",
    "source": "managed",
    "arn": "arn:aws:iam::aws:policy/AdministratorAccess",
    "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
}
HOSTILE_POLICY = {
    "name": "<b>evil-policy</b>",
    "source": "inline",
    "document": {
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "<svg onload=alert(2)>"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
        ]
    },
}
EXTERNAL_TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "<i>xid</i>"}},
        }
    ]
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """The dashboard keeps its counts a minute: each test starts without them."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def add_key(identity: Any, key_id: str, *, age_days: int, active: bool = True) -> Credential:
    now = timezone.now()
    return Credential.objects.create(
        identity=identity,
        kind=CredentialKind.ACCESS_KEY,
        native_id=key_id,
        status=CredentialStatus.ACTIVE if active else CredentialStatus.INACTIVE,
        created_at=now - timedelta(days=age_days),
        last_used_at=now - timedelta(days=3),
        last_used_service="s3",
        last_used_region="eu-west-1",
    )


@pytest.fixture
def estate(owner_user: Any) -> dict[str, Any]:
    """Two accounts, a team, owned / unowned / orphaned / stale / vanished / hostile identities."""
    now = timezone.now()
    prod = AccountFactory(account_id="111111111111", name="prod")
    dev = AccountFactory(account_id="222222222222", name="dev")
    platform = TeamFactory(name="platform")
    platform.members.add(owner_user)
    raj = UserFactory(username="raj", email="raj@example.com")
    e: dict[str, Any] = {"prod": prod, "dev": dev, "platform": platform, "raj": raj}
    e["deployer"] = IdentityFactory(
        account=prod,
        kind=IdentityKind.IAM_USER,
        name="ci-deployer",
        owner=owner_user,
        tags={"env": "prod", "app": "billing"},
        last_used_at=now - timedelta(days=10),
        created_at=now - timedelta(days=500),
        lifecycle_state=LifecycleState.ACTIVE,
        risk_tier=RiskTier.HIGH,
    )
    add_key(e["deployer"], "AKIAPRODKEY000000001", age_days=400)
    e["platform_role"] = IdentityFactory(
        account=prod,
        name="platform-role",
        owner_team=platform,
        tags={"env": "prod"},
        last_used_at=now - timedelta(days=1),
        lifecycle_state=LifecycleState.ACTIVE,
        risk_tier=RiskTier.MEDIUM,
    )
    e["orphan_admin"] = IdentityFactory(
        account=prod,
        name="orphan-admin",
        is_privileged=True,
        is_orphaned=True,
        orphaned_since=now - timedelta(days=5),
        risk_tier=RiskTier.CRITICAL,
        policies=[ADMIN_POLICY],
        permissions_summary={"admin": True, "services": ["*"], "sensitive_wildcards": []},
        trust_policy=EXTERNAL_TRUST,
        tags={"env": "prod", "cost-center": "42"},
    )
    e["stale_bot"] = IdentityFactory(
        account=dev,
        kind=IdentityKind.IAM_USER,
        name="stale-bot",
        owner=raj,
        is_stale=True,
        stale_since=now - timedelta(days=100),
        last_used_at=now - timedelta(days=200),
        tags={"env": "dev"},
        lifecycle_state=LifecycleState.ACTIVE,
        risk_tier=RiskTier.MEDIUM,
    )
    add_key(e["stale_bot"], "AKIADEVKEY0000000002", age_days=30)
    e["vanished_secret"] = IdentityFactory(
        account=dev,
        kind=IdentityKind.SECRET,
        name="db-secret",
        lifecycle_state=LifecycleState.VANISHED,
        vanished_at=now - timedelta(days=2),
    )
    e["person"] = IdentityFactory(
        account=dev,
        kind=IdentityKind.IAM_USER,
        name="alice.person",
        classification=Classification.HUMAN,
        owner=raj,
        lifecycle_state=LifecycleState.ACTIVE,
    )
    e["hostile"] = IdentityFactory(
        account=dev,
        name=HOSTILE_NAME,
        tags={"description": HOSTILE_TAG, "owner": '=HYPERLINK("http://x")'},
        owner_raw="<u>nobody</u>",
        owner_unmatched=True,
        policies=[HOSTILE_POLICY],
        trust_policy={"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:*"}]},
        risk_tier=RiskTier.CRITICAL,
    )
    return e
