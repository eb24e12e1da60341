"""Deterministic synthetic AWS identities for scale benchmarks.

Everything here is plain data shaped like what ``inventory.connectors.aws`` returns for one
account: about 60% IAM users, 30% roles and 10% Secrets Manager secrets, with realistic names,
ARNs, unique ids, tags, policy documents, trust policies, access keys, console passwords, MFA
devices and dates. The same ``seed`` always gives the same records (``random.Random(seed)``; no
global random state, no clock), so two runs of a benchmark compare the same rows.

Tags name owners and teams of :func:`make_directory`, which the benchmark creates as users and
teams, so owner matching has real work to do: some values match a user's e-mail or username, some
a team, some nobody (kept verbatim and flagged), some identities have no owner tag at all.

Managed policy documents are shared objects, one per policy, as the AWS connector shares them
(it resolves every attachment against one ``Policies`` listing); inline documents are unique.
"""

from __future__ import annotations

import dataclasses
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inventory.connectors.base import CredentialRecord, IdentityRecord


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The benchmark's "now": records are dated relative to it, and reconcile runs at it.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PARTITION = "aws"
EMAIL_DOMAIN = "corp.example.com"
GITHUB_ORG = "acme-corp"

_B32 = string.ascii_uppercase + "234567"  # AWS unique ids and key ids use base32 characters
_APPS = _words(
    """payments checkout ledger billing search catalog orders inventory shipping notifications
    identity auth reporting analytics ml-scoring fraud pricing recommendations media thumbnails
    etl warehouse crm support chatbot gateway webhooks audit backup monitoring"""
)
_ENVS = _words("prod staging dev qa sandbox")
_REGIONS = _words("us-east-1 us-east-1 us-east-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-2")
_SERVICES = _words(
    "s3 s3 sts ec2 dynamodb sqs sns secretsmanager lambda logs ecr kms cloudwatch ssm"
)
_FIRST = _words(
    """alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert
    sybil trent victor walter yara zoe amir bea chen dmitri elena farah goran hiro ines"""
)
_LAST = _words(
    """smith jones garcia miller davis martinez lopez wilson anderson thomas moore martin lee
    perez thompson white harris clark lewis walker young king wright scott nguyen hill adams
    baker nelson"""
)
TEAMS = _words(
    """platform payments data-engineering ml-platform sre security identity checkout growth
    mobile web search logistics finance-systems it-ops devex observability integrations
    partner-api media"""
)
_GROUPS = _words("developers ci-deployers readonly data-engineers operators billing-readers")
_VENDORS = _words("datadog snowflake wiz lacework cloudhealth fivetran splunk")
_ROLE_SERVICES = tuple(
    f"{s}.amazonaws.com"
    for s in _words("ecs-tasks lambda ec2 glue states events codebuild sagemaker")
)
_GITHUB_SUBJECTS = ("ref:refs/heads/main", "ref:refs/heads/*", "environment:prod", "pull_request")

# AWS managed policies, abridged to their first statements (the real ones run to pages).
_AWS_MANAGED = {
    "ReadOnlyAccess": """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
        "acm:Describe*", "acm:List*", "cloudformation:Describe*", "cloudwatch:Get*",
        "dynamodb:Describe*", "ec2:Describe*", "iam:Get*", "iam:List*", "lambda:List*",
        "s3:Get*", "s3:List*", "sqs:Get*", "sqs:List*"], "Resource": "*"}]}""",
    "AdministratorAccess": """{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}""",
    "AmazonS3ReadOnlyAccess": """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:Get*", "s3:List*", "s3-object-lambda:Get*", "s3-object-lambda:List*"],
        "Resource": "*"}]}""",
    "AWSLambdaBasicExecutionRole": """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*"}]}""",
    "AmazonSSMManagedInstanceCore": """{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:DescribeAssociation",
        "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:DescribeDocument",
        "ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations",
        "ssm:ListInstanceAssociations", "ssm:PutInventory", "ssm:PutComplianceItems",
        "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus",
        "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2messages:AcknowledgeMessage",
        "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint",
        "ec2messages:GetMessages", "ec2messages:SendReply"], "Resource": "*"}]}""",
    "AmazonEC2ContainerRegistryReadOnly": """{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
        "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages",
        "ecr:DescribeImages", "ecr:BatchGetImage"], "Resource": "*"}]}""",
}
# How often each AWS managed policy is picked among AWS managed attachments (admin stays rare).
_AWS_MANAGED_WEIGHTS = (20, 1, 20, 20, 10, 20)


