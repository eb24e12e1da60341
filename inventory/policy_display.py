"""IAM policy documents made readable for the identity page.

Statements become rows (effect, actions, resources, conditions) with the grants that matter
marked: ``admin`` for "allow every action on every resource" and ``wildcard`` for a ``*`` in an
allowed action or resource. Trust policies become the list of principals that can assume the
role, each one explained (a service, an identity provider, an account nhigov knows, an account it
does not, or anyone).

Policy text is provider data: everything here is plain strings for the template to escape.
Malformed documents give empty lists, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inventory.policy import Statement, statements

# Long lists (AWS-managed read-only policies list thousands of actions) show this many first.
PREVIEW = 12
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Item:
    text: str
    flag: str = ""  # "admin", "wildcard" or ""


@dataclass
class StatementView:
    effect: str
    actions: list[Item]
    more_actions: list[Item]
    not_action: bool
    resources: list[Item]
    more_resources: list[Item]
    not_resource: bool
    conditions: list[str]
    flag: str = ""

    @property
    def action_count(self) -> int:
        return len(self.actions) + len(self.more_actions)


@dataclass
class PolicyView:
    name: str
    source: str
    via: str
    arn: str
    statements: list[StatementView] = field(default_factory=list)

    @property
    def flag(self) -> str:
        flags = {s.flag for s in self.statements}
        return "admin" if "admin" in flags else "wildcard" if "wildcard" in flags else ""


@dataclass(frozen=True)
class PrincipalView:
    kind: str  # AWS, Service, Federated, CanonicalUser, or "*"
    value: str
    note: str
    flag: str = ""  # "anyone", "external" or ""


@dataclass
class TrustStatementView:
    effect: str
    actions: list[str]
    principals: list[PrincipalView]
    conditions: list[str]


def _conditions(condition: dict[str, Any]) -> list[str]:
    lines = []
    for operator, pairs in sorted(condition.items()):
        if not isinstance(pairs, dict):
            lines.append(f"{operator}: {pairs}")
            continue
        for key, values in sorted(pairs.items()):
            shown = ", ".join(str(v) for v in values) if isinstance(values, list) else str(values)
            lines.append(f"{operator} {key} = {shown}")
    return lines


def _split(items: list[Item]) -> tuple[list[Item], list[Item]]:
    # Flagged items first, so a wildcard never hides behind "and 900 more".
    ordered = sorted(items, key=lambda i: (i.flag == "", 0))
    return ordered[:PREVIEW], ordered[PREVIEW:]


def _action_flag(action: str, all_resources: bool) -> str:
    """``*`` on everything is admin; a whole service (``iam:*``) is a wildcard. Prefixes such as
    ``ec2:Describe*`` are ordinary read grants and are not highlighted."""
    if action == "*":
        return "admin" if all_resources else "wildcard"
    _, _, name = action.partition(":")
    return "wildcard" if name.startswith("*") else ""


def statement_view(st: Statement) -> StatementView:
    allow = st.effect == "Allow"
    all_resources = st.on_all_resources
    unconditional = not st.condition
    not_action = bool(st.not_actions)
    actions = []
    admin = False
    for action in st.not_actions or st.actions:
        flag = _action_flag(action, all_resources) if allow and not not_action else ""
        admin = admin or (flag == "admin" and unconditional)
        actions.append(Item(action, flag))
    if allow and not_action and all_resources:
        admin = admin or unconditional  # "everything except a few actions" on everything
    broad = admin or (allow and (not_action or any(a.flag for a in actions)))
    resources = [
        Item(r, "wildcard" if broad and "*" in r else "") for r in st.not_resources or st.resources
    ]
    shown_actions, more_actions = _split(actions)
    shown_resources, more_resources = _split(resources)
    return StatementView(
        effect=st.effect,
        actions=shown_actions,
        more_actions=more_actions,
        not_action=not_action,
        resources=shown_resources,
        more_resources=more_resources,
        not_resource=bool(st.not_resources),
        conditions=_conditions(st.condition),
        flag="admin" if admin else "wildcard" if broad else "",
    )


def policy_views(policies: Any) -> list[PolicyView]:
    """The identity's policies (inline, managed, through a group or role), each readable."""
    views = []
    for policy in policies if isinstance(policies, list) else []:
        if not isinstance(policy, dict):
            continue
        via = ""
        if policy.get("group"):
            via = f"via group {policy['group']}"
        elif policy.get("role"):
            via = f"via role {policy['role']}"
        views.append(
            PolicyView(
                name=str(policy.get("name", "")),
                source=str(policy.get("source", "")),
                via=via,
                arn=str(policy.get("arn", "")),
                statements=[statement_view(s) for s in statements(policy.get("document"))],
            )
        )
    # The broadest grants first.
    rank = {"admin": 0, "wildcard": 1, "": 2}
    views.sort(key=lambda v: rank[v.flag])
    return views


def _principal_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _aws_principal(value: str, known_accounts: dict[str, str]) -> PrincipalView:
    if value == "*":
        return PrincipalView("AWS", value, "any AWS principal, in any account", "anyone")
    match = _ACCOUNT_IN_ARN.match(value)
    account = match.group(1) if match else value if _ACCOUNT_ID.match(value) else ""
    if not account:
        return PrincipalView("AWS", value, "")
    whole = value == account or value.endswith(":root")
    scope = "any principal allowed by" if whole else "a principal in"
    if account in known_accounts:
        name = known_accounts[account]
        label = f"{account} ({name})" if name else account
        return PrincipalView("AWS", value, f"{scope} account {label}, known to nhigov")
    return PrincipalView(
        "AWS", value, f"{scope} account {account}, which nhigov does not discover", "external"
    )


def trust_views(trust_policy: Any, known_accounts: dict[str, str]) -> list[TrustStatementView]:
    """Who can assume the role: every principal of the trust policy, explained."""
    views = []
    for st in statements(trust_policy):
        principals: list[PrincipalView] = []
        raw = st.principal
        if raw == "*":
            principals.append(PrincipalView("*", "*", "anyone", "anyone"))
        elif isinstance(raw, dict):
            for kind, value in sorted(raw.items()):
                for item in _principal_values(value):
                    if kind == "AWS":
                        principals.append(_aws_principal(item, known_accounts))
                    elif kind == "Service":
                        principals.append(PrincipalView("Service", item, "an AWS service"))
                    elif kind == "Federated":
                        note = "an identity provider (web identity or SAML)"
                        if "token.actions.githubusercontent.com" in item:
                            note = "GitHub Actions (OIDC): the conditions say which repositories"
                        principals.append(PrincipalView("Federated", item, note))
                    else:
                        principals.append(PrincipalView(str(kind), item, ""))
        views.append(
            TrustStatementView(
                effect=st.effect,
                actions=list(st.actions or st.not_actions),
                principals=principals,
                conditions=_conditions(st.condition),
            )
        )
    return views


def known_account_names(rows: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(rows)
