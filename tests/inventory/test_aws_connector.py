"""The AWS connector against the local AWS emulator (moto) and botocore's Stubber.

No database: these tests only build connector records.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.retries.standard
import pytest
from botocore.stub import ANY, Stubber
from freezegun import freeze_time
from moto import mock_aws

from inventory.connectors.aws import (
    REQUIRED_ACTIONS,
    AwsConnector,
    match_access_keys,
    parse_credential_report,
    parse_document,
)
from inventory.connectors.base import ConnectorError
from tests.inventory.aws_fixtures import (
    ACCOUNT_ID,
    FailingSend,
    credentials_by_kind,
    fail_requests,
    identities,
    policy_document,
    stubbed_session,
    trust_document,
)

REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials, a fixed region, no endpoint override, no local AWS config."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retry backoff without the waiting, so throttling tests stay fast."""
    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0
    )


def make_connector(**kwargs: Any) -> AwsConnector:
    options: dict[str, Any] = {"retry_mode": "standard", "max_attempts": 3, "sleep": lambda s: None}
    options.update(kwargs)
    return AwsConnector(**options)


def use_key(access_key: Mapping[str, Any]) -> None:
    """Sign one request with an access key (the emulator records its last use)."""
    boto3.client(
        "sts",
        aws_access_key_id=access_key["AccessKeyId"],
        aws_secret_access_key=access_key["SecretAccessKey"],
    ).get_caller_identity()


# --- IAM: users, roles, instance profiles, policies --------------------------------------------


def test_users_roles_and_instance_profiles_come_back_with_policies_resolved(aws: None) -> None:
    iam = boto3.client("iam")
    managed = iam.create_policy(
        PolicyName="ec2-admin", Path="/team/", PolicyDocument=json.dumps(policy_document("ec2:*"))
    )["Policy"]["Arn"]
    iam.create_group(GroupName="deployers")
    iam.put_group_policy(
        GroupName="deployers",
        PolicyName="deploy-s3",
        PolicyDocument=json.dumps(policy_document("s3:PutObject")),
    )
    iam.attach_group_policy(GroupName="deployers", PolicyArn=managed)
    iam.create_user(
        UserName="ci-bot",
        Path="/machines/",
        Tags=[{"Key": "owner", "Value": "olivia.park@example.com"}],
    )
    iam.add_user_to_group(GroupName="deployers", UserName="ci-bot")
    iam.put_user_policy(
        UserName="ci-bot", PolicyName="all", PolicyDocument=json.dumps(policy_document("*"))
    )
    iam.attach_user_policy(UserName="ci-bot", PolicyArn=managed)
    trust = trust_document({"Service": "ec2.amazonaws.com"})
    iam.create_role(
        RoleName="web",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "team", "Value": "web"}],
        MaxSessionDuration=7200,
    )
    iam.put_role_policy(
        RoleName="web", PolicyName="read", PolicyDocument=json.dumps(policy_document("s3:Get*"))
    )
    iam.attach_role_policy(RoleName="web", PolicyArn=managed)
    iam.create_instance_profile(InstanceProfileName="web-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web")

    inventory = make_connector().discover_account(ACCOUNT_ID)

    assert inventory.complete, inventory.errors
    assert inventory.account_id == ACCOUNT_ID
    user = identities(inventory, "iam_user")["ci-bot"]
    assert user.native_id == user.arn == f"arn:aws:iam::{ACCOUNT_ID}:user/machines/ci-bot"
    assert user.path == "/machines/"
    assert user.provider_id
    assert user.tags == {"owner": "olivia.park@example.com"}
    assert user.groups == ["deployers"]
    # (The emulator leaves PermissionsBoundary out of authorization details: see the Stubber test.)
    policies = {(p["source"], p["name"]): p for p in user.policies}
    assert set(policies) == {
        ("inline", "all"),
        ("managed", "ec2-admin"),
        ("group-inline", "deploy-s3"),
        ("group-managed", "ec2-admin"),
    }
    assert policies["inline", "all"]["document"] == policy_document("*")
    assert policies["managed", "ec2-admin"]["arn"] == managed
    assert policies["managed", "ec2-admin"]["document"] == policy_document("ec2:*")
    assert policies["group-inline", "deploy-s3"]["group"] == "deployers"
    assert policies["group-inline", "deploy-s3"]["document"] == policy_document("s3:PutObject")
    assert policies["group-managed", "ec2-admin"]["document"] == policy_document("ec2:*")

    role = identities(inventory, "iam_role")["web"]
    assert role.native_id == f"arn:aws:iam::{ACCOUNT_ID}:role/web"
    assert role.trust_policy == trust
    assert role.tags == {"team": "web"}
    assert role.last_used_at is None
    assert role.attributes == {
        "instance_profiles": ["web-profile"],
        "max_session_duration": 7200,
        "service_linked": False,
    }
    assert {(p["source"], p["name"]) for p in role.policies} == {
        ("inline", "read"),
        ("managed", "ec2-admin"),
    }

    profile = identities(inventory, "instance_profile")["web-profile"]
    assert profile.native_id == f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/web-profile"
    assert profile.attributes["roles"] == ["web"]
    assert profile.attributes["role_arns"] == [role.arn]
    assert {(p["source"], p["role"], p["name"]) for p in profile.policies} == {
        ("role", "web", "read"),
        ("role", "web", "ec2-admin"),
    }
    assert all(p["document"] for p in profile.policies)


