"""Issue #4's "Done when": the demo organization shows, for each seeded identity, exactly the
findings its design implies.

An independent oracle reads the seed plan (``build_plan()``: key profiles with their ages, console
and MFA, policies, groups, trust documents, owner tags), the seed's ``now``, the demo's leak report
and the people directory, and says which rules each identity must raise, straight from the rule
catalogue (/docs/rules.md) and its default thresholds. It never calls the rule engine.

The real pipeline runs once for the module, as ``make demo`` does: the emulator is seeded, the
demo's discovery reads it over HTTP (and runs the incremental risk pass), the demo's gitleaks
report is imported, and a full risk pass follows. Every identity's open findings (rule id, key)
must equal the oracle's. (`make demo` then closes last quarter's sandbox review, whose
deprovisions change the inventory: that is the reviews app's story, not the risk engine's, and is
left out.) Everything is written inside one transaction that is rolled back, so the
test database is left as the other tests expect it.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inventory.demo.organization import (
    ADMIN,
    BILLING,
    DYNAMODB_FULL,
    GITHUB_OIDC_HOST,
    LAMBDA_BASIC,
    POWER_USER,
    READ_ONLY,
    S3_FULL,
    S3_READ,
    SECURITY_AUDIT,
    SSM_CORE,
    AccountPlan,
    KeySpec,
    RoleSpec,
    SecretSpec,
    UserSpec,
    build_plan,
    seed_organization,
)
from inventory.demo.people import PEOPLE, TEAMS
from inventory.demo.setup import DEMO_LEAK_IDENTITY
from inventory.risk.rules import DEFAULT_THRESHOLDS
from tests.inventory.test_demo_organization import emulator  # noqa: F401 - the module's emulator

# The module fixture writes (and rolls back) itself; the mark makes pytest-django create the test
# database even when this module runs alone.
pytestmark = pytest.mark.django_db

# Ages count from today's midnight, as `make demo` seeds them.
SEED_NOW = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
# The catalogue's default thresholds as rules.md states them (AK-001's grace period is the
# engine's documented 7 days); test_the_engine_uses_the_catalogue_thresholds ties them together.
T = {
    "key_unused_days": 45,  # AK-001: active key unused >= 45 days
    "key_new_grace_days": 7,  # AK-001: "a grace period for brand-new keys"
    "key_max_age_days": 90,  # AK-002: active key older than 90 days
    "role_unused_days": 90,  # ROLE-001: unused >= 90 days, or never used and created >= 90 days ago
    "secret_rotation_days": 90,  # SEC-001: not rotated in 90 days
}

# An identity: (account name, kind, name); a finding: (rule id, key).
IdentityId = tuple[str, str, str]
Expected = dict[IdentityId, set[tuple[str, str]]]

# ------------------------------------------------------------------------------------------------
# The oracle: what each identity's design implies, from the rule catalogue alone.
# ------------------------------------------------------------------------------------------------

# What each policy of the plan grants that a PRIV rule looks at (on Resource "*", unconditional).
# "admin": every action on every resource (PRIV-001, which then stands alone); "<service>:*": a
# sensitive service wildcard (PRIV-002); plain action names: the actions the escalation paths and
# PRIV-004 are made of; DENY_ALL: an unconditional Deny of everything, which takes it all back.
DENY_ALL = "deny everything"
POLICY_GRANTS: dict[str, frozenset[str]] = {
    # AWS managed.
    ADMIN: frozenset({"admin"}),  # "Action": "*" on "*"
    # NotAction iam:*, organizations:*, account:* on "*": "a NotAction leaving almost everything"
    # is full administrator access by PRIV-001's definition (rules.py explanation).
    POWER_USER: frozenset({"admin"}),
    READ_ONLY: frozenset(),  # Describe/Get/List only (no secretsmanager:GetSecretValue, no writes)
    SECURITY_AUDIT: frozenset(),  # read-only configuration
    BILLING: frozenset(),  # billing consoles, budgets, cost explorer
    S3_FULL: frozenset(),  # s3:* and s3-object-lambda:*: not a sensitive service
    S3_READ: frozenset(),
    LAMBDA_BASIC: frozenset(),  # CloudWatch Logs writes
    SSM_CORE: frozenset(),  # ssm/ssmmessages/ec2messages agent calls
    # lambda:CreateFunction on "*", but iam:PassRole only with an iam:PassedToService condition:
    # no escalation path on its own (it would be one next to an unconditional iam:PassRole).
    DYNAMODB_FULL: frozenset({"lambda:CreateFunction", "lambda:CreateEventSourceMapping"}),
    # Customer managed (PolicySpec names, one per account).
    "deployer-lambda-deploy": frozenset(
        {
            "iam:PassRole",  # on "*": PRIV-004
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
            "lambda:UpdateFunctionCode",
            "cloudformation:CreateStack",  # cloudformation:*
        }
    ),
    "s3-backups-{env}-write": frozenset(),  # one bucket
    # NotAction iam:*, organizations:*, account:* on "*" (admin-like, as PowerUserAccess); its Deny
    # of three actions does not take "every other action" back.
    "developer-guardrails": frozenset({"admin"}),
    "app-secrets-read": frozenset(),  # GetSecretValue on <env>/* only
    "iam-policy-editor": frozenset({"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"}),
    "secrets-admin": frozenset({"secretsmanager:*"}),  # PRIV-002 (secretsmanager)
    # Inline policies (by name).
    "cost-explorer-read": frozenset(),  # ce:Get*, ce:Describe*
    "legacy-deploy": frozenset({"iam:PassRole"}),
    "export-everything": frozenset({"admin"}),  # "*" on "*"
    # An unconditional Deny of "*" on "*": cancels every Allow of the identity.
    "quarantine-deny-all": frozenset({DENY_ALL}),
    "{app}-data": frozenset(),  # DynamoDB / SQS on the app's own table and queues
}
SENSITIVE_SERVICES = ("iam", "sts", "kms", "secretsmanager")  # PRIV-002
# PRIV-003: the published escalation combinations the plan's policies can form (a subset of
# inventory/risk/escalation.py's list, by the actions they need).
ESCALATIONS: tuple[frozenset[str], ...] = (
    frozenset({"iam:CreatePolicyVersion"}),
    frozenset({"iam:SetDefaultPolicyVersion"}),
    frozenset({"iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"}),
    frozenset({"iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"}),
    frozenset({"iam:PassRole", "cloudformation:CreateStack"}),
    frozenset({"lambda:UpdateFunctionCode"}),  # run code as the function's (privileged) role
)


def _policy_key(ref: str) -> str:
    """The POLICY_GRANTS key of a managed policy reference ("cust:<name>" or an AWS ARN)."""
    if ref.startswith("cust:"):
        name = ref.removeprefix("cust:")
        return "s3-backups-{env}-write" if name.startswith("s3-backups-") else name
    return ref


def _inline_key(name: str) -> str:
    return "{app}-data" if name.endswith("-data") else name


def priv_rules(grants: set[str]) -> set[tuple[str, str]]:
    """PRIV-001..004 from what an identity's policies grant together (Deny honoured)."""
    if DENY_ALL in grants:  # nothing is allowed at all
        return set()
    if "admin" in grants:  # PRIV-001 alone: PRIV-002/003/004 are implied, not reported
        return {("PRIV-001", "")}
    out = {("PRIV-002", svc) for svc in SENSITIVE_SERVICES if f"{svc}:*" in grants}
    if any(path <= grants for path in ESCALATIONS):
        out.add(("PRIV-003", ""))
    if "iam:PassRole" in grants:
        out.add(("PRIV-004", ""))
    return out


