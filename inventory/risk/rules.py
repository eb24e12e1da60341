"""The rule catalogue (v1, /docs/rules.md) and its evaluation on one identity view (pure).

``evaluate(view, ctx)`` runs every rule that applies to the view's kind and returns one
:class:`FindingResult` per problem found. ``key`` tells several findings of one rule on one
identity apart (the access key id for AK-001/AK-002/LEAK-001, the account for ROLE-003/ROLE-004,
the provider for ROLE-005, the service for PRIV-002) and is ``""`` when a rule fires once per
identity. Evidence holds only JSON values (ISO dates, day counts, statements as written).

Thresholds come from ``ctx.thresholds`` (the admin's settings over :data:`DEFAULT_THRESHOLDS`); a
missing or unusable value falls back to the default. Day counts are whole days, floored.

When PRIV-001 fires (the identity may do anything) PRIV-002, PRIV-003 and PRIV-004 are not
reported separately: they are implied, and fixing PRIV-001 is the one action to take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from inventory.risk.evaluator import (
    PrivilegeAnalysis,
    TrustAnalysis,
    analyze_policies,
    analyze_trust,
)
from inventory.risk.tiers import risk_tier
from inventory.risk.view import CredentialView, IdentityView, RuleContext

DEFAULT_THRESHOLDS: Final[dict[str, int]] = {
    "key_unused_days": 45,  # AK-001: an active key unused this many days
    "key_new_grace_days": 7,  # AK-001: a key younger than this is never reported
    "key_max_age_days": 90,  # AK-002: an active key older than this
    "role_unused_days": 90,  # ROLE-001: a role unused (or never used since creation) this long
    "secret_rotation_days": 90,  # SEC-001: a secret not rotated for more than this
}

THRESHOLD_HELP: Final[dict[str, str]] = {
    "key_unused_days": "AK-001: days an active access key may go unused (never-used keys count "
    "from creation).",
    "key_new_grace_days": "AK-001: a key younger than this many days is never reported.",
    "key_max_age_days": "AK-002: maximum age in days of an active access key.",
    "role_unused_days": "ROLE-001: days a role may go unused.",
    "secret_rotation_days": "SEC-001: days a secret may go without rotation.",
}

SEVERITIES: Final[tuple[str, ...]] = ("critical", "high", "medium", "low")

USER: Final = "iam_user"
ROLE: Final = "iam_role"
ROOT: Final = "root"
SECRET: Final = "secret"  # noqa: S105 (an identity kind)
INSTANCE_PROFILE: Final = "instance_profile"
ALL_KINDS: Final[tuple[str, ...]] = (
    USER,
    ROLE,
    INSTANCE_PROFILE,
    SECRET,
    ROOT,
    "service_account",
    "token",
    "bot",
)
KEY_HOLDERS: Final[tuple[str, ...]] = (USER, "service_account", "bot", "token")
POLICY_HOLDERS: Final[tuple[str, ...]] = (USER, ROLE, INSTANCE_PROFILE, "service_account", "bot")


@dataclass(frozen=True, slots=True)
class Rule:
    """One catalogue entry; ``severity`` is the default (OWN-001 is high when privileged)."""

    id: str
    title: str
    severity: str
    owasp: tuple[str, ...]
    cis: str | None
    applies_to: tuple[str, ...]
    explanation: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "owasp": list(self.owasp),
            "cis": self.cis,
            "explanation": self.explanation,
            "fix": self.fix,
            "applies_to": list(self.applies_to),
        }


@dataclass(frozen=True, slots=True)
class FindingResult:
    """One problem found on one identity by one rule (``key`` "" when once per identity)."""

    rule_id: str
    severity: str
    key: str
    message: str
    evidence: dict[str, Any]


RULES: Final[dict[str, Rule]] = {
    r.id: r
    for r in (
        Rule(
            "AK-001",
            "Active access key unused",
            "high",
            ("NHI1", "NHI7"),
            "1.11",
            KEY_HOLDERS,
            "An access key that is switched on but has not been used for weeks is a standing "
            "credential nobody needs: if it leaks, nobody will notice it being used. Keys never "
            "used count from the day they were created; keys younger than the grace period are "
            "left alone.",
            "Confirm with the owner that nothing uses the key, then deactivate it; delete it after "
            "a quiet period. Prefer short-lived credentials (IAM roles, IAM Identity Center).",
        ),
        Rule(
            "AK-002",
            "Active access key not rotated",
            "medium",
            ("NHI7",),
            "1.13",
            KEY_HOLDERS,
            "A long-lived key that has never been replaced has had more time to be copied into "
            "scripts, laptops and logs. CIS asks for rotation at least every 90 days.",
            "Create a second key, move the workload to it, deactivate and then delete the old "
            "one; better, replace the key with a role the workload can assume.",
        ),
        Rule(
            "AK-003",
            "More than one active access key",
            "medium",
            ("NHI7", "NHI9"),
            "1.12",
            KEY_HOLDERS,
            "Two active keys on one user usually means a rotation that was never finished, or "
            "one identity shared by several workloads.",
            "Find which key is in use (last used date and service), deactivate the other, and "
            "give separate workloads separate identities.",
        ),
        Rule(
            "AK-004",
            "Root account has access keys",
            "critical",
            ("NHI5", "NHI7"),
            "1.3",
            (ROOT,),
            "The root user can do anything in the account, including closing it, and its "
            "permissions cannot be limited. A root access key is the most dangerous credential "
            "an AWS account can have.",
            "Sign in as root, move whatever uses the key to an IAM role, then delete the root "
            "access key. Keep root for the few tasks that need it, with MFA.",
        ),
        Rule(
            "USR-001",
            "Machine user with a console password",
            "medium",
            ("NHI10",),
            None,
            (USER,),
            "An identity used by software (it has access keys) that also has a console password "
            "is being used by a person as well: actions cannot be told apart and the password "
            "widens what can be stolen.",
            "Remove the console password (delete the login profile) and give the person their "
            "own identity, ideally through IAM Identity Center.",
        ),
        Rule(
            "USR-002",
            "User with policies attached directly",
            "low",
            ("NHI5",),
            "1.14",
            (USER,),
            "Permissions attached to a single user instead of a group or role are hard to review "
            "and tend to accumulate.",
            "Move the permissions into a group (or a role the workload assumes) and detach the "
            "user's inline and managed policies.",
        ),
        Rule(
            "OWN-001",
            "Identity without an owner",
            "medium",
            ("NHI1",),
            None,
            ALL_KINDS,
            "Nobody answers for this identity: it has no owner, its owner has left, or its owner "
            "tag names nobody known. Orphans are never reviewed and never cleaned up. Reported "
            "as high when the identity is privileged.",
            "Find who uses it (last use, tags, CloudTrail) and assign an owner or team; if "
            "nobody claims it, disable it and schedule deletion.",
        ),
        Rule(
            "ROLE-001",
            "Role unused",
            "medium",
            ("NHI1",),
            None,
            (ROLE,),
            "A role nobody has assumed for months (or never, since it was created long ago) is "
            "unneeded access that can still be abused through its trust policy.",
            "Check with the owner, then delete the role (or remove its policies first and delete "
            "it after a quiet period). Service-linked roles are not reported.",
        ),
        Rule(
            "ROLE-002",
            "Role trusts everyone",
            "critical",
            ("NHI6",),
            None,
            (ROLE,),
            'The trust policy lets any AWS principal in the world ("*") assume the role, with no '
            "condition (organization, source account, external id) restricting who.",
            "Replace the wildcard principal with the exact accounts or roles that need access, or "
            "add an aws:PrincipalOrgID / aws:SourceAccount condition.",
        ),
        Rule(
            "ROLE-003",
            "Role trusts an unknown account",
            "high",
            ("NHI3",),
            None,
            (ROLE,),
            "The trust policy lets an AWS account outside your organization and outside the "
            "allow-list of trusted third parties assume the role.",
            "Confirm who owns the account. Remove it from the trust policy, or, if it is a vendor "
            "you trust, add it to the allow-list in the risk settings.",
        ),
        Rule(
            "ROLE-004",
            "Third-party trust without an external id",
            "high",
            ("NHI3",),
            None,
            (ROLE,),
            "A role trusted by another company's account without an sts:ExternalId condition "
            "is open to the confused-deputy problem: any of the vendor's other customers can "
            "get the vendor to act in your account.",
            "Ask the vendor for the external id they assigned to you and require it with a "
            'StringEquals condition on "sts:ExternalId".',
        ),
        Rule(
            "ROLE-005",
            "Web identity trust without a subject condition",
            "critical",
            ("NHI6",),
            None,
            (ROLE,),
            "The role trusts an OIDC provider (GitHub Actions, EKS, GitLab...) without pinning "
            "the token's subject: any repository or workload of that provider, including other "
            "people's, can assume it.",
            "Add a StringEquals (or narrow StringLike) condition on <provider>:sub naming the "
            'repository and branch or service account, and on <provider>:aud ("sts.amazonaws.com" '
            "for GitHub).",
        ),
        Rule(
            "PRIV-001",
            "Full administrator access",
            "critical",
            ("NHI5",),
            "1.16",
            POLICY_HOLDERS,
            'The identity is allowed every action on every resource ("Action": "*" on '
            '"Resource": "*", or a NotAction leaving almost everything), with no Deny taking it '
            "back. Anyone holding its credentials owns the account.",
            "Replace the administrator policy with one listing the actions and resources the "
            "workload needs (IAM Access Analyzer can generate one from CloudTrail).",
        ),
        Rule(
            "PRIV-002",
            "Wildcard on a sensitive service",
            "high",
            ("NHI5",),
            None,
            POLICY_HOLDERS,
            "The identity may perform every action of IAM, STS, KMS or Secrets Manager on every "
            "resource: it can mint credentials, read every secret or decrypt everything.",
            "List the specific actions needed and scope them to specific resources.",
        ),
        Rule(
            "PRIV-003",
            "Privilege-escalation path",
            "critical",
            ("NHI5",),
            None,
            POLICY_HOLDERS,
            "The identity's permissions, taken together, contain a published privilege-"
            "escalation combination: it can grant itself more access (e.g. create a policy "
            "version, or pass a privileged role to a new Lambda function and invoke it).",
            "Remove one of the actions of each path, or scope them to specific resources (for "
            "iam:PassRole, the exact role ARNs; for IAM writes, the identity's own path).",
        ),
        Rule(
            "PRIV-004",
            "iam:PassRole on every role",
            "high",
            ("NHI5",),
            None,
            POLICY_HOLDERS,
            'iam:PassRole on "Resource": "*" lets the identity hand any role in the account, '
            "including administrator roles, to a service it controls.",
            "Restrict iam:PassRole to the role ARNs the workload must pass, and add an "
            "iam:PassedToService condition.",
        ),
        Rule(
            "SEC-001",
            "Secret not rotated",
            "medium",
            ("NHI7",),
            None,
            ALL_KINDS,
            "A secret whose automatic rotation is off, or that has not been rotated for months, "
            "stays valid wherever it was ever copied.",
            "Turn on automatic rotation in Secrets Manager (a rotation Lambda or managed "
            "rotation), or rotate it by hand and record when.",
        ),
        Rule(
            "LEAK-001",
            "Access key found in a code repository",
            "critical",
            ("NHI2",),
            None,
            ALL_KINDS,
            "A secret scanner found this identity's access key id in source code or history. "
            "Assume the key is compromised.",
            "Deactivate the key now, check CloudTrail for its use since the commit date, create a "
            "new credential (or move to a role), and purge the secret from the repository "
            "history.",
        ),
    )
}

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def threshold(ctx: RuleContext, name: str) -> int:
    """The admin's value for ``name``, or the catalogue default when missing or unusable."""
    value = ctx.thresholds.get(name) if isinstance(ctx.thresholds, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return DEFAULT_THRESHOLDS[name]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _date(value: Any) -> datetime | None:
    """A datetime from a datetime or an ISO string (attributes hold strings); else None."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str) and value:
        try:
            return _aware(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def days_between(now: datetime, then: datetime) -> int:
    """Whole days from ``then`` to ``now`` (0 when ``then`` is in the future; naive = UTC)."""
    return max(0, (_aware(now) - _aware(then)).days)


def _iso(value: datetime | None) -> str | None:
    return _aware(value).isoformat() if value is not None else None


def mask_key(key_id: str) -> str:
    """``AKIA…WXYZ``: enough to recognise an access key id in a message."""
    return f"{key_id[:4]}…{key_id[-4:]}" if len(key_id) > 8 else key_id


def _attrs(value: Any) -> dict[str, Any]:
    """An attributes mapping as stored (JSON from the database: anything); {} when not a dict."""
    return value if isinstance(value, dict) else {}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on", "enabled")
    return value is True or (isinstance(value, int | float) and value != 0)


def _access_keys(view: IdentityView, *, active_only: bool = True) -> list[CredentialView]:
    return [
        c
        for c in view.credentials
        if c.kind == "access_key" and (not active_only or c.status == "active")
    ]


def _describe(view: IdentityView) -> str:
    labels = {
        USER: "User",
        ROLE: "Role",
        INSTANCE_PROFILE: "Instance profile",
        SECRET: "Secret",
        ROOT: "Root account",
    }
    return f"{labels.get(view.kind, 'Identity')} {view.name}"


def _through(statements: Any) -> str:
    """The policies granting something, for a message: ``PowerUserAccess via group developers``."""
    names: set[str] = set()
    for st in statements if isinstance(statements, list | tuple) else []:
        if not isinstance(st, dict):
            continue
        name = str(st.get("policy") or "an unnamed policy")
        if st.get("group"):
            name += f" via group {st['group']}"
        elif st.get("role"):
            name += f" via role {st['role']}"
        names.add(name)
    return ", ".join(sorted(names))


def _ago(now: datetime, then: datetime | None, *, never: str = "never used") -> str:
    """``last used 3 days ago`` / ``never used``."""
    if then is None:
        return never
    days = days_between(now, then)
    return f"last used {days} day{'s' if days != 1 else ''} ago"


# Tag keys that name an owner (nhigov.settings NHIGOV_OWNER_TAG_KEYS' defaults), shown in OWN-001.
_OWNER_TAG_KEYS: Final = frozenset(
    {"owner", "owner-email", "contact", "team", "created-by", "createdby", "creator"}
)


def _owner_tags(view: IdentityView) -> dict[str, str]:
    tags = view.tags if isinstance(view.tags, dict) else {}
    return {
        str(k): str(v)
        for k, v in tags.items()
        if isinstance(k, str) and k.lower() in _OWNER_TAG_KEYS and str(v).strip()
    }


def _finding(
    rule_id: str,
    message: str,
    evidence: dict[str, Any],
    *,
    key: str = "",
    severity: str | None = None,
) -> FindingResult:
    return FindingResult(rule_id, severity or RULES[rule_id].severity, key, message, evidence)


@dataclass(frozen=True, slots=True)
class _Pass:
    """What one evaluation computes once and several rules share."""

    view: IdentityView
    ctx: RuleContext
    privileges: PrivilegeAnalysis
    trust: TrustAnalysis | None
    known_privileged: bool | None = None  # given when the policies are not analysed again

    @property
    def privileged(self) -> bool:
        if self.known_privileged is not None:
            return self.view.kind == ROOT or self.known_privileged
        return self.view.kind == ROOT or self.privileges.privileged


# --------------------------------------------------------------------------------------------
# Access keys
# --------------------------------------------------------------------------------------------


def _ak_001(p: _Pass) -> list[FindingResult]:
    unused_days = threshold(p.ctx, "key_unused_days")
    grace = threshold(p.ctx, "key_new_grace_days")
    out: list[FindingResult] = []
    for key in _access_keys(p.view):
        created = _date(key.created_at)
        last_used = _date(key.last_used_at)
        age = days_between(p.ctx.now, created) if created else None
        if age is not None and age < grace:
            continue
        if last_used is not None:
            idle = days_between(p.ctx.now, last_used)
            what = f"has not been used for {idle} days"
        elif age is not None:
            idle = age
            what = f"was created {age} days ago and has never been used"
        else:
            continue
        if idle < unused_days:
            continue
        out.append(
            _finding(
                "AK-001",
                f"Access key {mask_key(key.native_id)} of {p.view.name} {what} "
                f"(threshold {unused_days} days).",
                {
                    "access_key_id": key.native_id,
                    "created_at": _iso(created),
                    "last_used_at": _iso(last_used),
                    "last_used_service": key.last_used_service or None,
                    "last_used_region": key.last_used_region or None,
                    "never_used": last_used is None,
                    "days_unused": idle,
                    "threshold_days": unused_days,
                    "grace_days": grace,
                },
                key=key.native_id,
            )
        )
    return out


def _ak_002(p: _Pass) -> list[FindingResult]:
    max_age = threshold(p.ctx, "key_max_age_days")
    out: list[FindingResult] = []
    for key in _access_keys(p.view):
        created = _date(key.created_at)
        if created is None:
            continue
        age = days_between(p.ctx.now, created)
        if age <= max_age:
            continue
        out.append(
            _finding(
                "AK-002",
                f"Access key {mask_key(key.native_id)} of {p.view.name} is {age} days old "
                f"(threshold {max_age} days) and has not been rotated.",
                {
                    "access_key_id": key.native_id,
                    "created_at": _iso(created),
                    "age_days": age,
                    "threshold_days": max_age,
                },
                key=key.native_id,
            )
        )
    return out


def _ak_003(p: _Pass) -> list[FindingResult]:
    keys = _access_keys(p.view)
    if len(keys) <= 1:
        return []
    listing = "; ".join(
        f"{mask_key(k.native_id)} {_ago(p.ctx.now, _date(k.last_used_at))}" for k in keys
    )
    return [
        _finding(
            "AK-003",
            f"{_describe(p.view)} has {len(keys)} active access keys ({listing}); at most one "
            "should be active.",
            {
                "active_keys": [
                    {
                        "access_key_id": k.native_id,
                        "created_at": _iso(_date(k.created_at)),
                        "last_used_at": _iso(_date(k.last_used_at)),
                    }
                    for k in keys
                ],
                "count": len(keys),
            },
        )
    ]


def _ak_004(p: _Pass) -> list[FindingResult]:
    keys = _access_keys(p.view)
    if not keys:
        return []
    listing = ", ".join(mask_key(k.native_id) for k in keys)
    return [
        _finding(
            "AK-004",
            f"The root account of {p.view.account_id} has {len(keys)} active access "
            f"key{'s' if len(keys) > 1 else ''} ({listing}).",
            {
                "account_id": p.view.account_id,
                "access_keys": [
                    {
                        "access_key_id": k.native_id,
                        "status": k.status,
                        "created_at": _iso(_date(k.created_at)),
                        "last_used_at": _iso(_date(k.last_used_at)),
                    }
                    for k in keys
                ],
            },
        )
    ]


# --------------------------------------------------------------------------------------------
# Users and owners
# --------------------------------------------------------------------------------------------


def _usr_001(p: _Pass) -> list[FindingResult]:
    view = p.view
    keys = _access_keys(view)
    passwords = [c for c in view.credentials if c.kind == "password" and c.status == "active"]
    has_password = _truthy(_attrs(view.attributes).get("password_enabled")) or bool(passwords)
    if view.classification != "machine_used_by_person" and not (keys and has_password):
        return []
    sign_in = _date(_attrs(view.attributes).get("password_last_used")) or next(
        (_date(c.last_used_at) for c in passwords if c.last_used_at), None
    )
    when = (
        f"last console sign-in {days_between(p.ctx.now, sign_in)} days ago"
        if sign_in
        else "never signed in to the console"
    )
    return [
        _finding(
            "USR-001",
            f"{_describe(view)} has {len(keys)} active access key{'s' if len(keys) != 1 else ''} "
            f"and a console password ({when}): a person is using a machine identity.",
            {
                "classification": view.classification,
                "access_key_ids": [k.native_id for k in keys],
                "password_enabled": has_password,
                "mfa_active": _truthy(_attrs(view.attributes).get("mfa_active")),
                "password_last_used": _iso(sign_in),
            },
        )
    ]


def _usr_002(p: _Pass) -> list[FindingResult]:
    direct = [
        pol
        for pol in (p.view.policies if isinstance(p.view.policies, list) else [])
        if isinstance(pol, dict) and pol.get("source") in ("inline", "managed")
    ]
    if not direct:
        return []
    inline = [str(pol.get("name", "")) for pol in direct if pol.get("source") == "inline"]
    managed = [str(pol.get("name", "")) for pol in direct if pol.get("source") == "managed"]
    parts = []
    if inline:
        parts.append("inline: " + ", ".join(inline))
    if managed:
        parts.append("managed: " + ", ".join(managed))
    return [
        _finding(
            "USR-002",
            f"{_describe(p.view)} has {len(direct)} polic{'ies' if len(direct) > 1 else 'y'} "
            f"attached directly ({'; '.join(parts)}) instead of through a group or role.",
            {
                "inline_policies": inline,
                "managed_policies": [
                    {"name": str(pol.get("name", "")), "arn": str(pol.get("arn", ""))}
                    for pol in direct
                    if pol.get("source") == "managed"
                ],
            },
        )
    ]


def _service_linked(view: IdentityView) -> bool:
    return view.path.startswith("/aws-service-role/") or _truthy(
        _attrs(view.attributes).get("service_linked")
    )


def _own_001(p: _Pass) -> list[FindingResult]:
    view = p.view
    if view.classification == "human" or _service_linked(view):
        return []
    owner_tags = _owner_tags(view)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(owner_tags.items()))
    if not view.has_owner:
        if view.owner_unmatched:
            reason = "unmatched"
            text = f"its owner tag names nobody known ({view.owner_raw!r})"
        else:
            reason = "none"
            text = "it has no owner (no owner, team or created-by tag)"
    elif not view.owner_active:
        reason = "owner_left"
        text = "its owner has left or been deactivated" + (
            f" ({view.owner_raw})" if view.owner_raw else f" (tags: {shown})" if shown else ""
        )
    else:
        return []
    privileged = p.privileged
    severity = "high" if privileged else "medium"
    return [
        _finding(
            "OWN-001",
            f"{_describe(view)} is an orphan: {text}."
            + (" It is privileged, so this is rated high." if privileged else ""),
            {
                "reason": reason,
                "owner_raw": view.owner_raw or None,
                "has_owner": view.has_owner,
                "owner_active": view.owner_active,
                "owner_unmatched": view.owner_unmatched,
                "owner_tags": owner_tags,
                "privileged": privileged,
            },
            severity=severity,
        )
    ]


# --------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------


def _role_001(p: _Pass) -> list[FindingResult]:
    view = p.view
    if _service_linked(view):
        return []
    limit = threshold(p.ctx, "role_unused_days")
    last_used = _date(view.last_used_at)
    created = _date(view.created_at)
    if last_used is not None:
        idle = days_between(p.ctx.now, last_used)
        what = f"has not been used for {idle} days"
    elif created is not None:
        idle = days_between(p.ctx.now, created)
        what = f"was created {idle} days ago and has never been used"
    else:
        return []
    if idle < limit:
        return []
    return [
        _finding(
            "ROLE-001",
            f"Role {view.name} {what} (threshold {limit} days).",
            {
                "created_at": _iso(created),
                "last_used_at": _iso(last_used),
                "never_used": last_used is None,
                "days_unused": idle,
                "threshold_days": limit,
            },
        )
    ]


def _role_002(p: _Pass) -> list[FindingResult]:
    if p.trust is None or not p.trust.unrestricted_public:
        return []
    grants = p.trust.unrestricted_public
    return [
        _finding(
            "ROLE-002",
            f"Role {p.view.name} can be assumed by anyone: its trust policy allows principal "
            f"{', '.join(sorted({g.principal for g in grants}))} with no restricting condition.",
            {
                "principals": sorted({g.principal for g in grants}),
                "statements": [g.statement for g in grants],
            },
        )
    ]


def _role_003(p: _Pass) -> list[FindingResult]:
    if p.trust is None:
        return []
    by_account: dict[str, list[Any]] = {}
    for grant in p.trust.outside_accounts:
        by_account.setdefault(grant.account_id, []).append(grant)
    return [
        _finding(
            "ROLE-003",
            f"Role {p.view.name} trusts AWS account {account}, which is neither in your "
            "organization nor on the allow-list ("
            + (
                "it requires an sts:ExternalId"
                if all(g.external_id_required for g in grants)
                else "it requires no sts:ExternalId"
            )
            + ").",
            {
                "account_id": account,
                "principals": sorted({g.principal for g in grants}),
                "external_id_required": all(g.external_id_required for g in grants),
                "statements": [g.statement for g in grants],
            },
            key=account,
        )
        for account, grants in by_account.items()
    ]


def _role_004(p: _Pass) -> list[FindingResult]:
    if p.trust is None:
        return []
    by_account: dict[str, list[Any]] = {}
    for grant in p.trust.third_party_without_external_id:
        by_account.setdefault(grant.account_id, []).append(grant)
    return [
        _finding(
            "ROLE-004",
            f"Role {p.view.name} trusts third-party account {account} without requiring an "
            "sts:ExternalId.",
            {
                "account_id": account,
                "relation": grants[0].relation,
                "principals": sorted({g.principal for g in grants}),
                "statements": [g.statement for g in grants],
            },
            key=account,
        )
        for account, grants in by_account.items()
    ]


def _role_005(p: _Pass) -> list[FindingResult]:
    if p.trust is None:
        return []
    out: list[FindingResult] = []
    seen: set[str] = set()
    for grant in p.trust.unrestricted_oidc:
        if grant.provider in seen:
            continue
        seen.add(grant.provider)
        same = [g for g in p.trust.unrestricted_oidc if g.provider == grant.provider]
        missing = "sub" if grant.aud_restricted else "sub and aud"
        out.append(
            _finding(
                "ROLE-005",
                f"Role {p.view.name} trusts web identities from {grant.provider} without a "
                f"condition on {missing}: any workload of that provider can assume it.",
                {
                    "provider": grant.provider,
                    "principal": grant.principal,
                    "sub_restricted": grant.sub_restricted,
                    "aud_restricted": grant.aud_restricted,
                    "aud_values": list(grant.aud_values),
                    "statements": [g.statement for g in same],
                },
                key=grant.provider,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Privileges
# --------------------------------------------------------------------------------------------


def _priv_001(p: _Pass) -> list[FindingResult]:
    if not p.privileges.admin:
        return []
    statements = list(p.privileges.admin)
    return [
        _finding(
            "PRIV-001",
            f"{_describe(p.view)} is allowed {_admin_scope(statements)} "
            f"(through {_through(statements)}).",
            {"statements": statements},
        )
    ]


def _admin_scope(statements: list[dict[str, Any]]) -> str:
    """``every action on every resource``, or what a NotAction / NotResource leaves out."""
    raw = [st["statement"] for st in statements if isinstance(st.get("statement"), dict)]
    actions = "every action"
    if raw and all("NotAction" in st for st in raw):
        # Several NotAction grants together allow more; the narrowest exclusion list is the truth.
        excluded = min(
            (
                st["NotAction"] if isinstance(st["NotAction"], list) else [st["NotAction"]]
                for st in raw
            ),
            key=len,
        )
        actions += " except " + ", ".join(str(a) for a in excluded)
    if raw and all("NotResource" in st for st in raw):
        return f"{actions} on every resource but a few (NotResource)"
    return f"{actions} on every resource"


def _priv_002(p: _Pass) -> list[FindingResult]:
    if p.privileges.admin:
        return []
    return [
        _finding(
            "PRIV-002",
            f"{_describe(p.view)} may perform every {service} action ({service}:*) on every "
            f"resource (through {_through(statements)}).",
            {"service": service, "statements": statements},
            key=service,
        )
        for service, statements in p.privileges.service_wildcards.items()
    ]


def _priv_003(p: _Pass) -> list[FindingResult]:
    paths = p.privileges.escalations
    if p.privileges.admin or not paths:
        return []
    shown = "; ".join(f"{path['name']} ({' + '.join(path['actions'])})" for path in paths[:3])
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return [
        _finding(
            "PRIV-003",
            f"{_describe(p.view)} can escalate its privileges by {len(paths)} known "
            f"path{'s' if len(paths) > 1 else ''}: {shown}{more}.",
            {"paths": list(paths), "path_ids": [path["id"] for path in paths]},
        )
    ]


def _priv_004(p: _Pass) -> list[FindingResult]:
    if p.privileges.admin or not p.privileges.pass_role:
        return []
    return [
        _finding(
            "PRIV-004",
            f'{_describe(p.view)} may pass any role (iam:PassRole on "*") to AWS services '
            f"(through {_through(p.privileges.pass_role)}).",
            {"statements": list(p.privileges.pass_role)},
        )
    ]


# --------------------------------------------------------------------------------------------
# Secrets and leaks
# --------------------------------------------------------------------------------------------


def _secret_status(
    p: _Pass, *, attributes: dict[str, Any], credential: CredentialView | None, key: str, label: str
) -> FindingResult | None:
    limit = threshold(p.ctx, "secret_rotation_days")
    cred_attributes = _attrs(credential.attributes) if credential is not None else {}
    enabled_raw = attributes.get("rotation_enabled", cred_attributes.get("rotation_enabled"))
    enabled = _truthy(enabled_raw)
    last_rotated = _date(attributes.get("last_rotated_at")) or (
        _date(credential.last_rotated_at) if credential is not None else None
    )
    if credential is not None and credential.created_at is not None:
        created = _date(credential.created_at)
    else:
        created = _date(p.view.created_at)
    schedule = attributes.get("rotation_days", cred_attributes.get("rotation_days"))
    evidence: dict[str, Any] = {
        "rotation_enabled": enabled,
        "rotation_days": schedule if isinstance(schedule, int) else None,
        "last_rotated_at": _iso(last_rotated),
        "created_at": _iso(created),
        "threshold_days": limit,
    }
    if last_rotated is not None:
        since = days_between(p.ctx.now, last_rotated)
        evidence["days_since_rotation"] = since
        rotation_text = f"last rotated {since} days ago"
    elif created is not None:
        since = days_between(p.ctx.now, created)
        evidence["days_since_creation"] = since
        rotation_text = f"never rotated since it was created {since} days ago"
    else:
        since = None
        rotation_text = "never rotated"
    if not enabled:
        evidence["reason"] = "rotation_disabled"
        message = f"{label} has automatic rotation turned off ({rotation_text})."
    elif since is not None and since > limit:
        evidence["reason"] = "not_rotated"
        every = f" (every {schedule} days)" if isinstance(schedule, int) and schedule > 0 else ""
        message = (
            f"{label} has rotation enabled{every} but was {rotation_text} (threshold {limit} "
            "days): check that its rotation function still succeeds."
        )
    else:
        return None
    return _finding("SEC-001", message, evidence, key=key)


def _sec_001(p: _Pass) -> list[FindingResult]:
    view = p.view
    secrets = [c for c in view.credentials if c.kind == "secret"]
    if view.kind == SECRET:
        found = _secret_status(
            p,
            attributes=_attrs(view.attributes),
            credential=secrets[0] if secrets else None,
            key="",
            label=f"Secret {view.name}",
        )
        return [found] if found else []
    out: list[FindingResult] = []
    for cred in secrets:
        found = _secret_status(
            p,
            attributes=_attrs(cred.attributes),
            credential=cred,
            key=cred.native_id,
            label=f"Secret {cred.native_id} of {view.name}",
        )
        if found:
            out.append(found)
    return out


_LEAK_FIELDS = ("tool", "repository", "file", "commit", "author", "line", "date", "rule")


def _leak_001(p: _Pass) -> list[FindingResult]:
    leaked = p.ctx.leaked_keys
    if not leaked:
        return []
    out: list[FindingResult] = []
    for cred in p.view.credentials:
        reports = leaked.get(cred.native_id)
        if not reports:
            continue
        clean = [
            {f: r.get(f) for f in _LEAK_FIELDS if r.get(f) not in (None, "")}
            for r in (reports if isinstance(reports, list) else [reports])
            if isinstance(r, dict)
        ]
        places = sorted({f"{r.get('repository', '?')}/{r.get('file', '?')}" for r in clean})
        dates = sorted(str(r["date"])[:10] for r in clean if r.get("date"))
        since = f", committed on {dates[0]}" if dates else ""
        out.append(
            _finding(
                "LEAK-001",
                f"Access key {mask_key(cred.native_id)} of {p.view.name} ({cred.status}, "
                f"{_ago(p.ctx.now, _date(cred.last_used_at))}) was found "
                f"in {len(clean)} place{'s' if len(clean) != 1 else ''} by a secret scanner: "
                f"{', '.join(places[:3])}{' and more' if len(places) > 3 else ''}{since}.",
                {
                    "access_key_id": cred.native_id,
                    "status": cred.status,
                    "last_used_at": _iso(_date(cred.last_used_at)),
                    "reports": clean,
                },
                key=cred.native_id,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

_CHECKS: Final[dict[str, Callable[[_Pass], list[FindingResult]]]] = {
    "AK-001": _ak_001,
    "AK-002": _ak_002,
    "AK-003": _ak_003,
    "AK-004": _ak_004,
    "USR-001": _usr_001,
    "USR-002": _usr_002,
    "OWN-001": _own_001,
    "ROLE-001": _role_001,
    "ROLE-002": _role_002,
    "ROLE-003": _role_003,
    "ROLE-004": _role_004,
    "ROLE-005": _role_005,
    "PRIV-001": _priv_001,
    "PRIV-002": _priv_002,
    "PRIV-003": _priv_003,
    "PRIV-004": _priv_004,
    "SEC-001": _sec_001,
    "LEAK-001": _leak_001,
}


# Per identity kind, the checks of the rules that apply to it, in catalogue order.
_CHECKS_BY_KIND: Final[dict[str, tuple[Callable[[_Pass], list[FindingResult]], ...]]] = {
    kind: tuple(check for rule_id, check in _CHECKS.items() if kind in RULES[rule_id].applies_to)
    for kind in ALL_KINDS
}


# The rules whose result depends only on the identity's policies, trust policy, kind, name and
# account, and on the organization's and allow-listed accounts: never on time, credentials,
# owners or leaks. A pass may carry their findings over for an identity whose discovered content
# and those accounts have not changed since they were computed (:func:`evaluate_without_policies`).
POLICY_RULES: Final = frozenset(
    {"USR-002", "ROLE-002", "ROLE-003", "ROLE-004", "ROLE-005"}
    | {"PRIV-001", "PRIV-002", "PRIV-003", "PRIV-004"}
)
# An identity is privileged when it is root or one of these fires (:func:`evaluate_with_privilege`).
PRIVILEGE_RULES: Final = frozenset({"PRIV-001", "PRIV-002", "PRIV-003"})
_NOT_ANALYSED: Final = PrivilegeAnalysis((), {}, (), (), 0)

_OTHER_CHECKS_BY_KIND: Final[dict[str, tuple[Callable[[_Pass], list[FindingResult]], ...]]] = {
    kind: tuple(
        check
        for rule_id, check in _CHECKS.items()
        if kind in RULES[rule_id].applies_to and rule_id not in POLICY_RULES
    )
    for kind in ALL_KINDS
}


def _prepare(view: IdentityView, ctx: RuleContext) -> _Pass:
    trust = None
    if view.kind == ROLE and view.trust_policy is not None:
        trust = analyze_trust(
            view.trust_policy,
            own_account_id=view.account_id,
            organization_account_ids=ctx.organization_account_ids,
            trusted_account_ids=ctx.trusted_account_ids,
        )
    return _Pass(view=view, ctx=ctx, privileges=analyze_policies(view.policies), trust=trust)


def evaluate(view: IdentityView, ctx: RuleContext) -> list[FindingResult]:
    """Every finding of the catalogue on ``view``, in catalogue order (pure; never touches a
    database). Rules whose ``applies_to`` excludes the view's kind are skipped."""
    checks = _CHECKS_BY_KIND.get(view.kind, ())
    if not checks:
        return []
    p = _prepare(view, ctx)
    out: list[FindingResult] = []
    for check in checks:
        out.extend(check(p))
    return out


def evaluate_with_privilege(
    view: IdentityView, ctx: RuleContext
) -> tuple[list[FindingResult], bool]:
    """:func:`evaluate`, and whether the identity is privileged (root, or PRIV-001, PRIV-002 or
    PRIV-003 fires), from one analysis of the view's policies."""
    p = _prepare(view, ctx)
    out: list[FindingResult] = []
    for check in _CHECKS_BY_KIND.get(view.kind, ()):
        out.extend(check(p))
    return out, view.kind == ROOT or p.privileges.privileged


def evaluate_without_policies(
    view: IdentityView, ctx: RuleContext, *, privileged: bool
) -> list[FindingResult]:
    """The rules outside :data:`POLICY_RULES`, without reading the view's policies, for an
    identity whose policy findings are already known (``privileged``: what they said)."""
    p = _Pass(view=view, ctx=ctx, privileges=_NOT_ANALYSED, trust=None, known_privileged=privileged)
    out: list[FindingResult] = []
    for check in _OTHER_CHECKS_BY_KIND.get(view.kind, ()):
        out.extend(check(p))
    return out


@dataclass(frozen=True, slots=True)
class Assessment:
    """The findings, privilege and tier of one identity, computed in one pass."""

    findings: list[FindingResult]
    privileged: bool
    tier: str


def assess(view: IdentityView, ctx: RuleContext) -> Assessment:
    """:func:`evaluate` plus privilege and :func:`inventory.risk.tiers.risk_tier` (all findings
    counted; a caller honouring suppressions should call ``risk_tier`` on the open ones)."""
    findings, privileged = evaluate_with_privilege(view, ctx)
    return Assessment(findings, privileged, risk_tier(findings, privileged=privileged))