def test_role_with_two_instance_profiles_lists_each_profile_once(aws: None) -> None:
    iam = boto3.client("iam")
    iam.create_role(
        RoleName="batch",
        AssumeRolePolicyDocument=json.dumps(trust_document({"Service": "ec2.amazonaws.com"})),
    )
    for name in ("batch-a", "batch-b"):
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName="batch")

    inventory = make_connector().discover_account(ACCOUNT_ID)

    profiles = [r for r in inventory.identities if r.kind == "instance_profile"]
    assert sorted(p.name for p in profiles) == ["batch-a", "batch-b"]
    assert all(p.attributes["roles"] == ["batch"] for p in profiles)
    role = identities(inventory, "iam_role")["batch"]
    assert sorted(role.attributes["instance_profiles"]) == ["batch-a", "batch-b"]
    assert role.attributes["max_session_duration"] == 3600


def test_role_last_used_is_read_once_the_role_has_been_used(aws: None) -> None:
    iam = boto3.client("iam")
    role_arn = iam.create_role(
        RoleName="deployer",
        Path="/ci/",
        AssumeRolePolicyDocument=json.dumps(trust_document({"AWS": ACCOUNT_ID})),
    )["Role"]["Arn"]
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="ci-run")[
        "Credentials"
    ]
    boto3.client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).list_users()

    inventory = make_connector().discover_account(ACCOUNT_ID)

    role = identities(inventory, "iam_role")["deployer"]
    assert role.last_used_at is not None
    assert abs(role.last_used_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert role.last_used_at.tzinfo is not None
    assert role.trust_policy == trust_document({"AWS": ACCOUNT_ID})


# --- credential report merge -------------------------------------------------------------------


def test_console_user_with_mfa_gets_password_and_mfa_credentials(aws: None) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName="olivia")
    iam.create_login_profile(UserName="olivia", Password="A-long-passw0rd!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="olivia")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="olivia",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )

    inventory = make_connector().discover_account(ACCOUNT_ID)

    user = identities(inventory, "iam_user")["olivia"]
    assert user.attributes["password_enabled"] is True
    assert user.attributes["mfa_active"] is True
    assert user.attributes["password_last_used"] is None
    creds = credentials_by_kind(user)
    assert set(creds) == {"password", "mfa_device"}
    (password,) = creds["password"]
    assert password.native_id == "console-password"
    assert password.created_at is not None
    assert password.last_used_at is None
    assert creds["mfa_device"][0].native_id == "mfa"
    assert "ListAccessKeys" not in inventory.api_calls  # no key in the report row


def test_keys_only_user_gets_access_key_credentials_with_ids(aws: None) -> None:
    iam = boto3.client("iam")
    created = datetime.now(UTC) - timedelta(days=400)
    with freeze_time(created):
        iam.create_user(UserName="etl")
        old_key = iam.create_access_key(UserName="etl")["AccessKey"]
    new_key = iam.create_access_key(UserName="etl")["AccessKey"]
    iam.update_access_key(UserName="etl", AccessKeyId=new_key["AccessKeyId"], Status="Inactive")
    use_key(old_key)
    iam.create_user(UserName="no-keys")

    inventory = make_connector().discover_account(ACCOUNT_ID)

    assert inventory.complete, inventory.errors
    user = identities(inventory, "iam_user")["etl"]
    assert user.attributes["password_enabled"] is False
    assert user.attributes["mfa_active"] is False
    keys = {c.native_id: c for c in user.credentials}
    assert set(keys) == {old_key["AccessKeyId"], new_key["AccessKeyId"]}
    assert all(c.kind == "access_key" for c in keys.values())
    old, new = keys[old_key["AccessKeyId"]], keys[new_key["AccessKeyId"]]
    assert old.status == "active"
    assert new.status == "inactive"
    assert old.created_at is not None
    assert abs(old.created_at - created) < timedelta(seconds=2)
    assert old.attributes["report_slot"] == 1
    assert new.attributes["report_slot"] == 2
    assert old.last_used_at is not None
    assert datetime.now(UTC) - old.last_used_at < timedelta(minutes=5)
    assert new.last_used_at is None
    assert user.last_used_at == old.last_used_at
    # ListAccessKeys only for the user with keys; the report covered both keys.
    assert inventory.api_calls["ListAccessKeys"] == 1
    assert "GetAccessKeyLastUsed" not in inventory.api_calls


def test_user_with_password_and_key_gets_both_and_latest_use(aws: None) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName="shared-admin")
    iam.create_login_profile(UserName="shared-admin", Password="A-long-passw0rd!")
    key = iam.create_access_key(UserName="shared-admin")["AccessKey"]
    use_key(key)

    inventory = make_connector().discover_account(ACCOUNT_ID)

    user = identities(inventory, "iam_user")["shared-admin"]
    creds = credentials_by_kind(user)
    assert set(creds) == {"password", "access_key"}
    assert creds["access_key"][0].native_id == key["AccessKeyId"]
    assert user.attributes["password_enabled"] is True
    assert user.attributes["mfa_active"] is False
    assert user.last_used_at == creds["access_key"][0].last_used_at is not None