def _grants(refs: list[str], inline: list[str]) -> set[str]:
    grants: set[str] = set()
    for ref in refs:
        grants |= POLICY_GRANTS[_policy_key(ref)]
    for name in inline:
        grants |= POLICY_GRANTS[_inline_key(name)]
    return grants


@dataclass(frozen=True)
class Directory:
    """The demo's people and teams as nhigov knows them after `ensure_people()`."""

    active: frozenset[str]  # e-mails and usernames of active people
    left: frozenset[str]  # ... of people who left
    teams: frozenset[str]

    @classmethod
    def demo(cls) -> Directory:
        def names(active: bool) -> frozenset[str]:
            return frozenset(
                n.lower() for p in PEOPLE if p.active is active for n in (p.email, p.username)
            )

        return cls(names(True), names(False), frozenset(TEAMS))


def orphan(tags: list[tuple[str, str]], people: Directory) -> bool:
    """OWN-001: no owner (no owner/team/created-by tag naming a known person or team), or the
    owner person has left. A team alone owns; an unknown value in `owner` next to a team tag is
    the team's."""
    values = dict(tags)
    person = next(
        (
            values[k].lower()
            for k in ("owner", "created-by")
            if k in values and values[k].lower() in people.active | people.left
        ),
        None,
    )
    team = values.get("team", "").lower() in people.teams
    if person is None and not team:
        return True
    return person in people.left


