"""The records every connector yields, and the contract they follow.

Contract for a connector:
- it reads a provider's API and returns :class:`AccountInventory` objects made of plain,
  immutable records; it never touches the database and never returns a secret value (passwords,
  secret access keys, secret strings, tokens are never read, or dropped before a record is made);
- everything in a record is data the provider returned and is attacker-controlled: the caller
  escapes it on output and never evaluates it;
- a failure to read one part (an AccessDenied in one region, a throttled call that ran out of
  retries) is recorded in ``errors`` with ``complete=False`` rather than raised, so the rest of the
  account is still returned; only a failure that leaves nothing to return (cannot assume the role)
  raises :class:`ConnectorError`;
- ``api_calls`` counts logical API calls per operation (a paginated listing counts one per page),
  so operators can see calls grow with pages, not identities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class ConnectorError(Exception):
    """Nothing could be read (credentials refused, role cannot be assumed, endpoint unreachable).

    ``code`` is the provider's error code when there is one (``AccessDenied``...).
    """

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation

    def as_dict(self) -> dict[str, str]:
        return {"operation": self.operation, "code": self.code, "message": str(self)}


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """An access key, console password, MFA device or secret: ids and dates, never a value."""

    kind: str  # inventory.choices.CredentialKind value
    native_id: str  # access key id, "console-password", MFA serial, secret ARN
    status: str = "active"  # inventory.choices.CredentialStatus value
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_service: str = ""
    last_used_region: str = ""
    last_rotated_at: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One identity as the provider describes it."""

    kind: str  # inventory.choices.IdentityKind value
    native_id: str  # the key within the account: the ARN for AWS
    name: str
    arn: str = ""
    provider_id: str = ""  # AWS unique id (AIDA..., AROA..., AIPA...)
    path: str = ""
    region: str = ""
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_service: str = ""
    last_used_region: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # Every policy that applies, each {"source": "inline" | "managed" | "group-inline" |
    # "group-managed" | "role" (instance profiles), "name": ..., "arn": ... (managed),
    # "group": ... (group policies), "document": {...} (the parsed JSON policy document)}.
    policies: list[dict[str, Any]] = field(default_factory=list)
    trust_policy: dict[str, Any] | None = None
    groups: list[str] = field(default_factory=list)
    credentials: list[CredentialRecord] = field(default_factory=list)
    # Facts for classification and rules: password_enabled, mfa_active, roles (instance profile),
    # instance_profiles (role), rotation_enabled (secret), permissions_boundary, ...
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account as an Organization lists it."""

    account_id: str
    name: str = ""
    email: str = ""
    status: str = "ACTIVE"
    is_management: bool = False


@dataclass(slots=True)
class AccountInventory:
    """What one discovery of one account returned."""

    account_id: str
    identities: list[IdentityRecord] = field(default_factory=list)
    # True only when every listing was read to its end without error.
    complete: bool = True
    errors: list[dict[str, str]] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    throttled_retries: int = 0

    @property
    def api_call_total(self) -> int:
        return sum(self.api_calls.values())