def test_report_only_mode_skips_key_listing_and_uses_slot_ids(aws: None) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName="etl")
    iam.create_access_key(UserName="etl")

    inventory = make_connector(list_access_key_ids=False).discover_account(ACCOUNT_ID)

    user = identities(inventory, "iam_user")["etl"]
    assert [c.native_id for c in user.credentials] == ["key-1"]
    assert user.credentials[0].status == "active"
    assert "ListAccessKeys" not in inventory.api_calls


def test_credential_report_is_polled_until_complete(aws: None) -> None:
    boto3.client("iam").create_user(UserName="u")
    slept: list[float] = []

    inventory = make_connector(sleep=slept.append).discover_account(ACCOUNT_ID)

    # The emulator answers STARTED, then COMPLETE.
    assert slept == [0.25]
    assert inventory.api_calls["GenerateCredentialReport"] == 2
    assert inventory.api_calls["GetCredentialReport"] == 1
    assert inventory.complete


def test_credential_report_timeout_is_recorded_and_iam_data_kept(aws: None) -> None:
    boto3.client("iam").create_user(UserName="u")

    inventory = make_connector(credential_report_timeout=0).discover_account(ACCOUNT_ID)

    assert not inventory.complete
    assert [(e["operation"], e["code"]) for e in inventory.errors] == [
        ("GenerateCredentialReport", "ReportTimeout")
    ]
    user = identities(inventory, "iam_user")["u"]
    assert user.credentials == []
    assert "password_enabled" not in user.attributes


# --- Stubber: pagination, root row, encoded documents, report-less keys ------------------------


def _report_csv(*rows: str) -> bytes:
    return ("\n".join([REPORT_HEADER, *rows]) + "\n").encode()