def _days(days_ago: float, elapsed: float) -> int:
    """Whole days (floored) from a moment `days_ago` before the seed's now to the pass's now."""
    return math.floor(days_ago + elapsed)


def key_rules(key: KeySpec, elapsed: float) -> set[str]:
    """AK-001/AK-002 of one access key (rules.md + DEFAULT_THRESHOLDS). Inactive keys: none."""
    if not key.active:
        return set()
    age = _days(key.created_days, elapsed)
    out = set()
    idle = age if key.last_used_days is None else _days(key.last_used_days, elapsed)
    if age >= T["key_new_grace_days"] and idle >= T["key_unused_days"]:
        out.add("AK-001")  # unused >= 45 days; never used counts from creation; 7-day grace
    if age > T["key_max_age_days"]:
        out.add("AK-002")  # older than 90 days
    return out


def user_expected(
    user: UserSpec, plan: AccountPlan, people: Directory, elapsed: float, leaked: set[int]
) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    active = [n for n, k in enumerate(user.keys) if k.active]
    for n, key in enumerate(user.keys):
        out |= {(rule, f"key{n + 1}") for rule in key_rules(key, elapsed)}
    if len(active) > 1:
        out.add(("AK-003", ""))
    if active and user.console:
        out.add(("USR-001", ""))  # a machine (keys) that a person signs in with
    if user.managed or user.inline:
        out.add(("USR-002", ""))
    human = (user.console or user.mfa) and not active
    if not human and orphan(user.tags, people):
        out.add(("OWN-001", ""))
    group_refs = [ref for g in plan.groups if g.name in user.groups for ref in g.managed]
    out |= priv_rules(_grants(user.managed + group_refs, list(user.inline)))
    out |= {("LEAK-001", f"key{n + 1}") for n in leaked}
    return out


def _principal_account(principal: str, account_ids: dict[str, str]) -> str:
    """The account of "arn:aws:iam::<account>:root" (or a `{account:<name>}` placeholder)."""
    if "{account:" in principal:
        name = principal.partition("{account:")[2].partition("}")[0]
        return account_ids[name]
    return principal.split(":")[4]


def trust_rules(trust: dict[str, Any], account_ids: dict[str, str]) -> set[tuple[str, str]]:
    """ROLE-002..005 from the plan's trust document (the builders' four shapes)."""
    out: set[tuple[str, str]] = set()
    organization = set(account_ids.values())
    for st in trust["Statement"]:
        principal, condition = st["Principal"], st.get("Condition", {})
        if "Service" in principal:
            continue  # an AWS service: nothing to report
        if principal.get("AWS") == "*":
            if not condition:
                out.add(("ROLE-002", ""))  # anyone, no restricting condition
        elif "AWS" in principal:
            account = _principal_account(principal["AWS"], account_ids)
            if account not in organization:  # the default allow-list is empty
                out.add(("ROLE-003", account))
                pinned = {k for body in condition.values() for k in body}
                if "sts:ExternalId" not in pinned:
                    out.add(("ROLE-004", account))  # third party without sts:ExternalId
        else:
            provider = principal["Federated"].split("oidc-provider/")[1]
            assert provider == GITHUB_OIDC_HOST, provider
            pinned = {k for body in condition.values() for k in body}
            if f"{provider}:sub" not in pinned:
                out.add(("ROLE-005", provider))  # GitHub Actions OIDC without a subject
    return out


