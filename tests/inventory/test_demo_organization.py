"""The seeded demo organization, checked through boto3 against a real (in-process) moto server.

No Django database: plain boto3. One emulator and one seed for the module; the last test resets
and re-seeds to prove the ids are deterministic.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from inventory.demo.emulator import (
    DEFAULT_RANDOM_SEED,
    emulator_environment,
    reset_emulator,
    seed_emulator_random,
    start_emulator,
)
from inventory.demo.organization import (
    ACCOUNT_NAMES,
    DATADOG_ACCOUNT_ID,
    GITHUB_OIDC_HOST,
    IDENTITY_KINDS,
    MANAGEMENT_ACCOUNT_ID,
    SeedSummary,
    build_plan,
    seed_organization,
)
from inventory.demo.people import PEOPLE, TEAMS, UNKNOWN_OWNERS

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
OLIVIA = "olivia.park@example.com"
OWNER_KEYS = {"owner", "team", "created-by"}
REGIONS = ("us-east-1", "eu-west-1")


@dataclass
class AccountState:
    account_id: str
    name: str
    details: dict[str, Any]  # get_account_authorization_details (one page: moto ignores paging)
    report: list[dict[str, str]]  # the credential report
    keys: dict[str, list[dict[str, Any]]]  # user -> list_access_keys
    secrets: dict[str, list[dict[str, Any]]]  # region -> list_secrets
    mfa: dict[str, int] = field(default_factory=dict)  # user -> MFA devices

    @property
    def users(self) -> list[dict[str, Any]]:
        return self.details["UserDetailList"]

    @property
    def roles(self) -> list[dict[str, Any]]:
        return self.details["RoleDetailList"]

    def role(self, name: str) -> dict[str, Any]:
        return next(r for r in self.roles if r["RoleName"] == name)

    def user(self, name: str) -> dict[str, Any]:
        return next(u for u in self.users if u["UserName"] == name)


def _clients(endpoint: str, account_id: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    if account_id != MANAGEMENT_ACCOUNT_ID:
        creds = boto3.client("sts", **base).assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
            RoleSessionName="test-reader",
        )["Credentials"]
        base.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    clients: dict[str, Any] = {"iam": boto3.client("iam", **base)}
    for region in REGIONS:
        clients[region] = boto3.client("secretsmanager", **{**base, "region_name": region})
    return clients


def _read_estate(endpoint: str) -> dict[str, AccountState]:
    base: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    accounts = boto3.client("organizations", **base).list_accounts()["Accounts"]
    estate = {}
    for account in accounts:
        clients = _clients(endpoint, account["Id"])
        iam = clients["iam"]
        # Unfiltered, moto also lists all ~1,600 AWS-managed policies (~1.7 s per account).
        details = iam.get_account_authorization_details(
            Filter=["User", "Role", "Group", "LocalManagedPolicy"]
        )
        iam.generate_credential_report()
        report = list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))
        with_keys = [r["user"] for r in report if r["access_key_1_last_rotated"] != "N/A"]
        keys = {u: iam.list_access_keys(UserName=u)["AccessKeyMetadata"] for u in with_keys}
        people = [r["user"] for r in report if r["mfa_active"] == "true"]
        mfa = {u: len(iam.list_mfa_devices(UserName=u)["MFADevices"]) for u in people}
        secrets = {region: clients[region].list_secrets()["SecretList"] for region in REGIONS}
        estate[account["Id"]] = AccountState(
            account["Id"], account["Name"], details, report, keys, secrets, mfa
        )
    return estate


@pytest.fixture(scope="module")
def emulator() -> Any:
    saved = {k: os.environ.get(k) for k in ("MOTO_IAM_LOAD_MANAGED_POLICIES", "MOTO_ACCOUNT_ID")}
    server, endpoint = start_emulator()
    yield endpoint
    server.stop()
    for key, value in saved.items():  # start_emulator sets them for the process; undo
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def seeded(emulator: str) -> tuple[str, SeedSummary, dict[str, AccountState]]:
    summary = seed_organization(emulator, now=NOW)
    return emulator, summary, _read_estate(emulator)


@pytest.fixture(scope="module")
def summary(seeded: Any) -> SeedSummary:
    return seeded[1]


@pytest.fixture(scope="module")
def estate(seeded: Any) -> dict[str, AccountState]:
    return seeded[2]


def _parse(value: str) -> datetime | None:
    if value in ("N/A", "no_information", "not_supported", ""):
        return None
    return datetime.fromisoformat(value)


def _age_days(moment: datetime) -> float:
    return (NOW - moment).total_seconds() / 86400


def _all_keys(estate: dict[str, AccountState]) -> list[dict[str, Any]]:
    """One row per access key from the credential reports."""
    rows: list[dict[str, Any]] = []
    for state in estate.values():
        for row in state.report:
            for n in ("1", "2"):
                if row[f"access_key_{n}_last_rotated"] == "N/A":
                    continue
                rows.append(
                    {
                        "account": state.name,
                        "user": row["user"],
                        "active": row[f"access_key_{n}_active"] == "true",
                        "created": _parse(row[f"access_key_{n}_last_rotated"]),
                        "last_used": _parse(row[f"access_key_{n}_last_used_date"]),
                    }
                )
    return rows


def _identities(estate: dict[str, AccountState]) -> list[tuple[str, str, list[dict[str, str]]]]:
    """(account name, kind-ish label, tags) for every user, role and secret."""
    out = []
    for state in estate.values():
        out += [(state.name, "user", u.get("Tags", [])) for u in state.users]
        out += [(state.name, "role", r.get("Tags", [])) for r in state.roles]
        for secrets in state.secrets.values():
            out += [(state.name, "secret", s.get("Tags", [])) for s in secrets]
    return out


# ------------------------------------------------------------------------------------------------


def test_emulator_environment_points_boto3_at_the_emulator(emulator: str) -> None:
    env = emulator_environment(emulator)
    assert env == {
        "AWS_ENDPOINT_URL": emulator,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert emulator.startswith("http://127.0.0.1:") and not emulator.endswith(":0")


def test_plan_is_deterministic_and_uses_only_demo_owners() -> None:
    first, second = build_plan(), build_plan()
    assert [(p.name, [u.name for u in p.users], [r.name for r in p.roles]) for p in first] == [
        (p.name, [u.name for u in p.users], [r.name for r in p.roles]) for p in second
    ]
    allowed = {p.email for p in PEOPLE} | set(TEAMS) | set(UNKNOWN_OWNERS)
    for plan in first:
        for _kind, tags in plan.identity_tags():
            for key, value in tags:
                if key in OWNER_KEYS:
                    assert value in allowed, (plan.name, key, value)


def test_organization_has_management_and_member_accounts(
    summary: SeedSummary, estate: dict[str, AccountState]
) -> None:
    assert summary.management_account_id == MANAGEMENT_ACCOUNT_ID
    assert len(estate) >= 4
    assert MANAGEMENT_ACCOUNT_ID in estate
    assert {s.name for s in estate.values()} >= set(ACCOUNT_NAMES)
    assert set(summary.accounts) == set(estate)
    assert summary.organization_id.startswith("o-")
    for state in estate.values():
        if state.account_id != MANAGEMENT_ACCOUNT_ID:
            role = state.role("OrganizationAccountAccessRole")
            principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]
            assert principal == f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:root"
            assert {p["PolicyName"] for p in role["AttachedManagedPolicies"]} == {
                "AdministratorAccess"
            }


def test_at_least_300_identities_over_the_accounts(
    summary: SeedSummary, estate: dict[str, AccountState]
) -> None:
    identities = _identities(estate)
    assert len(identities) >= 300
    assert len(identities) == summary.total_identities
    per_account = Counter(account for account, _, _ in identities)
    assert len(per_account) >= 4 and min(per_account.values()) >= 30
    assert summary.seconds < 30, f"seed took {summary.seconds}s"
    for account_id, counts in summary.counts.items():
        state = estate[account_id]
        assert sum(v for k, v in counts.items() if k != "secret") == (
            len(state.users) + len(state.roles)
        )


def test_every_kind_is_present(summary: SeedSummary, estate: dict[str, AccountState]) -> None:
    totals: Counter[str] = Counter()
    for counts in summary.counts.values():
        totals.update(counts)
    assert set(totals) == set(IDENTITY_KINDS)

    users = [(s, u) for s in estate.values() for u in s.users]
    roles = [r for s in estate.values() for r in s.roles]
    names = {u["UserName"] for _, u in users}
    assert any(n.startswith("ci-deployer-") for n in names)
    assert any(n.startswith("jenkins-") for n in names)
    assert any(n.startswith("gitlab-runner-") for n in names)
    assert {"backup-s3-nightly", "olivia.park", "mei.chen"} <= names
    keyed = {(s.name, u) for s in estate.values() for u in s.keys}
    assert ("prod", "backup-s3-nightly") in keyed

    def trusts(role: dict[str, Any], service: str) -> bool:
        return any(
            st.get("Principal", {}).get("Service") == service
            for st in role["AssumeRolePolicyDocument"]["Statement"]
        )

    assert any(r["InstanceProfileList"] and trusts(r, "ec2.amazonaws.com") for r in roles)
    assert any(trusts(r, "lambda.amazonaws.com") for r in roles)
    assert any(trusts(r, "ecs-tasks.amazonaws.com") for r in roles)
    assert any(r["Path"].startswith("/aws-service-role/") for r in roles)
    secrets = [s for st in estate.values() for region in REGIONS for s in st.secrets[region]]
    assert {s["Name"] for s in secrets} >= {"prod/payments/db-password", "ci/github-token"}
    assert all(
        estate_secrets
        for st in estate.values()
        if st.name == "prod"
        for estate_secrets in st.secrets.values()
    )  # both regions used in prod


def test_access_key_ages_and_usage(estate: dict[str, AccountState]) -> None:
    keys = _all_keys(estate)
    assert len(keys) >= 80
    old = [k for k in keys if _age_days(k["created"]) > 365]
    assert old, "a key older than a year"
    assert any(k["active"] and k["last_used"] and _age_days(k["last_used"]) < 2 for k in old)
    assert any(k["last_used"] and _age_days(k["last_used"]) < 2 for k in keys)
    assert any(k["last_used"] and 300 < _age_days(k["last_used"]) < 400 for k in keys)
    never = [k for k in keys if k["active"] and k["last_used"] is None]
    assert any(190 < _age_days(k["created"]) < 210 for k in never), "never used, 200 days old"
    assert any(_age_days(k["created"]) < 4 for k in never), "brand new, not used yet"
    assert any(not k["active"] for k in keys)
    per_user = Counter((k["account"], k["user"]) for k in keys if k["active"])
    assert any(n == 2 for n in per_user.values()), "a user with two active keys"
    for k in keys:  # used only after it existed
        if k["last_used"]:
            assert k["last_used"] >= k["created"]


def test_credential_report_matches_get_access_key_last_used(seeded: Any) -> None:
    endpoint, _summary, estate = seeded
    state = next(s for s in estate.values() if s.name == "prod")
    iam = _clients(endpoint, state.account_id)["iam"]
    row = next(r for r in state.report if r["user"] == "backup-s3-nightly")
    key = state.keys["backup-s3-nightly"][0]
    last_used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    reported = _parse(row["access_key_1_last_used_date"])
    if reported is None:
        assert "LastUsedDate" not in last_used
    else:
        assert abs((last_used["LastUsedDate"] - reported).total_seconds()) < 1
        assert last_used["ServiceName"] == "sts"


def test_people_have_console_and_mfa(estate: dict[str, AccountState]) -> None:
    management = estate[MANAGEMENT_ACCOUNT_ID]
    rows = {r["user"]: r for r in management.report}
    olivia = rows["olivia.park"]
    assert olivia["password_enabled"] == "true" and olivia["mfa_active"] == "true"
    assert olivia["access_key_1_last_rotated"] == "N/A"
    assert management.mfa["olivia.park"] == 1
    people = [r for r in management.report if r["password_enabled"] == "true"]
    assert len(people) >= 15
    assert any(r["mfa_active"] == "false" for r in people), "a console user without MFA"
    # Machine used by a person: a person with a key, and a service user with a password.
    assert rows["mei.chen"]["access_key_1_active"] == "true"
    service_console = [
        r
        for s in estate.values()
        for r in s.report
        if r["user"].startswith(("svc-", "jenkins-")) and r["password_enabled"] == "true"
    ]
    assert service_console
    # The in-process emulator lets the seed set the console sign-in date (AWS: on login).
    used = [_parse(r["password_last_used"]) for r in people]
    assert any(u and _age_days(u) < 30 for u in used)
    assert any(u and _age_days(u) > 90 for u in used)


def test_role_last_used(estate: dict[str, AccountState]) -> None:
    roles = [
        r
        for s in estate.values()
        for r in s.roles
        if r["RoleName"] != "OrganizationAccountAccessRole"
    ]
    used = [
        (r, _age_days(r["RoleLastUsed"]["LastUsedDate"]))
        for r in roles
        if r.get("RoleLastUsed", {}).get("LastUsedDate")
    ]
    assert any(age < 3 for _, age in used), "a role used recently"
    assert any(age > 200 for _, age in used), "a role unused for 200+ days"
    never = [r for r in roles if not r.get("RoleLastUsed", {}).get("LastUsedDate")]
    assert any(_age_days(r["CreateDate"]) > 290 for r in never), "never used, created 300d ago"
    for role, age in used:
        assert age <= _age_days(role["CreateDate"]) + 1e-6


def test_trust_policies(estate: dict[str, AccountState]) -> None:
    roles = [r for s in estate.values() for r in s.roles]

    def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
        return role["AssumeRolePolicyDocument"]["Statement"]

    star = [
        r
        for r in roles
        for st in statements(r)
        if st.get("Principal") == {"AWS": "*"} and not st.get("Condition")
    ]
    assert [r["RoleName"] for r in star] == ["shared-readonly-anyone"]

    oidc = [
        (r, st)
        for r in roles
        for st in statements(r)
        if GITHUB_OIDC_HOST in json.dumps(st.get("Principal", {}))
    ]
    assert len(oidc) >= 10
    without_sub = [
        r["RoleName"]
        for r, st in oidc
        if f"{GITHUB_OIDC_HOST}:sub" not in json.dumps(st.get("Condition", {}))
    ]
    assert without_sub == ["gha-sandbox-experiments"]
    with_sub = [
        st["Condition"]["StringEquals"]
        for _, st in oidc
        if f"{GITHUB_OIDC_HOST}:sub" in st["Condition"].get("StringEquals", {})
    ]
    assert any(
        c[f"{GITHUB_OIDC_HOST}:sub"] == "repo:example-org/infrastructure:ref:refs/heads/main"
        and c[f"{GITHUB_OIDC_HOST}:aud"] == "sts.amazonaws.com"
        for c in with_sub
    )

    third = [
        (r, st)
        for r in roles
        for st in statements(r)
        if isinstance(st.get("Principal", {}).get("AWS"), str)
        and st["Principal"]["AWS"].startswith("arn:aws:iam::")
        and st["Principal"]["AWS"].split(":")[4] not in estate
    ]
    assert any(
        DATADOG_ACCOUNT_ID in st["Principal"]["AWS"]
        and "sts:ExternalId" in json.dumps(st.get("Condition", {}))
        for _, st in third
    )
    assert any("sts:ExternalId" not in json.dumps(st.get("Condition", {})) for _, st in third)


def test_policies_and_groups(estate: dict[str, AccountState]) -> None:
    users = [u for s in estate.values() for u in s.users]
    roles = [
        r
        for s in estate.values()
        for r in s.roles
        if r["RoleName"] != "OrganizationAccountAccessRole"
    ]

    def attached(entity: dict[str, Any]) -> set[str]:
        return {p["PolicyName"] for p in entity["AttachedManagedPolicies"]}

    assert any("AdministratorAccess" in attached(u) and u["Path"] == "/ci/" for u in users)
    assert any("AdministratorAccess" in attached(r) for r in roles)
    assert any("ReadOnlyAccess" in attached(r) for r in roles)
    assert any("AmazonS3FullAccess" in attached(u) for u in users)
    assert any(u["UserPolicyList"] for u in users), "inline user policies"
    prod = next(s for s in estate.values() if s.name == "prod")
    deployer = next(
        p
        for p in prod.details["Policies"]
        if p["Arn"].endswith(":policy/ci/deployer-lambda-deploy")
    )
    document = next(v["Document"] for v in deployer["PolicyVersionList"] if v["IsDefaultVersion"])
    if isinstance(document, str):
        document = json.loads(document)
    actions = document["Statement"][0]["Action"]
    assert {"iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"} <= set(actions)
    assert document["Statement"][0]["Resource"] == "*"
    management = estate[MANAGEMENT_ACCOUNT_ID]
    groups = {g["GroupName"] for g in management.details["GroupDetailList"]}
    assert {"developers", "ci"} <= groups
    assert "developers" in management.user("olivia.park")["GroupList"]
    assert "ci" in management.user("jenkins-controller")["GroupList"]


def test_secrets_rotation_and_ages(estate: dict[str, AccountState]) -> None:
    secrets = [s for st in estate.values() for region in REGIONS for s in st.secrets[region]]
    assert len(secrets) >= 40
    rotating = [s for s in secrets if s.get("RotationEnabled")]
    assert any(_age_days(s["LastRotatedDate"]) < 30 for s in rotating)
    assert any(_age_days(s["LastRotatedDate"]) > 90 for s in rotating)
    never = [s for s in secrets if not s.get("RotationEnabled")]
    assert any(_age_days(s["CreatedDate"]) > 395 for s in never)


def test_ownership_tags(estate: dict[str, AccountState]) -> None:
    identities = _identities(estate)
    allowed = {p.email for p in PEOPLE} | set(TEAMS) | set(UNKNOWN_OWNERS)
    olivia_accounts: Counter[str] = Counter()
    unowned = 0
    owners: Counter[str] = Counter()
    for account, _kind, tags in identities:
        keyed = {t["Key"]: t["Value"] for t in tags}
        for key in OWNER_KEYS & set(keyed):
            assert keyed[key] in allowed, (account, key, keyed[key])
        if keyed.get("owner"):
            owners[keyed["owner"]] += 1
        if keyed.get("owner") == OLIVIA:
            olivia_accounts[account] += 1
        if not OWNER_KEYS & set(keyed):
            unowned += 1
    assert sum(olivia_accounts.values()) >= 25
    assert len(olivia_accounts) >= 3
    assert 0.12 <= unowned / len(identities) <= 0.25, unowned / len(identities)
    assert owners["tom.weller@example.com"] > 0  # left the company
    assert set(UNKNOWN_OWNERS) <= set(owners)
    # Some of olivia's identities are risky.
    prod = next(s for s in estate.values() if s.name == "prod")
    legacy = prod.user("ci-deployer-legacy")
    assert {"Key": "owner", "Value": OLIVIA} in legacy["Tags"]
    assert "AdministratorAccess" in {p["PolicyName"] for p in legacy["AttachedManagedPolicies"]}


def test_hostile_tag_values_survive(estate: dict[str, AccountState]) -> None:
    values = [(t["Key"], t["Value"]) for _, _, tags in _identities(estate) for t in tags]
    assert ("description", "<script>alert(1)</script>") in values
    assert any(v.startswith("=HYPERLINK(") for _, v in values)


def test_reseed_after_reset_gives_the_same_ids(seeded: Any) -> None:
    endpoint, summary, estate = seeded

    def fingerprint(estate: dict[str, AccountState]) -> dict[str, Any]:
        return {
            account_id: {
                "name": state.name,
                "users": sorted((u["Arn"], u["UserId"]) for u in state.users),
                "roles": sorted((r["Arn"], r["RoleId"]) for r in state.roles),
                "keys": sorted((u, k["AccessKeyId"]) for u, ks in state.keys.items() for k in ks),
                "secrets": sorted(s["ARN"] for ss in state.secrets.values() for s in ss),
                "report": sorted(
                    (r["user"], r["user_creation_time"], r["access_key_1_last_rotated"])
                    for r in state.report
                ),
            }
            for account_id, state in estate.items()
        }

    before = fingerprint(estate)
    reset_emulator(endpoint)
    seed_emulator_random(endpoint, DEFAULT_RANDOM_SEED)
    again = seed_organization(endpoint, now=NOW)
    assert again.accounts == summary.accounts
    assert again.counts == summary.counts
    after = fingerprint(_read_estate(endpoint))
    assert after == before
