"""Records of the AWS connector: the IAM snapshot (GetAccountAuthorizationDetails) and policy
resolution, access key matching (:func:`match_access_keys`) and the identity builders
(:func:`build_user`, :func:`build_role`, :func:`build_instance_profiles`, :func:`build_root`,
:func:`build_secret`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from inventory.choices import CredentialKind, CredentialStatus, IdentityKind
from inventory.connectors.aws.parsing import (
    _iso,
    _ReportKey,
    _ReportRow,
    _tags,
    _utc,
    parse_document,
)
from inventory.connectors.base import CredentialRecord, IdentityRecord

SERVICE_LINKED_PATH_PREFIX = "/aws-service-role/"


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