def test_authorization_details_pages_are_followed_and_counted_one_call_per_page(
    aws: None,
) -> None:
    managed_arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/ops/deploy"
    encoded = urllib.parse.quote(json.dumps(policy_document("s3:*")))
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    page_one = {
        "UserDetailList": [
            {
                "UserName": "alpha",
                "UserId": "AIDAALPHA0000000001",
                "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/alpha",
                "Path": "/",
                "CreateDate": created,
                "UserPolicyList": [{"PolicyName": "enc", "PolicyDocument": encoded}],
                "AttachedManagedPolicies": [{"PolicyArn": managed_arn}],
                "GroupList": [],
                "Tags": [],
                "PermissionsBoundary": {
                    "PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": managed_arn,
                },
            }
        ],
        "IsTruncated": True,
        "Marker": "page-2",
    }
    page_two = {
        "UserDetailList": [
            {
                "UserName": "beta",
                "UserId": "AIDABETA00000000002",
                "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/beta",
                "Path": "/",
                "CreateDate": created,
            }
        ],
        "Policies": [
            {
                "Arn": managed_arn,
                "DefaultVersionId": "v2",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": False, "Document": "{}"},
                    {
                        "VersionId": "v2",
                        "IsDefaultVersion": True,
                        "Document": json.dumps(policy_document("ssm:*")),
                    },
                ],
            }
        ],
        "IsTruncated": False,
    }
    report = _report_csv(
        f"<root_account>,arn:aws:iam::{ACCOUNT_ID}:root,2020-01-01T00:00:00+00:00,not_supported,"
        "2026-11-30T10:00:00+00:00,not_supported,not_supported,false,true,"
        "2021-05-05T05:05:05+00:00,2026-11-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,"
        "false,N/A,false,N/A",
        f"alpha,arn:aws:iam::{ACCOUNT_ID}:user/alpha,2024-01-02T03:04:05+00:00,false,N/A,N/A,"
        "N/A,false,true,2024-01-02T03:04:06+00:00,2026-11-20T08:00:00+00:00,eu-west-1,sqs,"
        "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        f"beta,arn:aws:iam::{ACCOUNT_ID}:user/beta,2024-01-02T03:04:05+00:00,false,N/A,N/A,"
        "N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    )
    alpha_keys = [
        {
            "UserName": "alpha",
            "AccessKeyId": "AKIAALPHAONE0000001",
            "Status": "Active",
            "CreateDate": datetime(2024, 1, 2, 3, 4, 6, 500000, tzinfo=UTC),
        },
        {  # created after the report was generated
            "UserName": "alpha",
            "AccessKeyId": "AKIAALPHATWO0000002",
            "Status": "Active",
            "CreateDate": datetime(2026, 12, 1, tzinfo=UTC),
        },
    ]

    def stub_iam(stubber: Stubber) -> None:
        expected = {"Filter": ANY, "MaxItems": 1000}
        stubber.add_response("get_account_authorization_details", page_one, expected)
        stubber.add_response(
            "get_account_authorization_details", page_two, {**expected, "Marker": "page-2"}
        )
        stubber.add_response("generate_credential_report", {"State": "COMPLETE"})
        stubber.add_response(
            "get_credential_report",
            {
                "Content": base64.b64encode(report),
                "ReportFormat": "text/csv",
                "GeneratedTime": datetime(2026, 11, 30, tzinfo=UTC),
            },
        )
        stubber.add_response(
            "list_access_keys", {"AccessKeyMetadata": alpha_keys}, {"UserName": "alpha"}
        )
        stubber.add_response(
            "get_access_key_last_used",
            {"UserName": "alpha", "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}},
            {"AccessKeyId": "AKIAALPHATWO0000002"},
        )

    session, stubbers = stubbed_session({"iam": stub_iam})

    inventory = make_connector(session=session).discover_account(ACCOUNT_ID)

    for stubber in stubbers:
        stubber.assert_no_pending_responses()
    assert inventory.complete, inventory.errors
    assert inventory.api_calls["GetAccountAuthorizationDetails"] == 2
    assert inventory.api_calls["ListAccessKeys"] == 1  # beta's row shows no key
    assert inventory.api_calls["GetAccessKeyLastUsed"] == 1  # only the key after the report
    users = identities(inventory, "iam_user")
    assert set(users) == {"alpha", "beta"}
    alpha = users["alpha"]
    assert alpha.attributes["permissions_boundary"] == managed_arn
    policies = {p["name"]: p for p in alpha.policies}
    assert policies["enc"]["document"] == policy_document("s3:*")
    # A policy of page 2 resolves a user of page 1; the name comes from the ARN.
    assert policies["deploy"]["arn"] == managed_arn
    assert policies["deploy"]["document"] == policy_document("ssm:*")
    keys = {c.native_id: c for c in alpha.credentials}
    assert keys["AKIAALPHAONE0000001"].last_used_service == "sqs"
    assert keys["AKIAALPHAONE0000001"].last_used_region == "eu-west-1"
    assert keys["AKIAALPHAONE0000001"].last_used_at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert keys["AKIAALPHATWO0000002"].last_used_at is None
    assert keys["AKIAALPHATWO0000002"].last_used_service == ""
    assert alpha.last_used_at == datetime(2026, 11, 20, 8, tzinfo=UTC)

    (root,) = identities(inventory, "root").values()
    assert root.native_id == f"arn:aws:iam::{ACCOUNT_ID}:root"
    assert root.name == "root"
    creds = credentials_by_kind(root)
    assert set(creds) == {"password", "access_key"}
    assert creds["access_key"][0].native_id == "key-1"
    assert creds["access_key"][0].status == "active"
    assert creds["access_key"][0].created_at == datetime(2021, 5, 5, 5, 5, 5, tzinfo=UTC)
    assert creds["password"][0].last_used_at == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert root.last_used_at == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert root.attributes["mfa_active"] is False


# --- throttling and errors ---------------------------------------------------------------------


def test_throttling_is_retried_and_counted_not_failed(aws: None, no_retry_sleep: None) -> None:
    boto3.client("iam").create_user(UserName="u")
    session = boto3.session.Session()
    throttle = fail_requests(
        session, "iam.GetAccountAuthorizationDetails", FailingSend("Throttling", times=2)
    )

    inventory = make_connector(session=session, max_attempts=3).discover_account(ACCOUNT_ID)

    assert throttle.failed == 2
    assert inventory.complete, inventory.errors
    assert inventory.errors == []
    assert inventory.throttled_retries == 2
    assert inventory.api_calls["GetAccountAuthorizationDetails"] == 1
    assert "u" in identities(inventory, "iam_user")


def test_throttling_in_adaptive_mode_is_retried(aws: None, no_retry_sleep: None) -> None:
    session = boto3.session.Session()
    fail_requests(session, "secrets-manager.ListSecrets", FailingSend("ThrottlingException", 1))

    inventory = make_connector(session=session, retry_mode="adaptive").discover_account(ACCOUNT_ID)

    assert inventory.complete, inventory.errors
    assert inventory.throttled_retries == 1


def test_throttling_that_exhausts_retries_is_recorded_and_the_rest_returned(
    aws: None, no_retry_sleep: None
) -> None:
    boto3.client("iam").create_user(UserName="u")
    session = boto3.session.Session()
    throttle = fail_requests(
        session, "secrets-manager.ListSecrets", FailingSend("ThrottlingException")
    )

    # max_attempts is the total number of attempts: three answers, two of them retried.
    inventory = make_connector(session=session, max_attempts=3).discover_account(ACCOUNT_ID)

    assert throttle.failed == 3
    assert not inventory.complete
    assert inventory.errors == [
        {
            "operation": "ListSecrets",
            "region": "us-east-1",
            "code": "ThrottlingException",
            "message": "ThrottlingException (injected by the test)",
        }
    ]
    assert inventory.throttled_retries == 2  # the third, final answer was not retried
    assert "u" in identities(inventory, "iam_user")


def test_access_denied_in_one_secrets_region_is_recorded_and_other_data_returned(
    aws: None,
) -> None:
    boto3.client("iam").create_user(UserName="u")
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="db-password", SecretString="hunter2"
    )
    session = boto3.session.Session()
    fail_requests(
        session,
        "secrets-manager.ListSecrets",
        FailingSend("AccessDeniedException", url_contains="eu-west-1"),
    )

    inventory = make_connector(session=session).discover_account(
        ACCOUNT_ID, regions=["us-east-1", "eu-west-1"]
    )

    assert not inventory.complete
    assert [(e["operation"], e["region"], e["code"]) for e in inventory.errors] == [
        ("ListSecrets", "eu-west-1", "AccessDeniedException")
    ]
    assert "u" in identities(inventory, "iam_user")
    assert "db-password" in identities(inventory, "secret")


def test_an_invalid_region_is_recorded_and_repeated_regions_read_once(aws: None) -> None:
    boto3.client("secretsmanager").create_secret(Name="api-token", SecretString="x")

    inventory = make_connector().discover_account(
        ACCOUNT_ID, regions=["us-east-1", "us-east-1", "not a region"]
    )

    assert [s.name for s in inventory.identities if s.kind == "secret"] == ["api-token"]
    assert inventory.api_calls["ListSecrets"] == 1
    assert not inventory.complete
    assert [(e["region"], e["code"]) for e in inventory.errors] == [
        ("not a region", "InvalidRegionError")
    ]


def test_access_denied_on_authorization_details_keeps_secrets(aws: None) -> None:
    boto3.client("iam").create_user(UserName="u")
    boto3.client("secretsmanager").create_secret(Name="api-token", SecretString="x")
    session = boto3.session.Session()
    fail_requests(
        session, "iam.GetAccountAuthorizationDetails", FailingSend("AccessDenied", status=403)
    )

    inventory = make_connector(session=session).discover_account(ACCOUNT_ID)

    assert not inventory.complete
    assert [(e["operation"], e["code"]) for e in inventory.errors] == [
        ("GetAccountAuthorizationDetails", "AccessDenied")
    ]
    assert identities(inventory, "iam_user") == {}
    assert "api-token" in identities(inventory, "secret")
    assert "ListAccessKeys" not in inventory.api_calls


def test_access_denied_on_credential_report_keeps_iam_data(aws: None) -> None:
    boto3.client("iam").create_user(UserName="u")
    session = boto3.session.Session()
    fail_requests(session, "iam.GenerateCredentialReport", FailingSend("AccessDenied", status=403))

    inventory = make_connector(session=session).discover_account(ACCOUNT_ID)

    assert not inventory.complete
    assert [(e["operation"], e["code"]) for e in inventory.errors] == [
        ("GenerateCredentialReport", "AccessDenied")
    ]
    assert "u" in identities(inventory, "iam_user")


# --- secrets -----------------------------------------------------------------------------------


def test_secrets_are_listed_per_region_with_rotation_facts_and_no_value(aws: None) -> None:
    east = boto3.client("secretsmanager", region_name="us-east-1")
    west = boto3.client("secretsmanager", region_name="eu-west-1")
    rotated_arn = east.create_secret(
        Name="db/password",
        SecretString="s3cr3t-value-1",
        Description="orders database",
        KmsKeyId="alias/orders",
        Tags=[{"Key": "owner", "Value": "team-orders"}],
    )["ARN"]
    east.rotate_secret(SecretId=rotated_arn, RotationRules={"AutomaticallyAfterDays": 30})
    west.create_secret(Name="api-token", SecretString="s3cr3t-value-2")

    inventory = make_connector().discover_account(ACCOUNT_ID, regions=["us-east-1", "eu-west-1"])

    secrets = identities(inventory, "secret")
    assert set(secrets) == {"db/password", "api-token"}
    rotated = secrets["db/password"]
    assert rotated.native_id == rotated.arn == rotated_arn
    assert rotated.region == "us-east-1"
    assert rotated.tags == {"owner": "team-orders"}
    assert rotated.created_at is not None
    assert rotated.attributes["rotation_enabled"] is True
    assert rotated.attributes["rotation_days"] == 30
    assert rotated.attributes["last_rotated_at"] is not None
    assert rotated.attributes["description"] == "orders database"
    assert rotated.attributes["kms_key_id"] == "alias/orders"
    (credential,) = rotated.credentials
    assert credential.kind == "secret"
    assert credential.native_id == rotated_arn
    assert credential.last_rotated_at is not None
    assert credential.attributes == {"rotation_enabled": True}
    plain = secrets["api-token"]
    assert plain.region == "eu-west-1"
    assert plain.attributes["rotation_enabled"] is False
    assert plain.attributes["last_rotated_at"] is None
    assert inventory.api_calls["ListSecrets"] == 2
    assert "GetSecretValue" not in inventory.api_calls


def test_no_secret_values_anywhere_in_the_inventory(aws: None) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName="etl")
    key = iam.create_access_key(UserName="etl")["AccessKey"]
    iam.create_login_profile(UserName="etl", Password="Pa55word-never-shown")
    boto3.client("secretsmanager").create_secret(
        Name="db", SecretString="the-secret-string-never-shown"
    )

    inventory = make_connector().discover_account(ACCOUNT_ID)

    text = repr(inventory)
    assert key["AccessKeyId"] in text
    assert key["SecretAccessKey"] not in text
    assert "Pa55word-never-shown" not in text
    assert "the-secret-string-never-shown" not in text
    assert "SecretAccessKey" not in text