def role_expected(
    role: RoleSpec, plan: AccountPlan, people: Directory, elapsed: float, ids: dict[str, str]
) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    service_linked = role.kind == "service_linked_role"
    last_used = role.last_used_days
    if role.kind == "org_access_role" and plan.name != "management":
        # The seed's last call in a member account goes through this role (and discovery
        # assumes it too): it is in use, whatever the spec's (created, None) says.
        last_used = 1 / 24
    if not service_linked:  # ROLE-001 skips /aws-service-role/
        idle = _days(role.created_days if last_used is None else last_used, elapsed)
        if idle >= T["role_unused_days"]:
            out.add(("ROLE-001", ""))
        if orphan(role.tags, people):  # OWN-001 skips provider-managed roles too
            out.add(("OWN-001", ""))
        assert role.trust is not None
        out |= trust_rules(role.trust, ids)
    out |= priv_rules(_grants(role.managed, list(role.inline)))
    return out


def instance_profile_expected(role: RoleSpec, people: Directory) -> set[tuple[str, str]]:
    """An instance profile carries its role's policies and tags; no role rules."""
    out = priv_rules(_grants(role.managed, list(role.inline)))
    if orphan(role.tags, people):
        out.add(("OWN-001", ""))
    return out


def secret_expected(secret: SecretSpec, people: Directory, elapsed: float) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    if secret.rotation_after_days is None:
        out.add(("SEC-001", ""))  # rotation disabled
    elif secret.last_rotated_days is not None and (
        _days(secret.last_rotated_days, elapsed) > T["secret_rotation_days"]
    ):
        out.add(("SEC-001", ""))  # rotation on, but not rotated in 90 days
    if orphan(secret.tags, people):
        out.add(("OWN-001", ""))
    return out


def leaked_keys(user: UserSpec, account: str) -> set[int]:
    """The demo's gitleaks report names the active key of jenkins-release-prod used last."""
    if (user.name, account) != DEMO_LEAK_IDENTITY:
        return set()
    active = [(k.last_used_days, n) for n, k in enumerate(user.keys) if k.active]
    used = [(days, n) for days, n in active if days is not None]
    return {min(used)[1]} if used else set()


def service_linked_name(service: str) -> str:
    return f"service-linked:{service}"


def oracle(
    plans: list[AccountPlan], account_ids: dict[str, str], people: Directory, elapsed: float
) -> Expected:
    """Every planned identity's expected open findings: (rule id, key) where a key is "key<n>"
    (the n-th access key of the user's spec), an account id, a provider or a service."""
    expected: Expected = {}
    for plan in plans:
        env = plan.name
        for user in plan.users:
            expected[(env, "iam_user", user.name)] = user_expected(
                user, plan, people, elapsed, leaked_keys(user, env)
            )
        for role in plan.roles:
            name = service_linked_name(role.service) if role.service else role.name
            expected[(env, "iam_role", name)] = role_expected(
                role, plan, people, elapsed, account_ids
            )
            if role.instance_profile:
                expected[(env, "instance_profile", role.name)] = instance_profile_expected(
                    role, people
                )
        for secret in plan.secrets:
            expected[(env, "secret", secret.name)] = secret_expected(secret, people, elapsed)
    return expected


