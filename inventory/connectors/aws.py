"""AWS discovery connector: reads IAM, the credential report and Secrets Manager into records.

Contract (see :mod:`inventory.connectors.base`): the connector is pure. It reads AWS with
read-only calls and returns :class:`~inventory.connectors.base.AccountInventory` objects; it never
touches the database, never calls ``secretsmanager:GetSecretValue`` and never keeps a secret
value (a secret access key, a password, a secret string, or the temporary credentials of an
assumed role) in a record. A failure to read one part of an account (AccessDenied in one region,
a credential report that never completes, a throttled call that ran out of retries) is recorded
in ``errors`` with ``complete=False``; only a failure that leaves nothing to read (no
credentials, credentials refused, role cannot be assumed) raises
:class:`~inventory.connectors.base.ConnectorError`.

Per account, in this order:

1. ``iam:GetAccountAuthorizationDetails`` (one paginated listing) -> IAM users, roles and
   instance profiles with inline, managed and group policies resolved to parsed documents;
2. ``iam:GenerateCredentialReport`` / ``iam:GetCredentialReport`` -> password, MFA and access key
   facts of every user, and the ``<root_account>`` row as a ``root`` identity;
3. ``iam:ListAccessKeys`` only for users whose report row shows a key (to learn the key ids) and
   ``iam:GetAccessKeyLastUsed`` only for keys the report does not cover;
4. ``secretsmanager:ListSecrets`` per region -> secrets (metadata only).

Without a role name the connector uses boto3's default credential chain as-is and checks with
``sts:GetCallerIdentity`` that those credentials belong to the account asked for. With a role
name it calls ``sts:AssumeRole`` into ``arn:<partition>:iam::<account>:role/<role name>``.
The endpoint comes from boto3's own ``AWS_ENDPOINT_URL`` handling (used for the local emulator).

Every action the connector needs, for a read-only policy (also :data:`REQUIRED_ACTIONS`):

- ``sts:GetCallerIdentity``, ``sts:AssumeRole`` (the latter on the discovering principal, for
  multi-account discovery)
- ``organizations:DescribeOrganization``, ``organizations:ListAccounts``
- ``iam:GetAccountAuthorizationDetails``, ``iam:GenerateCredentialReport``,
  ``iam:GetCredentialReport``, ``iam:ListAccessKeys``, ``iam:GetAccessKeyLastUsed``,
  ``iam:GetAccountSummary`` (connection test only)
- ``secretsmanager:ListSecrets``
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import logging
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
)

from inventory.choices import CredentialKind, CredentialStatus, IdentityKind
from inventory.connectors.base import (
    AccountInfo,
    AccountInventory,
    ConnectorError,
    CredentialRecord,
    IdentityRecord,
)

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sts import STSClient

logger = logging.getLogger(__name__)

REQUIRED_ACTIONS: tuple[str, ...] = (
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:GetAccountSummary",
    "secretsmanager:ListSecrets",
)

RetryMode = Literal["legacy", "standard", "adaptive"]
RETRY_MODES: tuple[RetryMode, ...] = ("adaptive", "standard", "legacy")
ROLE_SESSION_NAME = "nhigov-discovery"
USER_AGENT_EXTRA = "nhigov"
AUTHORIZATION_DETAILS_FILTER = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
AUTHORIZATION_DETAILS_PAGE_SIZE = 1000
LIST_SECRETS_PAGE_SIZE = 100
ROOT_ROW = "<root_account>"
SERVICE_LINKED_PATH_PREFIX = "/aws-service-role/"

# Error codes AWS (and botocore's retry handlers) use for throttling.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "LimitExceededException",
        "PriorRequestNotComplete",
    }
)
_CREDENTIAL_ERRORS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)
# Credential report cells that mean "no value".
_NO_VALUE = frozenset({"", "N/A", "n/a", "no_information", "not_supported"})
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_THROTTLES_KEY = "nhigov_throttled_responses"
_REPORT_MAX_POLL_DELAY = 30.0


# --- call accounting ---------------------------------------------------------------------------


class _CallMeter:
    """Counts logical API calls (one per page) and throttled retries through botocore events."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.throttled_retries = 0

    def attach(self, client: BaseClient) -> None:
        events = client.meta.events
        events.register("needs-retry", self._on_needs_retry)
        events.register("after-call", self._on_after_call)
        events.register("after-call-error", self._on_after_call_error)

    def _on_needs_retry(self, response: Any = None, request_dict: Any = None, **_: Any) -> None:
        # Called after every attempt; botocore's own retry handler decides whether to retry.
        if not response or not isinstance(request_dict, dict):
            return
        http_response, parsed = response
        code = parsed.get("Error", {}).get("Code", "") if isinstance(parsed, dict) else ""
        if code in THROTTLING_CODES or getattr(http_response, "status_code", 0) == 429:
            context = request_dict.setdefault("context", {})
            context[_THROTTLES_KEY] = context.get(_THROTTLES_KEY, 0) + 1

    def _on_after_call(
        self, model: Any = None, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        if model is not None:
            self.calls[model.name] += 1
        retries = 0
        if isinstance(parsed, dict):
            retries = int(parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
        throttles = context.get(_THROTTLES_KEY, 0) if isinstance(context, dict) else 0
        # A final throttled response that was not retried is not a retry.
        self.throttled_retries += min(retries, throttles)

    def _on_after_call_error(self, event_name: str = "", **_: Any) -> None:
        # The request failed without a response (connection error...): still a call made.
        self.calls[event_name.rsplit(".", 1)[-1]] += 1


# --- small parsers -----------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _latest(*values: datetime | None) -> datetime | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _tags(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(tag.get("Key", "")): str(tag.get("Value", "")) for tag in items or ()}


def parse_document(value: object) -> dict[str, Any]:
    """A policy document as a dict: it may arrive as a dict, JSON text or URL-encoded JSON.

    Unparseable text is kept as ``{"_unparsed": text}`` rather than failing the discovery.
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {"_unparsed": text}


def _report_time(value: str | None) -> datetime | None:
    if value is None or value.strip() in _NO_VALUE:
        return None
    try:
        return _utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def _report_bool(value: str | None) -> bool | None:
    if value is None or value.strip() in _NO_VALUE:
        return None
    return value.strip().lower() == "true"


def _report_text(value: str | None) -> str:
    if value is None or value.strip() in _NO_VALUE:
        return ""
    return value.strip()


def _decode_report(content: bytes | str) -> str:
    """The report CSV as text; the content may be raw bytes, text or base64 (some stubs)."""
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    text = raw.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("user,"):
        return text
    try:
        decoded = base64.b64decode(b"".join(raw.split()), validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return text
    return decoded if decoded.lstrip().startswith("user,") else text


# --- credential report -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ReportKey:
    slot: int
    active: bool
    last_rotated: datetime | None
    last_used_at: datetime | None
    last_used_region: str
    last_used_service: str


@dataclass(frozen=True, slots=True)
class _ReportRow:
    user: str
    arn: str
    created_at: datetime | None
    password_enabled: bool | None
    password_last_used: datetime | None
    password_last_changed: datetime | None
    mfa_active: bool | None
    keys: tuple[_ReportKey, ...]


def _parse_report_row(row: Mapping[str, str | None]) -> _ReportRow:
    keys = []
    for slot in (1, 2):
        prefix = f"access_key_{slot}_"
        last_rotated = _report_time(row.get(prefix + "last_rotated"))
        active = bool(_report_bool(row.get(prefix + "active")))
        if last_rotated is None and not active:
            continue  # no key in this slot
        keys.append(
            _ReportKey(
                slot=slot,
                active=active,
                last_rotated=last_rotated,
                last_used_at=_report_time(row.get(prefix + "last_used_date")),
                last_used_region=_report_text(row.get(prefix + "last_used_region")),
                last_used_service=_report_text(row.get(prefix + "last_used_service")),
            )
        )
    return _ReportRow(
        user=(row.get("user") or "").strip(),
        arn=(row.get("arn") or "").strip(),
        created_at=_report_time(row.get("user_creation_time")),
        password_enabled=_report_bool(row.get("password_enabled")),
        password_last_used=_report_time(row.get("password_last_used")),
        password_last_changed=_report_time(row.get("password_last_changed")),
        mfa_active=_report_bool(row.get("mfa_active")),
        keys=tuple(keys),
    )


def parse_credential_report(content: bytes | str) -> dict[str, _ReportRow]:
    """Rows of a credential report CSV by user name (the root row under ``<root_account>``)."""
    reader = csv.DictReader(io.StringIO(_decode_report(content)))
    if not reader.fieldnames or "user" not in reader.fieldnames:
        raise ValueError("the credential report has no 'user' column")
    rows = (_parse_report_row(row) for row in reader)
    return {row.user: row for row in rows if row.user}


# --- IAM snapshot (GetAccountAuthorizationDetails) ---------------------------------------------


@dataclass(slots=True)
class _IamSnapshot:
    users: list[Mapping[str, Any]] = field(default_factory=list)
    roles: list[Mapping[str, Any]] = field(default_factory=list)
    groups: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # managed policy ARN -> (name, default version document)
    policies: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def add_page(self, page: Mapping[str, Any]) -> None:
        self.users.extend(page.get("UserDetailList", []))
        self.roles.extend(page.get("RoleDetailList", []))
        for group in page.get("GroupDetailList", []):
            self.groups[group.get("GroupName", "")] = group
        for policy in page.get("Policies", []):
            arn = policy.get("Arn", "")
            # The emulator omits PolicyName: derive it from the ARN's last path segment.
            name = policy.get("PolicyName") or arn.rsplit("/", 1)[-1]
            self.policies[arn] = (name, _default_version_document(policy))


def _default_version_document(policy: Mapping[str, Any]) -> dict[str, Any]:
    default_id = policy.get("DefaultVersionId")
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion") or version.get("VersionId") == default_id:
            return parse_document(version.get("Document"))
    return {}


def _inline_policies(items: Iterable[Mapping[str, Any]], source: str) -> list[dict[str, Any]]:
    return [
        {
            "source": source,
            "name": item.get("PolicyName", ""),
            "document": parse_document(item.get("PolicyDocument")),
        }
        for item in items
    ]


def _managed_policies(
    items: Iterable[Mapping[str, Any]],
    source: str,
    documents: Mapping[str, tuple[str, dict[str, Any]]],
) -> list[dict[str, Any]]:
    policies = []
    for item in items:
        arn = item.get("PolicyArn", "")
        resolved = documents.get(arn)
        name = item.get("PolicyName") or (resolved[0] if resolved else arn.rsplit("/", 1)[-1])
        policy: dict[str, Any] = {
            "source": source,
            "name": name,
            "arn": arn,
            "document": resolved[1] if resolved else {},
        }
        if resolved is None:
            policy["unresolved"] = True  # not in the Policies section: document unknown
        policies.append(policy)
    return policies


def _group_policies(group_names: Iterable[str], snapshot: _IamSnapshot) -> list[dict[str, Any]]:
    policies: list[dict[str, Any]] = []
    for group_name in group_names:
        group = snapshot.groups.get(group_name)
        if group is None:
            continue
        group_policies = _inline_policies(
            group.get("GroupPolicyList", []), "group-inline"
        ) + _managed_policies(
            group.get("AttachedManagedPolicies", []), "group-managed", snapshot.policies
        )
        policies.extend({**policy, "group": group_name} for policy in group_policies)
    return policies


# --- access keys -------------------------------------------------------------------------------


def _second(value: datetime | None) -> datetime | None:
    value = _utc(value)
    return value.replace(microsecond=0) if value is not None else None


def match_access_keys(
    listed: Sequence[Mapping[str, Any]], report_keys: Sequence[_ReportKey]
) -> list[tuple[Mapping[str, Any], _ReportKey | None]]:
    """Pair each listed key with its report column: by creation second, then by creation order.

    A key left without a column (created after the report) is paired with ``None``.
    """
    keys = sorted(
        listed, key=lambda key: _utc(key.get("CreateDate")) or datetime.min.replace(tzinfo=UTC)
    )
    unmatched = list(report_keys)
    matched: list[_ReportKey | None] = []
    for key in keys:
        created = _second(key.get("CreateDate"))
        same = next((c for c in unmatched if created and c.last_rotated == created), None)
        if same is not None:
            unmatched.remove(same)
        matched.append(same)
    for index, key in enumerate(keys):
        if matched[index] is not None:
            continue
        active = key.get("Status") == "Active"
        fallback = next((c for c in unmatched if c.active == active), None)
        if fallback is not None:
            unmatched.remove(fallback)
            matched[index] = fallback
    return list(zip(keys, matched, strict=True))


def _key_status(active: bool) -> str:
    return str(CredentialStatus.ACTIVE if active else CredentialStatus.INACTIVE)


def _report_key_credential(key: _ReportKey, native_id: str) -> CredentialRecord:
    return CredentialRecord(
        kind=str(CredentialKind.ACCESS_KEY),
        native_id=native_id,
        status=_key_status(key.active),
        created_at=key.last_rotated,
        last_used_at=key.last_used_at,
        last_used_service=key.last_used_service,
        last_used_region=key.last_used_region,
        last_rotated_at=key.last_rotated,
        attributes={"report_slot": key.slot},
    )


def _report_only_key_credentials(row: _ReportRow) -> list[CredentialRecord]:
    return [_report_key_credential(key, f"key-{key.slot}") for key in row.keys]


# --- identity builders -------------------------------------------------------------------------


def _password_and_mfa(row: _ReportRow, created_at: datetime | None) -> list[CredentialRecord]:
    credentials = []
    if row.password_enabled:
        credentials.append(
            CredentialRecord(
                kind=str(CredentialKind.PASSWORD),
                native_id="console-password",
                created_at=row.password_last_changed or created_at,
                last_used_at=row.password_last_used,
                last_rotated_at=row.password_last_changed,
            )
        )
    if row.mfa_active:
        credentials.append(CredentialRecord(kind=str(CredentialKind.MFA_DEVICE), native_id="mfa"))
    return credentials


def _report_attributes(row: _ReportRow) -> dict[str, Any]:
    return {
        "password_enabled": row.password_enabled,
        "mfa_active": row.mfa_active,
        "password_last_used": _iso(row.password_last_used),
    }


def _last_use(
    row: _ReportRow | None, keys: Sequence[CredentialRecord]
) -> tuple[datetime | None, str, str]:
    """(last used at, service, region): the latest of the password and key uses."""
    latest: tuple[datetime | None, str, str] = (
        row.password_last_used if row else None,
        "",
        "",
    )
    for key in keys:
        if key.last_used_at is not None and (latest[0] is None or key.last_used_at > latest[0]):
            latest = (key.last_used_at, key.last_used_service, key.last_used_region)
    return latest


def build_user(
    detail: Mapping[str, Any],
    snapshot: _IamSnapshot,
    row: _ReportRow | None,
    keys: Sequence[CredentialRecord],
) -> IdentityRecord:
    created_at = _utc(detail.get("CreateDate"))
    groups = list(detail.get("GroupList", []))
    policies = (
        _inline_policies(detail.get("UserPolicyList", []), "inline")
        + _managed_policies(detail.get("AttachedManagedPolicies", []), "managed", snapshot.policies)
        + _group_policies(groups, snapshot)
    )
    attributes: dict[str, Any] = {}
    boundary = detail.get("PermissionsBoundary") or {}
    if boundary.get("PermissionsBoundaryArn"):
        attributes["permissions_boundary"] = boundary["PermissionsBoundaryArn"]
    credentials: list[CredentialRecord] = []
    if row is not None:
        attributes.update(_report_attributes(row))
        credentials.extend(_password_and_mfa(row, created_at))
    credentials.extend(keys)
    last_used_at, service, region = _last_use(row, keys)
    return IdentityRecord(
        kind=str(IdentityKind.IAM_USER),
        native_id=detail.get("Arn", ""),
        name=detail.get("UserName", ""),
        arn=detail.get("Arn", ""),
        provider_id=detail.get("UserId", ""),
        path=detail.get("Path", ""),
        created_at=created_at,
        last_used_at=last_used_at,
        last_used_service=service,
        last_used_region=region,
        tags=_tags(detail.get("Tags")),
        policies=policies,
        groups=groups,
        credentials=credentials,
        attributes=attributes,
    )


def _instance_profile_role_field(detail: Mapping[str, Any], name: str) -> Any:
    """A field of the full Role shape, which authorization details only nest in instance profiles.

    ``RoleDetail`` has no ``MaxSessionDuration``; a role in an instance profile carries it
    (None otherwise: not worth a GetRole per role).
    """
    for profile in detail.get("InstanceProfileList", []):
        for role in profile.get("Roles", []):
            if role.get("RoleName") == detail.get("RoleName") and name in role:
                return role[name]
    return None


def build_role(detail: Mapping[str, Any], snapshot: _IamSnapshot) -> IdentityRecord:
    path = detail.get("Path", "")
    last_used = detail.get("RoleLastUsed") or {}
    attributes: dict[str, Any] = {
        "instance_profiles": [
            profile.get("InstanceProfileName", "")
            for profile in detail.get("InstanceProfileList", [])
        ],
        "max_session_duration": detail.get("MaxSessionDuration")
        or _instance_profile_role_field(detail, "MaxSessionDuration"),
        "service_linked": path.startswith(SERVICE_LINKED_PATH_PREFIX),
    }
    boundary = detail.get("PermissionsBoundary") or {}
    if boundary.get("PermissionsBoundaryArn"):
        attributes["permissions_boundary"] = boundary["PermissionsBoundaryArn"]
    return IdentityRecord(
        kind=str(IdentityKind.IAM_ROLE),
        native_id=detail.get("Arn", ""),
        name=detail.get("RoleName", ""),
        arn=detail.get("Arn", ""),
        provider_id=detail.get("RoleId", ""),
        path=path,
        created_at=_utc(detail.get("CreateDate")),
        last_used_at=_utc(last_used.get("LastUsedDate")),
        last_used_region=last_used.get("Region", "") or "",
        tags=_tags(detail.get("Tags")),
        policies=_inline_policies(detail.get("RolePolicyList", []), "inline")
        + _managed_policies(
            detail.get("AttachedManagedPolicies", []), "managed", snapshot.policies
        ),
        trust_policy=parse_document(detail.get("AssumeRolePolicyDocument")),
        attributes=attributes,
    )


def build_instance_profiles(
    role_details: Iterable[Mapping[str, Any]], roles: Mapping[str, IdentityRecord]
) -> list[IdentityRecord]:
    """One record per instance profile (deduplicated), carrying its roles' policies."""
    profiles: dict[str, IdentityRecord] = {}
    for detail in role_details:
        for profile in detail.get("InstanceProfileList", []):
            arn = profile.get("Arn", "")
            if not arn or arn in profiles:
                continue
            role_names = [role.get("RoleName", "") for role in profile.get("Roles", [])]
            policies = [
                {**policy, "source": "role", "role": role_name}
                for role_name in role_names
                if role_name in roles
                for policy in roles[role_name].policies
            ]
            profiles[arn] = IdentityRecord(
                kind=str(IdentityKind.INSTANCE_PROFILE),
                native_id=arn,
                name=profile.get("InstanceProfileName", ""),
                arn=arn,
                provider_id=profile.get("InstanceProfileId", ""),
                path=profile.get("Path", ""),
                created_at=_utc(profile.get("CreateDate")),
                tags=_tags(profile.get("Tags")),
                policies=policies,
                attributes={
                    "roles": role_names,
                    "role_arns": [role.get("Arn", "") for role in profile.get("Roles", [])],
                },
            )
    return list(profiles.values())


def build_root(row: _ReportRow, account_id: str, partition: str) -> IdentityRecord:
    arn = row.arn if row.arn.endswith(":root") else f"arn:{partition}:iam::{account_id}:root"
    credentials = []
    # The root row says "not_supported" for password_enabled; a sign-in date proves a password.
    if row.password_enabled or (row.password_enabled is None and row.password_last_used):
        credentials.append(
            CredentialRecord(
                kind=str(CredentialKind.PASSWORD),
                native_id="console-password",
                created_at=row.password_last_changed or row.created_at,
                last_used_at=row.password_last_used,
                last_rotated_at=row.password_last_changed,
            )
        )
    if row.mfa_active:
        credentials.append(CredentialRecord(kind=str(CredentialKind.MFA_DEVICE), native_id="mfa"))
    keys = _report_only_key_credentials(row)
    credentials.extend(keys)
    last_used_at, service, region = _last_use(row, keys)
    return IdentityRecord(
        kind=str(IdentityKind.ROOT),
        native_id=f"arn:{partition}:iam::{account_id}:root",
        name="root",
        arn=arn,
        created_at=row.created_at,
        last_used_at=last_used_at,
        last_used_service=service,
        last_used_region=region,
        credentials=credentials,
        attributes=_report_attributes(row),
    )


def build_secret(entry: Mapping[str, Any], region: str) -> IdentityRecord:
    arn = entry.get("ARN", "")
    created_at = _utc(entry.get("CreatedDate"))
    last_accessed = _utc(entry.get("LastAccessedDate"))
    last_rotated = _utc(entry.get("LastRotatedDate"))
    rotation_enabled = bool(entry.get("RotationEnabled", False))
    rules = entry.get("RotationRules") or {}
    return IdentityRecord(
        kind=str(IdentityKind.SECRET),
        native_id=arn,
        name=entry.get("Name", ""),
        arn=arn,
        region=region,
        created_at=created_at,
        last_used_at=last_accessed,
        tags=_tags(entry.get("Tags")),
        credentials=[
            CredentialRecord(
                kind=str(CredentialKind.SECRET),
                native_id=arn,
                created_at=created_at,
                last_used_at=last_accessed,
                last_rotated_at=last_rotated,
                attributes={"rotation_enabled": rotation_enabled},
            )
        ],
        attributes={
            "rotation_enabled": rotation_enabled,
            "rotation_days": rules.get("AutomaticallyAfterDays"),
            "last_rotated_at": _iso(last_rotated),
            "last_changed_at": _iso(_utc(entry.get("LastChangedDate"))),
            "owning_service": entry.get("OwningService", ""),
            "kms_key_id": entry.get("KmsKeyId", ""),
            "description": entry.get("Description", ""),
        },
    )


# --- errors ------------------------------------------------------------------------------------


def _error_fields(exc: Exception, operation: str) -> tuple[str, str, str]:
    """(operation, code, message) of a botocore exception."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (
            exc.operation_name or operation,
            str(error.get("Code", "")),
            str(error.get("Message", "")) or str(exc),
        )
    return operation, type(exc).__name__, str(exc)


def _connector_error(exc: Exception, operation: str) -> ConnectorError:
    operation, code, message = _error_fields(exc, operation)
    return ConnectorError(message, code=code, operation=operation)


def _record_error(
    inventory: AccountInventory, exc: Exception, operation: str, region: str = ""
) -> None:
    if isinstance(exc, _CREDENTIAL_ERRORS):
        raise _connector_error(exc, operation) from exc
    operation, code, message = _error_fields(exc, operation)
    logger.warning(
        "AWS %s failed in account %s region %s: %s", operation, inventory.account_id, region, code
    )
    inventory.errors.append(
        {"operation": operation, "region": region, "code": code, "message": message}
    )
    inventory.complete = False


# --- the connector -----------------------------------------------------------------------------


class AwsConnector:
    """Discovers the non-human identities of AWS accounts. See the module docstring."""

    def __init__(
        self,
        *,
        session: boto3.session.Session | None = None,
        retry_mode: str = "adaptive",
        max_attempts: int = 10,
        default_region: str = "us-east-1",
        credential_report_timeout: float = 300,
        sleep: Callable[[float], None] = time.sleep,
        list_access_key_ids: bool = True,
    ) -> None:
        self._session = session if session is not None else boto3.session.Session()
        if retry_mode not in RETRY_MODES:
            raise ValueError(f"retry_mode must be one of {', '.join(RETRY_MODES)}.")
        # botocore's ``max_attempts``: retries after the first attempt.
        self._config = Config(
            retries={"mode": cast("RetryMode", retry_mode), "max_attempts": max_attempts},
            user_agent_extra=USER_AGENT_EXTRA,
        )
        self._default_region = default_region
        self._report_timeout = float(credential_report_timeout)
        self._sleep = sleep
        self._list_access_key_ids = list_access_key_ids

    @classmethod
    def from_settings(cls) -> AwsConnector:
        from django.conf import settings

        return cls(
            retry_mode=settings.NHIGOV_AWS_RETRY_MODE,
            max_attempts=settings.NHIGOV_AWS_MAX_ATTEMPTS,
            default_region=settings.NHIGOV_AWS_DEFAULT_REGION,
            credential_report_timeout=settings.NHIGOV_CREDENTIAL_REPORT_TIMEOUT_SECONDS,
        )

    # --- public API ----------------------------------------------------------------------------

    def caller_identity(self) -> dict[str, str]:
        """Who the base credentials are: ``{"account_id", "arn", "user_id"}``."""
        return self._caller_identity(self._session, _CallMeter())

    def list_accounts(self) -> list[AccountInfo]:
        """The accounts of the Organization the base credentials belong to."""
        organizations = self._organizations(self._session, _CallMeter())
        try:
            organization = organizations.describe_organization()["Organization"]
            management_id = organization.get("MasterAccountId", "")
            accounts = []
            for page in organizations.get_paginator("list_accounts").paginate():
                for account in page.get("Accounts", []):
                    account_id = account.get("Id", "")
                    accounts.append(
                        AccountInfo(
                            account_id=account_id,
                            name=account.get("Name", ""),
                            email=account.get("Email", ""),
                            status=account.get("State") or account.get("Status") or "ACTIVE",
                            is_management=account_id == management_id,
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _connector_error(exc, "ListAccounts") from exc
        return accounts

    def discover_account(
        self,
        account_id: str,
        *,
        role_name: str = "",
        external_id: str = "",
        regions: Sequence[str] = (),
    ) -> AccountInventory:
        """Everything the connector can read of one account; see the module docstring."""
        meter = _CallMeter()
        session, account_id = self._account_session(account_id, role_name, external_id, meter)
        inventory = AccountInventory(account_id=account_id)
        iam = self._iam(session, meter)

        snapshot = self._read_authorization_details(iam, inventory)
        report = self._read_credential_report(iam, inventory)
        keys = self._read_access_keys(iam, snapshot, report, inventory)
        inventory.identities.extend(
            self._iam_identities(session, account_id, snapshot, report, keys)
        )
        for region in regions or (self._default_region,):
            inventory.identities.extend(
                self._read_secrets(self._secrets(session, region, meter), region, inventory)
            )

        inventory.api_calls = dict(sorted(meter.calls.items()))
        inventory.throttled_retries = meter.throttled_retries
        return inventory

    def test_connection(
        self, account_id: str = "", *, role_name: str = "", external_id: str = ""
    ) -> dict[str, Any]:
        """Assume (when a role is named), ``GetCallerIdentity`` and one read call.

        Returns ``{"ok", "account_id", "arn", "error"}``; AWS errors are returned, not raised.
        """
        result: dict[str, Any] = {"ok": False, "account_id": account_id, "arn": "", "error": None}
        meter = _CallMeter()
        try:
            session = self._session
            if role_name:
                session = self._assume_role(account_id, role_name, external_id, meter)
            identity = self._caller_identity(session, meter)
            result.update(account_id=identity["account_id"], arn=identity["arn"])
            if account_id and identity["account_id"] != account_id:
                raise ConnectorError(
                    f"The credentials belong to account {identity['account_id']}, "
                    f"not {account_id}.",
                    code="AccountMismatch",
                    operation="GetCallerIdentity",
                )
            try:
                self._iam(session, meter).get_account_summary()
            except (ClientError, BotoCoreError) as exc:
                raise _connector_error(exc, "GetAccountSummary") from exc
        except ConnectorError as exc:
            result["error"] = {"code": exc.code, "message": str(exc), "operation": exc.operation}
            return result
        result["ok"] = True
        return result

    # --- sessions and clients ------------------------------------------------------------------

    def _partition(self) -> str:
        try:
            return self._session.get_partition_for_region(self._default_region)
        except Exception:  # an unknown region name: the commercial partition
            return "aws"

    def _account_session(
        self, account_id: str, role_name: str, external_id: str, meter: _CallMeter
    ) -> tuple[boto3.session.Session, str]:
        """The session to read the account with, and the account id it is for."""
        if role_name:
            return self._assume_role(account_id, role_name, external_id, meter), account_id
        identity = self._caller_identity(self._session, meter)
        if account_id and identity["account_id"] != account_id:
            raise ConnectorError(
                f"No role name given and the credentials belong to account "
                f"{identity['account_id']}, not {account_id}.",
                code="AccountMismatch",
                operation="GetCallerIdentity",
            )
        return self._session, identity["account_id"]

    def _assume_role(
        self, account_id: str, role_name: str, external_id: str, meter: _CallMeter
    ) -> boto3.session.Session:
        if not _ACCOUNT_ID.match(account_id or ""):
            raise ConnectorError(
                f"{account_id!r} is not a 12-digit AWS account id.",
                code="InvalidAccountId",
                operation="AssumeRole",
            )
        role_arn = f"arn:{self._partition()}:iam::{account_id}:role/{role_name.strip('/')}"
        sts = self._sts(self._session, meter)
        try:
            if external_id:
                response = sts.assume_role(
                    RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME, ExternalId=external_id
                )
            else:
                response = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)
        except (ClientError, BotoCoreError) as exc:
            raise _connector_error(exc, "AssumeRole") from exc
        credentials = response["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._default_region,
        )

    def _caller_identity(self, session: boto3.session.Session, meter: _CallMeter) -> dict[str, str]:
        try:
            response = self._sts(session, meter).get_caller_identity()
        except (ClientError, BotoCoreError) as exc:
            raise _connector_error(exc, "GetCallerIdentity") from exc
        return {
            "account_id": response.get("Account", ""),
            "arn": response.get("Arn", ""),
            "user_id": response.get("UserId", ""),
        }

    def _iam(self, session: boto3.session.Session, meter: _CallMeter) -> IAMClient:
        client = session.client("iam", region_name=self._default_region, config=self._config)
        meter.attach(client)
        return client

    def _sts(self, session: boto3.session.Session, meter: _CallMeter) -> STSClient:
        client = session.client("sts", region_name=self._default_region, config=self._config)
        meter.attach(client)
        return client

    def _organizations(
        self, session: boto3.session.Session, meter: _CallMeter
    ) -> OrganizationsClient:
        client = session.client(
            "organizations", region_name=self._default_region, config=self._config
        )
        meter.attach(client)
        return client

    def _secrets(
        self, session: boto3.session.Session, region: str, meter: _CallMeter
    ) -> SecretsManagerClient:
        client = session.client("secretsmanager", region_name=region, config=self._config)
        meter.attach(client)
        return client

    # --- reading -------------------------------------------------------------------------------

    def _read_authorization_details(
        self, iam: IAMClient, inventory: AccountInventory
    ) -> _IamSnapshot | None:
        """Step 1: one paginated GetAccountAuthorizationDetails; None when it was refused."""
        snapshot = _IamSnapshot()
        paginator = iam.get_paginator("get_account_authorization_details")
        pages = paginator.paginate(
            Filter=AUTHORIZATION_DETAILS_FILTER,  # type: ignore[arg-type]
            PaginationConfig={"PageSize": AUTHORIZATION_DETAILS_PAGE_SIZE},
        )
        read_any = False
        try:
            for page in pages:
                snapshot.add_page(page)
                read_any = True
        except (ClientError, BotoCoreError) as exc:
            _record_error(inventory, exc, "GetAccountAuthorizationDetails")
        return snapshot if read_any else None

    def _read_credential_report(
        self, iam: IAMClient, inventory: AccountInventory
    ) -> dict[str, _ReportRow] | None:
        """Step 2: generate (poll until COMPLETE, bounded) and parse the credential report."""
        try:
            if not self._wait_for_credential_report(iam):
                inventory.errors.append(
                    {
                        "operation": "GenerateCredentialReport",
                        "region": "",
                        "code": "ReportTimeout",
                        "message": "The credential report was not complete after "
                        f"{self._report_timeout:g} seconds.",
                    }
                )
                inventory.complete = False
                return None
            response = iam.get_credential_report()
        except (ClientError, BotoCoreError) as exc:
            _record_error(inventory, exc, "GetCredentialReport")
            return None
        try:
            return parse_credential_report(response.get("Content", b""))
        except (ValueError, csv.Error) as exc:
            inventory.errors.append(
                {
                    "operation": "GetCredentialReport",
                    "region": "",
                    "code": "ReportUnparseable",
                    "message": str(exc),
                }
            )
            inventory.complete = False
            return None

    def _wait_for_credential_report(self, iam: IAMClient) -> bool:
        started = time.monotonic()
        waited = 0.0
        delay = 1.0
        while True:
            if iam.generate_credential_report().get("State") == "COMPLETE":
                return True
            remaining = self._report_timeout - max(waited, time.monotonic() - started)
            if remaining <= 0:
                return False
            pause = min(delay, remaining)
            self._sleep(pause)
            waited += pause
            delay = min(delay * 2, _REPORT_MAX_POLL_DELAY)

    def _read_access_keys(
        self,
        iam: IAMClient,
        snapshot: _IamSnapshot | None,
        report: dict[str, _ReportRow] | None,
        inventory: AccountInventory,
    ) -> dict[str, list[CredentialRecord]]:
        """Step 3: access key credentials per user name.

        ListAccessKeys only for users whose report row shows a key (or who are newer than the
        report); GetAccessKeyLastUsed only for keys the report has no column for.
        """
        if snapshot is None or report is None:
            return {}
        keys: dict[str, list[CredentialRecord]] = {}
        for detail in snapshot.users:
            name = detail.get("UserName", "")
            row = report.get(name)
            if not self._list_access_key_ids:
                keys[name] = _report_only_key_credentials(row) if row else []
                continue
            if row is not None and not row.keys:
                continue
            try:
                listed = iam.list_access_keys(UserName=name).get("AccessKeyMetadata", [])
                keys[name] = [
                    self._key_credential(iam, key, column)
                    for key, column in match_access_keys(listed, row.keys if row else ())
                ]
            except (ClientError, BotoCoreError) as exc:
                _record_error(inventory, exc, "ListAccessKeys")
                keys[name] = _report_only_key_credentials(row) if row else []
        return keys

    def _key_credential(
        self, iam: IAMClient, key: Mapping[str, Any], column: _ReportKey | None
    ) -> CredentialRecord:
        key_id = key.get("AccessKeyId", "")
        created_at = _utc(key.get("CreateDate"))
        status = _key_status(key.get("Status") == "Active")
        if column is not None:
            record = _report_key_credential(column, key_id)
            return CredentialRecord(
                kind=record.kind,
                native_id=key_id,
                status=status,
                created_at=created_at or record.created_at,
                last_used_at=record.last_used_at,
                last_used_service=record.last_used_service,
                last_used_region=record.last_used_region,
                last_rotated_at=created_at or record.last_rotated_at,
                attributes=record.attributes,
            )
        used = iam.get_access_key_last_used(AccessKeyId=key_id).get("AccessKeyLastUsed", {})
        return CredentialRecord(
            kind=str(CredentialKind.ACCESS_KEY),
            native_id=key_id,
            status=status,
            created_at=created_at,
            last_used_at=_utc(used.get("LastUsedDate")),
            last_used_service=_report_text(used.get("ServiceName")),
            last_used_region=_report_text(used.get("Region")),
            last_rotated_at=created_at,
        )

    def _iam_identities(
        self,
        session: boto3.session.Session,
        account_id: str,
        snapshot: _IamSnapshot | None,
        report: dict[str, _ReportRow] | None,
        keys: Mapping[str, list[CredentialRecord]],
    ) -> list[IdentityRecord]:
        identities: list[IdentityRecord] = []
        if report is not None and ROOT_ROW in report:
            identities.append(build_root(report[ROOT_ROW], account_id, self._partition()))
        if snapshot is None:
            return identities
        for detail in snapshot.users:
            name = detail.get("UserName", "")
            row = report.get(name) if report is not None else None
            identities.append(build_user(detail, snapshot, row, keys.get(name, [])))
        roles = {
            detail.get("RoleName", ""): build_role(detail, snapshot) for detail in snapshot.roles
        }
        identities.extend(roles.values())
        identities.extend(build_instance_profiles(snapshot.roles, roles))
        return identities

    def _read_secrets(
        self, client: SecretsManagerClient, region: str, inventory: AccountInventory
    ) -> list[IdentityRecord]:
        """Step 4: secret metadata of one region (never GetSecretValue)."""
        secrets: list[IdentityRecord] = []
        pages = client.get_paginator("list_secrets").paginate(
            IncludePlannedDeletion=False,
            PaginationConfig={"PageSize": LIST_SECRETS_PAGE_SIZE},
        )
        try:
            for page in pages:
                secrets.extend(build_secret(entry, region) for entry in page.get("SecretList", []))
        except (ClientError, BotoCoreError) as exc:
            _record_error(inventory, exc, "ListSecrets", region)
        return secrets