# --- organizations and assumed roles -----------------------------------------------------------


def _member_account() -> str:
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    status = organizations.create_account(Email="member@example.com", AccountName="member")
    return str(status["CreateAccountStatus"]["AccountId"])


def _member_session(account_id: str) -> boto3.session.Session:
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="test-setup",
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


def test_list_accounts_marks_the_management_account(aws: None) -> None:
    member_id = _member_account()

    accounts = {a.account_id: a for a in make_connector().list_accounts()}

    assert set(accounts) == {ACCOUNT_ID, member_id}
    assert accounts[ACCOUNT_ID].is_management
    assert not accounts[member_id].is_management
    assert accounts[member_id].name == "member"
    assert accounts[member_id].email == "member@example.com"
    assert accounts[member_id].status == "ACTIVE"


def test_list_accounts_outside_an_organization_raises(aws: None) -> None:
    with pytest.raises(ConnectorError) as raised:
        make_connector().list_accounts()
    assert raised.value.code == "AWSOrganizationsNotInUseException"


def test_assumed_role_discovery_returns_the_member_accounts_identities(aws: None) -> None:
    member_id = _member_account()
    _member_session(member_id).client("iam").create_user(UserName="member-bot")
    boto3.client("iam").create_user(UserName="management-bot")

    inventory = make_connector().discover_account(
        member_id, role_name="OrganizationAccountAccessRole", external_id="nhigov-ext"
    )

    assert inventory.account_id == member_id
    users = identities(inventory, "iam_user")
    assert set(users) == {"member-bot"}
    assert users["member-bot"].arn == f"arn:aws:iam::{member_id}:user/member-bot"
    assert "OrganizationAccountAccessRole" in identities(inventory, "iam_role")
    assert inventory.api_calls["AssumeRole"] == 1
    assert member_id in repr(inventory)