# The design cases the demo is built to show, as a readable table checked against both the oracle
# and the engine: (account, kind, name) -> rules it must raise, rules it must not raise.
DESIGN: list[tuple[IdentityId, set[str], set[str]]] = [
    # Key created 420-700 days ago, last used 360-380 days ago: unused AND not rotated. Admin
    # policy: PRIV-001 alone (the inline iam:PassRole's PRIV-004 is implied, not reported).
    (
        ("prod", "iam_user", "ci-deployer-legacy"),
        {"AK-001", "AK-002", "USR-002", "PRIV-001"},
        {"PRIV-004", "OWN-001"},
    ),
    # Two active keys (an old, idle one and a fresh one), in the `ci` group (deployer policy,
    # flattened into the user: PRIV-003 + PRIV-004, not USR-002), the fresh key leaked.
    (
        ("prod", "iam_user", "jenkins-release-prod"),
        {"AK-001", "AK-002", "AK-003", "PRIV-003", "PRIV-004", "LEAK-001"},
        {"USR-002"},
    ),
    # A key made 3 days ago, not used yet: inside AK-001's grace period.
    (("prod", "iam_user", "gitlab-runner-mobile"), set(), {"AK-001", "AK-002"}),
    # Used daily but 395-430 days old; secretsmanager:* on "*"; owned by someone who left.
    (
        ("prod", "iam_user", "svc-payments-reconciler"),
        {"AK-002", "USR-002", "PRIV-002", "OWN-001"},
        {"AK-001"},
    ),
    # Console + old key (machine used by a person): USR-001; edits policies (PRIV-003).
    (
        ("staging", "iam_user", "jenkins-legacy-admin"),
        {"AK-001", "AK-002", "USR-001", "USR-002", "PRIV-003"},
        {"PRIV-004"},
    ),
    # A person: no OWN-001 even without an owner tag; the developers group's NotAction policy
    # leaves every service but IAM/Organizations/Account: PRIV-001 by definition.
    (("management", "iam_user", "olivia.park"), {"PRIV-001"}, {"OWN-001", "USR-001"}),
    # A person with a key she uses from scripts.
    (("management", "iam_user", "mei.chen"), {"USR-001", "PRIV-001"}, {"AK-001", "AK-002"}),
    # Trusts AWS "*" with no condition.
    (("sandbox", "iam_role", "shared-readonly-anyone"), {"ROLE-002"}, {"ROLE-001"}),
    # GitHub OIDC with aud only (no sub); PowerUserAccess.
    (("sandbox", "iam_role", "gha-sandbox-experiments"), {"ROLE-005", "PRIV-001"}, {"ROLE-001"}),
    # GitHub OIDC pinned to feature/* branches of one repository: a subject condition.
    (("sandbox", "iam_role", "gha-ml-notebooks-feature"), set(), {"ROLE-005"}),
    # A vendor with an ExternalId: outside the organization (ROLE-003), not ROLE-004.
    (("prod", "iam_role", "datadog-integration"), {"ROLE-003"}, {"ROLE-004", "ROLE-001"}),
    # An old auditor's account without ExternalId, last used 380-420 days ago.
    (("prod", "iam_role", "legacy-vendor-audit"), {"ROLE-001", "ROLE-003", "ROLE-004"}, set()),
    # Created 400-450 days ago, never used; no owner tag at all.
    (
        ("sandbox", "iam_role", "partner-poc-access"),
        {"ROLE-001", "ROLE-003", "OWN-001"},
        {"ROLE-004"},
    ),
    # Cross-account trust inside the organization: nothing to report about the trust.
    (("prod", "iam_role", "deploy-from-staging"), {"PRIV-003"}, {"ROLE-003", "ROLE-004"}),
    # Service-linked, never used, 900+ days old, no tags: neither ROLE-001 nor OWN-001.
    (
        ("prod", "iam_role", "service-linked:elasticbeanstalk.amazonaws.com"),
        set(),
        {"ROLE-001", "OWN-001"},
    ),
    # AdministratorAccess taken back by an inline Deny of everything: no PRIV rule at all.
    (("staging", "iam_role", "incident-quarantined-admin"), set(), {"PRIV-001", "ROLE-001"}),
    # Rotation never enabled / enabled but last run 120-220 days ago / rotating monthly.
    (("management", "secret", "ci/github-token"), {"SEC-001"}, {"OWN-001"}),
    (("management", "secret", "org/scim-token"), {"SEC-001"}, set()),
    (("management", "secret", "security/pagerduty-routing-key"), set(), {"SEC-001"}),
]