@dataclass(frozen=True)
class Person:
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool = True


@dataclass(frozen=True)
class Directory:
    """The people and teams a benchmark creates, so owner and team tags can match them."""

    people: tuple[Person, ...]
    teams: tuple[str, ...]


def make_directory(*, seed: int = 7, people: int = 300) -> Directory:
    """People named first.last (unique), about 3% deactivated, and the teams in ``TEAMS``."""
    rng = random.Random(seed)
    made: list[Person] = []
    seen: set[str] = set()
    while len(made) < people:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        username = f"{first}.{last}"
        if username in seen:
            username = f"{username}{len(made)}"
        seen.add(username)
        made.append(
            Person(
                username=username,
                email=f"{username}@{EMAIL_DOMAIN}",
                first_name=first.title(),
                last_name=last.title(),
                is_active=rng.random() > 0.03,  # people who left: their identities orphan
            )
        )
    return Directory(people=tuple(made), teams=TEAMS)


class _Generator:
    def __init__(self, *, seed: int, account_id: str, directory: Directory) -> None:
        self.rng = random.Random(seed)
        self.account_id = account_id
        self.directory = directory
        self.kms_keys = [self._uuid() for _ in range(12)]
        self.statement_kinds: list[Callable[[str, str, str], dict[str, Any]]] = [
            self._s3, self._dynamodb, self._sqs, self._secrets, self._kms, self._logs,
            self._ecr, self._assume, self._deny_without_mfa, self._service_wildcard,
            self._admin,
        ]  # fmt: skip
        self.statement_weights = (22, 14, 12, 10, 10, 10, 8, 6, 3, 3.5, 1.5)
        self.aws_managed = [
            {
                "source": "managed",
                "name": name,
                "arn": f"arn:aws:iam::aws:policy/{name}",
                "document": json.loads(text),
            }
            for name, text in _AWS_MANAGED.items()
        ]
        self.customer_managed = [
            {
                "source": "managed",
                "name": f"{app}-{env}-access",
                "arn": f"arn:aws:iam::{account_id}:policy/{app}-{env}-access",
                "document": self._document(app, env, self.rng.randint(1, 5)),
            }
            for app in _APPS
            for env in ("prod", "staging")
        ]
        self.group_policies = dict(zip(_GROUPS, self.customer_managed, strict=False))

    # --- small helpers -----------------------------------------------------------------------

    def _b32(self, n: int) -> str:
        return "".join(self.rng.choices(_B32, k=n))

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _ago(self, lo_days: float, hi_days: float) -> datetime:
        """A timestamp between ``lo_days`` and ``hi_days`` before NOW, to the second."""
        return NOW - timedelta(seconds=int(self.rng.uniform(lo_days, hi_days) * 86400))

    def _region(self) -> str:
        return self.rng.choice(_REGIONS)

    def _other_account(self) -> str:
        return "".join(self.rng.choices(string.digits, k=12))

    # --- policy statements -------------------------------------------------------------------

    def _s3(self, app: str, env: str, region: str) -> dict[str, Any]:
        bucket = f"{GITHUB_ORG}-{app}-{env}-{self.rng.choice(('data', 'artifacts', 'uploads'))}"
        actions = "GetObject PutObject DeleteObject GetObjectTagging PutObjectAcl ListBucket"
        return {
            "Effect": "Allow",
            "Action": [
                f"s3:{a}" for a in self.rng.sample(actions.split(), k=self.rng.randint(1, 4))
            ],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        }

    def _dynamodb(self, app: str, env: str, region: str) -> dict[str, Any]:
        table = f"arn:aws:dynamodb:{region}:{self.account_id}:table/{app}-{env}-" + (
            self.rng.choice(("events", "state", "sessions", "items"))
        )
        actions = _words("GetItem PutItem UpdateItem Query Scan BatchWriteItem DeleteItem")
        return {
            "Effect": "Allow",
            "Action": [f"dynamodb:{a}" for a in self.rng.sample(actions, k=self.rng.randint(2, 5))],
            "Resource": [table, f"{table}/index/*"],
        }

    def _sqs(self, app: str, env: str, region: str) -> dict[str, Any]:
        actions = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
        queue = f"{app}-{env}-{self.rng.choice(('jobs', 'dlq', 'events'))}"
        return {
            "Effect": "Allow",
            "Action": actions[: self.rng.randint(1, 3)],
            "Resource": f"arn:aws:sqs:{region}:{self.account_id}:{queue}",
        }

    def _secrets(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": f"arn:aws:secretsmanager:{region}:{self.account_id}:secret:{env}/{app}/*",
        }

    def _kms(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": f"arn:aws:kms:{region}:{self.account_id}:key/"
            + self.rng.choice(self.kms_keys),
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        }

    def _logs(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{region}:{self.account_id}:log-group:/aws/{app}/{env}:*",
        }

    def _ecr(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            "Resource": "*",
        }

    def _assume(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": f"arn:aws:iam::{self._other_account()}:role/{app}-{env}-cross-account",
        }

    def _deny_without_mfa(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {
            "Effect": "Deny",
            "NotAction": ["iam:ChangePassword", "iam:GetUser", "sts:GetSessionToken"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }

    def _service_wildcard(self, app: str, env: str, region: str) -> dict[str, Any]:
        action = self.rng.choice(("iam:*", "kms:*", "s3:*", "ec2:*", "sts:*"))
        return {"Effect": "Allow", "Action": action, "Resource": "*"}

    def _admin(self, app: str, env: str, region: str) -> dict[str, Any]:
        return {"Effect": "Allow", "Action": "*", "Resource": "*"}

    def _statement(self, app: str, env: str) -> dict[str, Any]:
        (kind,) = self.rng.choices(self.statement_kinds, weights=self.statement_weights)
        statement = kind(app, env, self._region())
        if self.rng.random() < 0.5:
            statement = {"Sid": f"{app.title().replace('-', '')}{self.rng.randint(1, 99)}"} | (
                statement
            )
        return statement

    def _document(self, app: str, env: str, statements: int) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [self._statement(app, env) for _ in range(statements)],
        }

    def _policies(self, app: str, env: str, inline: int, managed: int) -> list[dict[str, Any]]:
        suffix = ("inline", "access", "runtime", "extra")
        policies: list[dict[str, Any]] = [
            {
                "source": "inline",
                "name": f"{app}-{env}-{self.rng.choice(suffix)}-{i}",
                "document": self._document(app, env, self.rng.randint(1, 5)),
            }
            for i in range(inline)
        ]
        chosen: dict[str, dict[str, Any]] = {}
        for _ in range(managed):
            if self.rng.random() < 0.3:
                (policy,) = self.rng.choices(self.aws_managed, weights=_AWS_MANAGED_WEIGHTS)
            else:
                policy = self.rng.choice(self.customer_managed)
            # A new dict per attachment around the shared document, as the connector builds it.
            chosen[policy["arn"]] = dict(policy)
        policies.extend(chosen.values())
        return policies

    # --- tags --------------------------------------------------------------------------------

    def _owner_tags(self) -> dict[str, str]:
        rng, people = self.rng, self.directory.people
        roll = rng.random()
        if roll < 0.45:
            return {rng.choice(("owner", "owner", "owner", "Owner")): rng.choice(people).email}
        if roll < 0.55:
            return {"owner": rng.choice(people).username}
        if roll < 0.63:
            return {"created-by": rng.choice(people).email}
        if roll < 0.75:  # an owner nobody knows: kept verbatim and flagged
            domain = rng.choice(("contractor.example", "agency.example", EMAIL_DOMAIN))
            return {"owner": f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}@{domain}"}
        return {}

    def _tags(self, app: str, env: str) -> dict[str, str]:
        rng = self.rng
        tags = self._owner_tags()
        if rng.random() < 0.6:
            known = rng.random() < 0.9
            team = rng.choice(self.directory.teams if known else ("legacy-ops", "team-x"))
            tags[rng.choice(("team", "team", "Team"))] = team
        extras = [
            ("environment", env),
            ("application", app),
            ("cost-center", f"CC-{rng.randint(1000, 9999)}"),
            ("managed-by", rng.choice(("terraform", "terraform", "cloudformation", "cdk"))),
            ("data-classification", rng.choice(("internal", "confidential", "restricted"))),
            ("repository", f"github.com/{GITHUB_ORG}/{app}-{rng.choice(('service', 'infra'))}"),
        ]
        rng.shuffle(extras)
        want = rng.randint(2, 6)
        for key, value in extras:
            if len(tags) >= want:
                break
            tags[key] = value
        return tags

    # --- identities --------------------------------------------------------------------------

    def _access_key(self, slot: int, created_days: float) -> CredentialRecord:
        rng = self.rng
        created = self._ago(1, max(created_days, 2))
        used = rng.random() < 0.8
        last_used = (created + (NOW - created) * rng.random()).replace(microsecond=0)
        return CredentialRecord(
            kind="access_key",
            native_id="AKIA" + self._b32(16),
            status="active" if rng.random() < 0.9 else "inactive",
            created_at=created,
            last_used_at=last_used if used else None,
            last_used_service=rng.choice(_SERVICES) if used else "",
            last_used_region=self._region() if used else "",
            last_rotated_at=created,
            attributes={"report_slot": slot},
        )

    def _user_name(self, index: int, app: str, env: str) -> tuple[str, str]:
        rng, style = self.rng, self.rng.random()
        if style < 0.12:
            return f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}.{index:06d}", "/"
        if style < 0.5:
            return f"svc-{app}-{env}-{index:06d}", rng.choice(("/", "/service-accounts/"))
        if style < 0.75:
            job = rng.choice(("deployer", "publisher", "terraform"))
            return f"ci-{app}-{job}-{index:06d}", rng.choice(("/", "/ci/"))
        job = rng.choice(("integration", "uploader", "sync", "exporter"))
        return f"{app}-{env}-{job}-{index:06d}", rng.choice(("/", f"/teams/{rng.choice(TEAMS)}/"))

    def user(self, index: int) -> IdentityRecord:
        rng, acct = self.rng, self.account_id
        app, env = rng.choice(_APPS), rng.choice(_ENVS)
        name, path = self._user_name(index, app, env)
        arn = f"arn:{PARTITION}:iam::{acct}:user{path}{name}"
        created_days = rng.uniform(10, 5 * 365)
        roll = rng.random()
        n_keys = 0 if roll < 0.15 else 1 if roll < 0.85 else 2
        keys = [self._access_key(slot + 1, created_days) for slot in range(n_keys)]
        password = rng.random() < 0.15
        mfa = password and rng.random() < 0.7
        credentials: list[CredentialRecord] = []
        signed_in = None
        if password:
            signed_in = self._ago(0.5, 200) if rng.random() < 0.8 else None
            changed = self._ago(1, created_days)
            credentials.append(
                CredentialRecord(
                    kind="password",
                    native_id="console-password",
                    created_at=changed,
                    last_used_at=signed_in,
                    last_rotated_at=changed,
                )
            )
        if mfa:
            credentials.append(CredentialRecord(kind="mfa_device", native_id="mfa"))
        credentials.extend(keys)
        last_used, service, region = signed_in, "", ""
        for key in keys:
            if key.last_used_at and (last_used is None or key.last_used_at > last_used):
                last_used = key.last_used_at
                service, region = key.last_used_service, key.last_used_region
        groups = rng.sample(_GROUPS, k=rng.choice((0, 0, 0, 1, 1, 2)))
        policies = self._policies(
            app, env, inline=rng.choice((0, 0, 1, 1, 2)), managed=rng.choice((0, 1, 1, 2))
        )
        for group in groups:  # group policies, flattened into the user as the connector does
            policies.append(
                self.group_policies[group] | {"source": "group-managed", "group": group}
            )
        attributes: dict[str, Any] = {
            "password_enabled": password,
            "mfa_active": mfa,
            "password_last_used": signed_in.isoformat() if signed_in else None,
        }
        if rng.random() < 0.08:
            attributes["permissions_boundary"] = f"arn:aws:iam::{acct}:policy/boundary-{env}"
        return IdentityRecord(
            kind="iam_user",
            native_id=arn,
            name=name,
            arn=arn,
            provider_id="AIDA" + self._b32(17),
            path=path,
            created_at=self._ago(created_days, created_days),
            last_used_at=last_used,
            last_used_service=service,
            last_used_region=region,
            tags=self._tags(app, env),
            policies=policies,
            groups=groups,
            credentials=credentials,
            attributes=attributes,
        )

    def _trust_policy(self, app: str) -> tuple[dict[str, Any], str]:
        """A trust policy (service, cross-account with ExternalId, GitHub OIDC) and its kind."""
        rng, acct = self.rng, self.account_id
        roll = rng.random()
        statement: dict[str, Any]
        if roll < 0.5:
            service = rng.choice(_ROLE_SERVICES)
            statement = {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
            if rng.random() < 0.3:
                statement["Condition"] = {"StringEquals": {"aws:SourceAccount": acct}}
            kind = service.split(".")[0]
        elif roll < 0.75:
            kind = rng.choice(_VENDORS)
            statement = {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{self._other_account()}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": f"{kind}-{self._b32(24)}"}},
            }
        else:
            kind = "github"
            issuer = "token.actions.githubusercontent.com"
            subject = f"repo:{GITHUB_ORG}/{app}:{rng.choice(_GITHUB_SUBJECTS)}"
            statement = {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{acct}:oidc-provider/{issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{issuer}:sub": subject},
                },
            }
        return {"Version": "2012-10-17", "Statement": [statement]}, kind

    def _role_name(self, index: int, app: str, env: str, trusted: str) -> tuple[str, str, bool]:
        rng = self.rng
        if trusted != "github" and rng.random() < 0.04:
            service = rng.choice(("autoscaling", "elasticloadbalancing", "rds", "ecs"))
            name = f"AWSServiceRoleFor{service.title()}_{index:06d}"
            return name, f"/aws-service-role/{service}.amazonaws.com/", True
        if trusted == "github":
            return f"github-actions-{app}-{env}-{index:06d}", "/ci/", False
        if trusted in _VENDORS:
            return f"{trusted.title()}IntegrationRole-{env}-{index:06d}", "/", False
        return f"{app}-{env}-{trusted}-role-{index:06d}", rng.choice(("/", "/service-role/")), False

    def role(self, index: int) -> IdentityRecord:
        rng, acct = self.rng, self.account_id
        app, env = rng.choice(_APPS), rng.choice(_ENVS)
        trust, trusted = self._trust_policy(app)
        name, path, service_linked = self._role_name(index, app, env, trusted)
        arn = f"arn:{PARTITION}:iam::{acct}:role{path}{name}"
        created_days = rng.uniform(5, 6 * 365)
        used = rng.random() < 0.75  # RoleLastUsed: a quarter never used
        n_policies = rng.randint(1, 3)
        inline = rng.randint(0, n_policies)
        attributes: dict[str, Any] = {
            "instance_profiles": [f"{app}-{env}-profile"] if trusted == "ec2" else [],
            "max_session_duration": rng.choice((3600, 3600, 3600, 7200, 43200)),
            "service_linked": service_linked,
        }
        if rng.random() < 0.1:
            attributes["permissions_boundary"] = f"arn:aws:iam::{acct}:policy/boundary-{env}"
        return IdentityRecord(
            kind="iam_role",
            native_id=arn,
            name=name,
            arn=arn,
            provider_id="AROA" + self._b32(17),
            path=path,
            created_at=self._ago(created_days, created_days),
            last_used_at=self._ago(0.01, min(created_days, 400)) if used else None,
            last_used_region=self._region() if used else "",
            tags=self._tags(app, env),
            policies=self._policies(app, env, inline=inline, managed=n_policies - inline),
            trust_policy=trust,
            attributes=attributes,
        )

    def secret(self, index: int) -> IdentityRecord:
        rng, acct = self.rng, self.account_id
        app, env = rng.choice(_APPS), rng.choice(_ENVS)
        region = self._region()
        purpose = rng.choice(
            ("db-password", "api-key", "oauth-client", "signing-key", "webhook-secret", "smtp")
        )
        name = f"{env}/{app}/{purpose}-{index:06d}"
        arn = f"arn:{PARTITION}:secretsmanager:{region}:{acct}:secret:{name}-{self._b32(6)}"
        created_days = rng.uniform(3, 4 * 365)
        created = self._ago(created_days, created_days)
        accessed = None
        if rng.random() < 0.85:  # Secrets Manager reports the day of last access
            day = NOW - timedelta(days=rng.randint(0, min(int(created_days), 300)))
            accessed = day.replace(hour=0, minute=0, second=0)
        rotation = rng.random() < 0.35
        rotated = self._ago(0.5, min(created_days, 90)) if rotation else None
        changed = rotated or self._ago(0.5, created_days)
        kms = f"arn:aws:kms:{region}:{acct}:key/{rng.choice(self.kms_keys)}"
        return IdentityRecord(
            kind="secret",
            native_id=arn,
            name=name,
            arn=arn,
            region=region,
            created_at=created,
            last_used_at=accessed,
            tags=self._tags(app, env),
            credentials=[
                CredentialRecord(
                    kind="secret",
                    native_id=arn,
                    created_at=created,
                    last_used_at=accessed,
                    last_rotated_at=rotated,
                    attributes={"rotation_enabled": rotation},
                )
            ],
            attributes={
                "rotation_enabled": rotation,
                "rotation_days": rng.choice((30, 60, 90)) if rotation else None,
                "last_rotated_at": rotated.isoformat() if rotated else None,
                "last_changed_at": changed.isoformat(),
                "owning_service": rng.choice(("", "", "", "rds", "appflow")),
                "kms_key_id": kms if rng.random() < 0.6 else "",
                "description": f"{purpose.replace('-', ' ').capitalize()} for {app} ({env})",
            },
        )


def generate(
    count: int,
    *,
    account_id: str = "314159265358",
    seed: int = 1,
    directory: Directory | None = None,
) -> list[IdentityRecord]:
    """``count`` records for one account: ~60% users, ~30% roles, ~10% secrets, interleaved."""
    gen = _Generator(seed=seed, account_id=account_id, directory=directory or make_directory())
    records: list[IdentityRecord] = []
    for index in range(count):
        roll = gen.rng.random()
        if roll < 0.6:
            records.append(gen.user(index))
        elif roll < 0.9:
            records.append(gen.role(index))
        else:
            records.append(gen.secret(index))
    return records


def mutate(
    records: list[IdentityRecord], *, fraction: float = 0.1, seed: int = 2
) -> tuple[list[IdentityRecord], int]:
    """A copy of ``records`` where ``fraction`` of them changed, as a day at the provider would.

    Every changed record gets a new ``cost-center`` tag value; one in three was also used again
    (a newer last-used date on the identity and on its first access key or secret). Returns the
    new list (same order) and how many records changed.
    """
    rng = random.Random(seed)
    chosen = rng.sample(range(len(records)), k=round(len(records) * fraction))
    out = list(records)
    for n, index in enumerate(chosen):
        record = records[index]
        changes: dict[str, Any] = {
            "tags": {**record.tags, "cost-center": f"CC-{rng.randint(10000, 99999)}"}
        }
        if n % 3 == 0:
            used = (NOW - timedelta(minutes=rng.randint(1, 600))).replace(microsecond=0)
            changes["last_used_at"] = used
            credentials = list(record.credentials)
            for i, cred in enumerate(credentials):
                if cred.kind in ("access_key", "secret"):
                    credentials[i] = dataclasses.replace(cred, last_used_at=used)
                    break
            changes["credentials"] = credentials
        out[index] = dataclasses.replace(record, **changes)
    return out, len(chosen)