def test_assume_role_failure_raises_connector_error(aws: None) -> None:
    session = boto3.session.Session()
    fail_requests(session, "sts.AssumeRole", FailingSend("AccessDenied", status=403))

    with pytest.raises(ConnectorError) as raised:
        make_connector(session=session).discover_account(
            "210987654321", role_name="OrganizationAccountAccessRole"
        )

    assert raised.value.code == "AccessDenied"
    assert raised.value.operation == "AssumeRole"


def test_discovery_without_role_refuses_credentials_of_another_account(aws: None) -> None:
    with pytest.raises(ConnectorError) as raised:
        make_connector().discover_account("210987654321")
    assert raised.value.code == "AccountMismatch"


def test_no_credentials_at_all_raises_connector_error(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)

    with pytest.raises(ConnectorError) as raised:
        make_connector().discover_account(ACCOUNT_ID)

    assert raised.value.code == "NoCredentialsError"


# --- caller identity and connection test -------------------------------------------------------


def test_caller_identity_names_the_account(aws: None) -> None:
    identity = make_connector().caller_identity()
    assert identity["account_id"] == ACCOUNT_ID
    assert identity["arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:")
    assert identity["user_id"]


def test_connection_ok_with_and_without_a_role(aws: None) -> None:
    member_id = _member_account()
    connector = make_connector()

    direct = connector.test_connection()
    assumed = connector.test_connection(member_id, role_name="OrganizationAccountAccessRole")

    assert direct == {
        "ok": True,
        "account_id": ACCOUNT_ID,
        "arn": direct["arn"],
        "error": None,
    }
    assert assumed["ok"] is True
    assert assumed["account_id"] == member_id
    assert "assumed-role/OrganizationAccountAccessRole/nhigov-discovery" in assumed["arn"]


