"""Reading IAM policy documents: normalised statements and a permissions summary.

Policy documents are attacker-controlled input: anything malformed is skipped, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Actions that make an identity privileged when allowed on every resource.
SENSITIVE_SERVICE_WILDCARDS = ("iam:*", "sts:*", "kms:*", "secretsmanager:*", "organizations:*")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement, with its lists normalised (strings become one-element lists)."""

    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    condition: dict[str, Any]
    principal: Any
    policy_name: str = ""

    @property
    def on_all_resources(self) -> bool:
        return "*" in self.resources and not self.not_resources


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def statements(document: Any, *, policy_name: str = "") -> Iterator[Statement]:
    """The statements of one policy document; malformed parts are skipped."""
    if not isinstance(document, dict):
        return
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    for item in items:
        if not isinstance(item, dict):
            continue
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        condition = item.get("Condition")
        yield Statement(
            effect=effect,
            actions=_as_tuple(item.get("Action")),
            not_actions=_as_tuple(item.get("NotAction")),
            resources=_as_tuple(item.get("Resource")),
            not_resources=_as_tuple(item.get("NotResource")),
            condition=condition if isinstance(condition, dict) else {},
            principal=item.get("Principal"),
            policy_name=policy_name,
        )


def identity_statements(policies: Iterable[dict[str, Any]]) -> Iterator[Statement]:
    """Every statement of every policy attached to an identity (inline, managed, group, role)."""
    for policy in policies:
        if isinstance(policy, dict):
            yield from statements(policy.get("document"), policy_name=str(policy.get("name", "")))


def summarize(policies: list[dict[str, Any]]) -> dict[str, Any]:
    """A short summary for lists and exports: admin or not, services reachable, wildcards.

    Conservative: an unconditional Deny of everything cancels admin; finer Deny reasoning belongs to
    the risk engine's evaluator.
    """
    services: set[str] = set()
    wildcard_actions: set[str] = set()
    admin = False
    deny_all = False
    allow_count = deny_count = 0
    for st in identity_statements(policies):
        if st.effect == "Deny":
            deny_count += 1
            if "*" in st.actions and st.on_all_resources and not st.condition:
                deny_all = True
            continue
        allow_count += 1
        if st.not_actions:
            # Allow everything except a few actions is admin-like when on all resources.
            services.add("*")
            if st.on_all_resources:
                wildcard_actions.add("NotAction")
                admin = admin or not st.condition
            continue
        for action in st.actions:
            if action == "*":
                services.add("*")
                wildcard_actions.add("*")
                if st.on_all_resources and not st.condition:
                    admin = True
                continue
            service, _, name = action.partition(":")
            services.add(service.lower())
            if "*" in name and st.on_all_resources:
                wildcard_actions.add(action)
    sensitive = sorted(a for a in wildcard_actions if a.lower() in SENSITIVE_SERVICE_WILDCARDS)
    admin = admin and not deny_all
    return {
        "admin": admin,
        "services": sorted(services),
        "wildcard_actions": sorted(wildcard_actions)[:50],
        "sensitive_wildcards": sensitive,
        "allow_statements": allow_count,
        "deny_statements": deny_count,
        "policy_count": len(policies),
    }


def is_privileged(summary: dict[str, Any]) -> bool:
    return bool(summary.get("admin") or summary.get("sensitive_wildcards"))
