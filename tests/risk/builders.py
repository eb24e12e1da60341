"""Concise builders for the risk engine's tests: identity views, policies, credentials, contexts.

Everything is dated relative to :data:`NOW`; ``*_days`` arguments mean "that many days before NOW".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from inventory.risk.rules import DEFAULT_THRESHOLDS, FindingResult, evaluate
from inventory.risk.view import CredentialView, IdentityView, RuleContext

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OWN_ACCOUNT = "111111111111"
ORG_ACCOUNT = "222222222222"
VENDOR_ACCOUNT = "999999999999"
KEY_A = "AKIAAAAAAAAAAAAAWXYZ"
KEY_B = "AKIABBBBBBBBBBBB1234"
GITHUB = f"arn:aws:iam::{OWN_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def days_ago(days: float | None) -> datetime | None:
    return None if days is None else NOW - timedelta(days=days)


# --- policy documents ------------------------------------------------------------------------


def stmt(effect: str, action: Any = None, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """A statement; pass ``not_action=`` / ``not_resource=`` / ``condition=`` as keywords."""
    out: dict[str, Any] = {"Effect": effect}
    if action is not None:
        out["Action"] = action
    if "not_action" in extra:
        out["NotAction"] = extra.pop("not_action")
    if "not_resource" in extra:
        out["NotResource"] = extra.pop("not_resource")
    elif resource is not None:
        out["Resource"] = resource
    if "condition" in extra:
        out["Condition"] = extra.pop("condition")
    out.update(extra)
    return out


def allow(action: Any = None, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Allow", action, resource, **extra)


def deny(action: Any = None, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Deny", action, resource, **extra)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def policy(document: Any, *, source: str = "inline", name: str = "p", **extra: Any) -> dict:
    return {"source": source, "name": name, "document": document, **extra}


def policies(*statements: dict[str, Any], source: str = "inline") -> list[dict[str, Any]]:
    """One policy per statement (names p0, p1, ...), to test evaluation across policies."""
    return [policy(doc(s), source=source, name=f"p{i}") for i, s in enumerate(statements)]


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return doc(*statements)


def trust_stmt(
    principal: Any, action: Any = "sts:AssumeRole", condition: Any = None, effect: str = "Allow"
) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": action}
    if condition is not None:
        out["Condition"] = condition
    return out


# --- credentials -----------------------------------------------------------------------------


def access_key(
    key_id: str = KEY_A,
    *,
    status: str = "active",
    created_days: float | None = 10,
    used_days: float | None = None,
) -> CredentialView:
    return CredentialView(
        kind="access_key",
        native_id=key_id,
        status=status,
        created_at=days_ago(created_days),
        last_used_at=days_ago(used_days),
        last_used_service="s3" if used_days is not None else "",
        last_used_region="us-east-1" if used_days is not None else "",
    )


def console_password(*, used_days: float | None = 5) -> CredentialView:
    return CredentialView(
        kind="password",
        native_id="console-password",
        status="active",
        created_at=days_ago(400),
        last_used_at=days_ago(used_days),
    )


def secret_credential(
    arn: str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf",
    *,
    rotation_enabled: Any = False,
    rotated_days: float | None = None,
    created_days: float | None = 400,
) -> CredentialView:
    return CredentialView(
        kind="secret",
        native_id=arn,
        status="active",
        created_at=days_ago(created_days),
        last_rotated_at=days_ago(rotated_days),
        attributes={"rotation_enabled": rotation_enabled},
    )


# --- identities ------------------------------------------------------------------------------


def identity(
    kind: str = "iam_user",
    *,
    name: str = "svc-payments",
    path: str = "/",
    account_id: str = OWN_ACCOUNT,
    classification: str = "machine",
    created_days: float | None = 365,
    used_days: float | None = 1,
    tags: dict[str, str] | None = None,
    policies: list[dict[str, Any]] | None = None,
    trust_policy: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    credentials: tuple[CredentialView, ...] | list[CredentialView] = (),
    has_owner: bool = True,
    owner_active: bool = True,
    owner_unmatched: bool = False,
    owner_raw: str = "",
    identity_id: int = 1,
) -> IdentityView:
    resource = {"iam_user": "user", "iam_role": "role", "instance_profile": "instance-profile"}
    arn = f"arn:aws:iam::{account_id}:{resource.get(kind, kind)}{path}{name}"
    return IdentityView(
        id=identity_id,
        kind=kind,
        name=name,
        arn=arn,
        path=path,
        account_id=account_id,
        classification=classification,
        created_at=days_ago(created_days),
        last_used_at=days_ago(used_days),
        tags=tags or {},
        policies=policies or [],
        trust_policy=trust_policy,
        attributes=attributes or {},
        credentials=tuple(credentials),
        has_owner=has_owner,
        owner_active=owner_active,
        owner_unmatched=owner_unmatched,
        owner_raw=owner_raw,
    )


def user(**kwargs: Any) -> IdentityView:
    return identity("iam_user", **kwargs)


def role(**kwargs: Any) -> IdentityView:
    kwargs.setdefault("name", "app-role")
    kwargs.setdefault("trust_policy", trust(trust_stmt({"Service": "lambda.amazonaws.com"})))
    return identity("iam_role", **kwargs)


def root(**kwargs: Any) -> IdentityView:
    kwargs.setdefault("name", "<root_account>")
    return identity("root", **kwargs)


def secret(**kwargs: Any) -> IdentityView:
    kwargs.setdefault("name", "prod/payments/db")
    return identity("secret", **kwargs)


def with_(view: IdentityView, **changes: Any) -> IdentityView:
    return replace(view, **changes)


# --- contexts and running --------------------------------------------------------------------


def ctx(**kwargs: Any) -> RuleContext:
    thresholds = {**DEFAULT_THRESHOLDS, **kwargs.pop("thresholds", {})}
    kwargs.setdefault("organization_account_ids", frozenset({OWN_ACCOUNT, ORG_ACCOUNT}))
    return RuleContext(now=kwargs.pop("now", NOW), thresholds=thresholds, **kwargs)


def findings(
    view: IdentityView, rule_id: str | None = None, context: RuleContext | None = None
) -> list[FindingResult]:
    """The findings of ``view`` (only ``rule_id``'s when given)."""
    results = evaluate(view, context or ctx())
    return [f for f in results if rule_id is None or f.rule_id == rule_id]


def rule_ids(view: IdentityView, context: RuleContext | None = None) -> set[str]:
    return {f.rule_id for f in findings(view, context=context)}
