"""What the rules see: a plain, database-free view of one identity, and the context of a pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CredentialView:
    kind: str  # inventory.choices.CredentialKind value: access_key, password, mfa_device, secret
    native_id: str  # access key id, "console-password", "mfa", secret ARN
    status: str  # "active" | "inactive"
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_service: str = ""
    last_used_region: str = ""
    last_rotated_at: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IdentityView:
    """One identity as stored in the inventory (see inventory.models.identities.Identity)."""

    id: int
    kind: str  # IdentityKind value: iam_user, iam_role, instance_profile, secret, root, ...
    name: str
    arn: str
    path: str
    account_id: str  # 12-digit AWS account id
    classification: str  # human | machine | machine_used_by_person
    created_at: datetime | None
    last_used_at: datetime | None
    tags: dict[str, str]
    # Each {"source": "inline"|"managed"|"group-inline"|"group-managed"|"role", "name", "arn"?,
    # "group"?, "role"?, "document": {...}}; documents are attacker-controlled, maybe malformed.
    policies: list[dict[str, Any]]
    trust_policy: dict[str, Any] | None
    # password_enabled, mfa_active, service_linked, rotation_enabled, ...
    attributes: dict[str, Any]
    credentials: tuple[CredentialView, ...]
    has_owner: bool  # an owner person or team is set
    owner_active: bool  # False when the owner person is deactivated (left)
    owner_unmatched: bool  # an owner tag names nobody known
    owner_raw: str = ""


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a pass needs besides the identity. Thresholds come from the admin's settings."""

    now: datetime
    thresholds: dict[str, int]  # see inventory.risk.rules.DEFAULT_THRESHOLDS
    organization_account_ids: frozenset[str] = frozenset()
    trusted_account_ids: frozenset[str] = frozenset()  # the allow-list for ROLE-003
    # access key id -> list of leak reports {"tool", "repository", "file", "commit", "author",
    # "line", "date", "rule"} (the secret itself is never kept)
    leaked_keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
