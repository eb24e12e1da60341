"""Human or machine: classification of an identity from what the provider says about it.

A rule about one identity, free of the database. Roles, instance profiles and secrets are always
machine identities; an IAM user is a person when it signs in to the console (password and/or MFA)
and has no access keys, a machine when it only has keys, and a machine used by a person when it has
both (OWASP NHI10, rule USR-001).
"""

from __future__ import annotations

from typing import Any

from inventory.choices import Classification, CredentialKind, CredentialStatus, IdentityKind
from inventory.connectors.base import IdentityRecord

_ALWAYS_MACHINE = {
    IdentityKind.IAM_ROLE: "IAM roles are assumed by services and workloads.",
    IdentityKind.INSTANCE_PROFILE: "Instance profiles hand a role to EC2 instances.",
    IdentityKind.SECRET: "Secrets are credentials used by applications.",
    IdentityKind.SERVICE_ACCOUNT: "Service accounts are used by applications.",
    IdentityKind.TOKEN: "Tokens are used by automation.",
    IdentityKind.BOT: "Bots and AI agents are machine identities.",
}


def classify(record: IdentityRecord) -> tuple[str, dict[str, Any]]:
    """Return (classification, evidence) for one discovered identity."""
    if record.kind in _ALWAYS_MACHINE:
        return Classification.MACHINE, {"reason": _ALWAYS_MACHINE[IdentityKind(record.kind)]}
    password = bool(record.attributes.get("password_enabled"))
    mfa = bool(record.attributes.get("mfa_active"))
    active_keys = sum(
        1
        for c in record.credentials
        if c.kind == CredentialKind.ACCESS_KEY and c.status == CredentialStatus.ACTIVE
    )
    evidence: dict[str, Any] = {
        "console_password": password,
        "mfa_active": mfa,
        "active_access_keys": active_keys,
    }
    interactive = password or mfa
    if interactive and active_keys:
        evidence["reason"] = (
            "Signs in to the console and also has active access keys: a machine credential used "
            "by a person."
        )
        return Classification.MACHINE_USED_BY_PERSON, evidence
    if interactive:
        evidence["reason"] = "Console password or MFA and no active access keys: a person."
        return Classification.HUMAN, evidence
    if active_keys:
        evidence["reason"] = "Active access keys and no console sign-in: a machine."
    else:
        evidence["reason"] = "No console sign-in and no active access keys: a dormant machine user."
    return Classification.MACHINE, evidence