def test_connection_denied_is_reported_not_raised(aws: None) -> None:
    session = boto3.session.Session()
    fail_requests(session, "iam.GetAccountSummary", FailingSend("AccessDenied", status=403))

    result = make_connector(session=session).test_connection(ACCOUNT_ID)

    assert result["ok"] is False
    assert result["account_id"] == ACCOUNT_ID
    assert result["error"]["code"] == "AccessDenied"
    assert result["error"]["operation"] == "GetAccountSummary"


def test_connection_with_unassumable_role_is_reported_not_raised(aws: None) -> None:
    session = boto3.session.Session()
    fail_requests(session, "sts.AssumeRole", FailingSend("AccessDenied", status=403))

    result = make_connector(session=session).test_connection("210987654321", role_name="Discovery")

    assert result["ok"] is False
    assert result["error"]["operation"] == "AssumeRole"


# --- parsers -----------------------------------------------------------------------------------


def test_policy_documents_parse_from_dict_json_and_url_encoded_text() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Condition": {"x": "100%"}}]}
    assert parse_document(document) == document
    assert parse_document(json.dumps(document)) == document
    assert parse_document(urllib.parse.quote(json.dumps(document))) == document
    assert parse_document("not json {") == {"_unparsed": "not json {"}
    assert parse_document(None) == {}