# ------------------------------------------------------------------------------------------------
# The real pipeline, once for the module.
# ------------------------------------------------------------------------------------------------


@dataclass
class Demo:
    account_ids: dict[str, str]  # account name -> id
    findings: dict[IdentityId, list[dict[str, Any]]]  # open findings per identity
    keys: dict[IdentityId, list[tuple[str, datetime]]]  # access key id, created at
    elapsed_days: float  # from the seed's now to the risk passes' now
    full_pass: dict[str, int]


def _run_demo(endpoint: str) -> Demo:
    """Seed, discover, import the demo leak report, run a full pass (as `make demo`)."""
    from inventory.demo.setup import ensure_leak_report, ensure_people, ensure_source
    from inventory.management.commands.demo import Command
    from inventory.models import Credential, Finding, Identity
    from inventory.services.risk import risk_evaluate

    summary = seed_organization(endpoint, now=SEED_NOW)
    account_ids = {name: account_id for account_id, name in summary.accounts.items()}
    names = summary.accounts
    ensure_people()
    source = ensure_source()
    started = datetime.now(UTC)
    Command(stdout=io.StringIO())._discover(source)
    report = ensure_leak_report()
    assert report is not None and report.matched_key_ids == 1
    full = risk_evaluate()
    elapsed = (started - SEED_NOW).total_seconds() / 86400

    def label(account_id: str, kind: str, name: str, path: str) -> IdentityId:
        if path.startswith("/aws-service-role/"):
            name = service_linked_name(path.split("/")[2])
        return (names.get(account_id, account_id), kind, name)

    labels = {
        pk: label(account_id, kind, name, path)
        for pk, account_id, kind, name, path in Identity.objects.values_list(
            "id", "account__account_id", "kind", "name", "path"
        )
    }
    findings: dict[IdentityId, list[dict[str, Any]]] = {label: [] for label in labels.values()}
    for row in Finding.objects.filter(status="open").values(
        "identity_id", "rule_id", "key", "severity", "message", "evidence"
    ):
        findings[labels[row.pop("identity_id")]].append(row)
    keys: dict[IdentityId, list[tuple[str, datetime]]] = defaultdict(list)
    for identity_id, native_id, created in Credential.objects.filter(kind="access_key").values_list(
        "identity_id", "native_id", "created_at"
    ):
        keys[labels[identity_id]].append((native_id, created))
    return Demo(
        account_ids,
        findings,
        dict(keys),
        elapsed,
        {"opened": full.opened, "resolved": full.resolved, "identities": full.identities},
    )


@pytest.fixture(scope="module")
def demo(
    emulator: str,  # noqa: F811 - the fixture imported above
    django_db_setup: Any,
    django_db_blocker: Any,
) -> Iterator[Demo]:
    from django.db import transaction

    from inventory.demo.emulator import emulator_environment

    with pytest.MonkeyPatch.context() as env, django_db_blocker.unblock():
        for name, value in emulator_environment(emulator).items():
            env.setenv(name, value)
        with transaction.atomic():
            result = _run_demo(emulator)
            transaction.set_rollback(True)  # leave the test database empty for the next tests
    yield result


def _engine(demo: Demo, spec_keys: dict[IdentityId, list[KeySpec]]) -> Expected:
    """The engine's open findings as (rule id, key), access key ids renamed "key<n>" after the
    spec key created at the same moment."""
    out: Expected = {}
    for ident, rows in demo.findings.items():
        names: dict[str, str] = {}
        for native_id, created in demo.keys.get(ident, []):
            for n, spec in enumerate(spec_keys.get(ident, [])):
                planned = SEED_NOW - timedelta(days=spec.created_days)
                if abs((created - planned).total_seconds()) < 60:
                    names[native_id] = f"key{n + 1}"
        out[ident] = {(r["rule_id"], names.get(r["key"], r["key"])) for r in rows}
    return out


