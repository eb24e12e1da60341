"""Builders of connector records for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from inventory.connectors.base import CredentialRecord, IdentityRecord

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "111111111111"


def days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


def access_key(
    key_id: str, *, status: str = "active", created: int = 30, used: int | None = 1
) -> CredentialRecord:
    return CredentialRecord(
        kind="access_key",
        native_id=key_id,
        status=status,
        created_at=days_ago(created),
        last_used_at=days_ago(used) if used is not None else None,
        last_used_service="s3" if used is not None else "",
        last_used_region="us-east-1" if used is not None else "",
    )


def user(
    name: str,
    *,
    account: str = ACCOUNT,
    keys: list[CredentialRecord] | None = None,
    password: bool = False,
    mfa: bool = False,
    tags: dict[str, str] | None = None,
    policies: list[dict[str, Any]] | None = None,
    created: int = 100,
) -> IdentityRecord:
    creds = list(keys or [])
    if password:
        creds.append(
            CredentialRecord(
                kind="password", native_id="console-password", created_at=days_ago(created)
            )
        )
    if mfa:
        creds.append(CredentialRecord(kind="mfa_device", native_id="mfa"))
    arn = f"arn:aws:iam::{account}:user/{name}"
    return IdentityRecord(
        kind="iam_user",
        native_id=arn,
        arn=arn,
        name=name,
        path="/",
        provider_id=f"AIDA{name.upper()}",
        created_at=days_ago(created),
        tags=tags or {},
        policies=policies or [],
        credentials=creds,
        attributes={"password_enabled": password, "mfa_active": mfa},
    )


def role(
    name: str,
    *,
    account: str = ACCOUNT,
    tags: dict[str, str] | None = None,
    used: int | None = 2,
    created: int = 200,
    trust: dict[str, Any] | None = None,
    policies: list[dict[str, Any]] | None = None,
) -> IdentityRecord:
    arn = f"arn:aws:iam::{account}:role/{name}"
    return IdentityRecord(
        kind="iam_role",
        native_id=arn,
        arn=arn,
        name=name,
        path="/",
        created_at=days_ago(created),
        last_used_at=days_ago(used) if used is not None else None,
        tags=tags or {},
        policies=policies or [],
        trust_policy=trust
        or {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
    )


ADMIN_POLICY = {
    "source": "managed",
    "name": "AdministratorAccess",
    "arn": "arn:aws:iam::aws:policy/AdministratorAccess",
    "document": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
}