def test_credential_report_values_meaning_nothing_become_none() -> None:
    rows = parse_credential_report(
        _report_csv(
            "u,arn:aws:iam::1:user/u,2024-01-01T00:00:00Z,true,no_information,"
            "2024-02-01T00:00:00+01:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
            "false,N/A,false,N/A"
        ).decode()
    )
    row = rows["u"]
    assert row.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert row.password_enabled is True
    assert row.password_last_used is None
    assert row.password_last_changed == datetime(2024, 1, 31, 23, tzinfo=UTC)
    assert row.mfa_active is True
    assert row.keys == ()


def test_keys_match_report_columns_by_creation_second_then_by_order() -> None:
    rows = parse_credential_report(
        _report_csv(
            "u,arn:aws:iam::1:user/u,2024-01-01T00:00:00Z,false,N/A,N/A,N/A,false,"
            "true,2024-03-01T00:00:00Z,N/A,N/A,N/A,"
            "false,2024-01-01T00:00:00Z,N/A,N/A,N/A,false,N/A,false,N/A"
        )
    )
    columns = rows["u"].keys
    listed = [
        {"AccessKeyId": "B", "Status": "Active", "CreateDate": datetime(2024, 3, 1, 0, 0, 0, 9)},
        {"AccessKeyId": "A", "Status": "Inactive", "CreateDate": datetime(2023, 12, 31)},
    ]

    pairs = {key["AccessKeyId"]: column for key, column in match_access_keys(listed, columns)}

    assert pairs["B"] is not None and pairs["B"].slot == 1  # same second
    assert pairs["A"] is not None and pairs["A"].slot == 2  # by order and status


def test_required_actions_are_read_only() -> None:
    assert "iam:GetAccountAuthorizationDetails" in REQUIRED_ACTIONS
    assert "secretsmanager:ListSecrets" in REQUIRED_ACTIONS
    assert "secretsmanager:GetSecretValue" not in REQUIRED_ACTIONS
    verbs = ("Get", "List", "Describe", "Generate", "AssumeRole")
    assert all(action.split(":")[1].startswith(verbs) for action in REQUIRED_ACTIONS)


def test_from_settings_reads_the_aws_settings() -> None:
    try:
        from django.conf import settings
        from django.test import override_settings

        settings.NHIGOV_AWS_RETRY_MODE  # noqa: B018 (settings must load)
    except Exception:  # pragma: no cover - run without Django settings
        pytest.skip("Django settings are not available")
    with override_settings(
        NHIGOV_AWS_RETRY_MODE="standard",
        NHIGOV_AWS_MAX_ATTEMPTS=4,
        NHIGOV_AWS_DEFAULT_REGION="eu-central-1",
        NHIGOV_CREDENTIAL_REPORT_TIMEOUT_SECONDS=12,
    ):
        connector = AwsConnector.from_settings()
    assert connector._config.retries == {  # type: ignore[attr-defined]
        "mode": "standard",
        "total_max_attempts": 4,  # NHIGOV_AWS_MAX_ATTEMPTS counts every attempt, the first too
    }
    assert connector._default_region == "eu-central-1"
    assert connector._report_timeout == 12