def _table(rows: list[tuple[IdentityId, set[Any], set[Any]]]) -> str:
    def fmt(items: set[Any]) -> str:
        return ", ".join(f"{r}[{k}]" if k else r for r, k in sorted(items)) or "-"

    lines = [f"{'identity':60} {'missing (oracle only)':40} unexpected (engine only)"]
    for (account, kind, name), missing, unexpected in rows:
        lines.append(f"{account + ' ' + kind + ' ' + name:60} {fmt(missing):40} {fmt(unexpected)}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------


def test_every_identity_has_exactly_the_findings_its_design_implies(demo: Demo) -> None:
    plans = build_plan()
    expected = oracle(plans, demo.account_ids, Directory.demo(), demo.elapsed_days)
    spec_keys = {(p.name, "iam_user", u.name): u.keys for p in plans for u in p.users}
    actual = _engine(demo, spec_keys)
    planned_only = sorted(set(expected) - set(actual))
    discovered_only = sorted(set(actual) - set(expected))
    rows = [
        (ident, expected[ident] - actual[ident], actual[ident] - expected[ident])
        for ident in sorted(set(expected) & set(actual))
        if expected[ident] != actual[ident]
    ]
    assert not planned_only, f"planned but not discovered: {planned_only}"
    assert not discovered_only, f"discovered but not planned: {discovered_only}"
    assert not rows, "\n" + _table(rows)


def test_the_full_pass_after_discovery_changes_nothing(demo: Demo) -> None:
    assert demo.full_pass["opened"] == 0 and demo.full_pass["resolved"] == 0
    assert demo.full_pass["identities"] == len(demo.findings)


def test_the_design_cases(demo: Demo) -> None:
    expected = oracle(build_plan(), demo.account_ids, Directory.demo(), demo.elapsed_days)
    engine = {ident: {r["rule_id"] for r in rows} for ident, rows in demo.findings.items()}
    for ident, must, must_not in DESIGN:
        for name, rules in (("oracle", {r for r, _ in expected[ident]}), ("engine", engine[ident])):
            assert must <= rules and not (must_not & rules), (name, ident, sorted(rules))


def test_orphans_are_high_when_privileged(demo: Demo) -> None:
    """OWN-001: medium, high when the identity is privileged (PRIV-001, -002 or -003)."""
    for ident, rows in demo.findings.items():
        rules = {r["rule_id"] for r in rows}
        for row in rows:
            if row["rule_id"] == "OWN-001":
                privileged = bool(rules & {"PRIV-001", "PRIV-002", "PRIV-003"})
                assert row["severity"] == ("high" if privileged else "medium"), ident


def test_the_demo_shows_every_rule_it_can(demo: Demo) -> None:
    """Every rule of the catalogue fires somewhere, but AK-004: the emulator's credential report
    has no root row (rules.md, emulator quirks)."""
    from inventory.risk.rules import RULES

    fired = {r["rule_id"] for rows in demo.findings.values() for r in rows}
    assert fired == set(RULES) - {"AK-004"}


def test_the_engine_uses_the_catalogue_thresholds() -> None:
    assert DEFAULT_THRESHOLDS == T


def test_every_finding_reads_on_its_own(demo: Demo) -> None:
    """Issue #4's second half, mechanically: the message names the identity (and, for the PRIV
    rules, the policy to change), and the evidence is there."""
    for (_account, _kind, name), rows in demo.findings.items():
        for row in rows:
            assert name.startswith("service-linked:") or name in row["message"], row
            assert row["message"].endswith(".") and row["evidence"], row
            if row["rule_id"] in ("PRIV-001", "PRIV-002", "PRIV-004"):
                assert "(through " in row["message"], row
            if row["rule_id"] == "OWN-001" and row["evidence"]["reason"] == "owner_left":
                assert "tom.weller@example.com" in row["message"], row
