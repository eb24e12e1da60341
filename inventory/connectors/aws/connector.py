"""The AWS connector itself: :class:`AwsConnector` (sessions and clients, the four reading
steps, the connection test) and the translation of botocore errors into recorded errors or
:class:`~inventory.connectors.base.ConnectorError`.

The contract and the reading order ("the module docstring" below) are in the package
docstring, :mod:`inventory.connectors.aws`.
"""

from __future__ import annotations

import csv
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
)

from inventory.choices import CredentialKind
from inventory.connectors.aws.metering import _CallMeter
from inventory.connectors.aws.parsing import (
    ROOT_ROW,
    _report_text,
    _ReportKey,
    _ReportRow,
    _utc,
    parse_credential_report,
)
from inventory.connectors.aws.records import (
    _IamSnapshot,
    _key_status,
    _report_key_credential,
    _report_only_key_credentials,
    build_instance_profiles,
    build_role,
    build_root,
    build_secret,
    build_user,
    match_access_keys,
)
from inventory.connectors.base import (
    AccountInfo,
    AccountInventory,
    ConnectorError,
    CredentialRecord,
    IdentityRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sts import STSClient

logger = logging.getLogger(__name__)

RetryMode = Literal["legacy", "standard", "adaptive"]
RETRY_MODES: tuple[RetryMode, ...] = ("adaptive", "standard", "legacy")
ROLE_SESSION_NAME = "nhigov-discovery"
USER_AGENT_EXTRA = "nhigov"
AUTHORIZATION_DETAILS_FILTER = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
AUTHORIZATION_DETAILS_PAGE_SIZE = 1000
LIST_SECRETS_PAGE_SIZE = 100
_CREDENTIAL_ERRORS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)
_ACCOUNT_ID = re.compile(r"\d{12}")
_REPORT_MAX_POLL_DELAY = 30.0


# --- errors ------------------------------------------------------------------------------------


def _error_fields(exc: Exception, operation: str) -> tuple[str, str, str]:
    """(operation, code, message) of a botocore exception."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (
            exc.operation_name or operation,
            str(error.get("Code", "")),
            str(error.get("Message", "")) or str(exc),
        )
    return operation, type(exc).__name__, str(exc)


def _connector_error(exc: Exception, operation: str) -> ConnectorError:
    operation, code, message = _error_fields(exc, operation)
    return ConnectorError(message, code=code, operation=operation)


def _record_error(
    inventory: AccountInventory, exc: Exception, operation: str, region: str = ""
) -> None:
    if isinstance(exc, _CREDENTIAL_ERRORS):
        raise _connector_error(exc, operation) from exc
    operation, code, message = _error_fields(exc, operation)
    logger.warning(
        "AWS %s failed in account %s region %s: %s", operation, inventory.account_id, region, code
    )
    inventory.errors.append(
        {"operation": operation, "region": region, "code": code, "message": message}
    )
    inventory.complete = False


# --- the connector -----------------------------------------------------------------------------


class AwsConnector:
    """Discovers the non-human identities of AWS accounts. See the module docstring."""

    def __init__(
        self,
        *,
        session: boto3.session.Session | None = None,
        retry_mode: str = "adaptive",
        max_attempts: int = 10,
        default_region: str = "us-east-1",
        credential_report_timeout: float = 300,
        sleep: Callable[[float], None] = time.sleep,
        list_access_key_ids: bool = True,
    ) -> None:
        """``max_attempts``: the TOTAL number of attempts per AWS call, the first one included
        (``NHIGOV_AWS_MAX_ATTEMPTS``, like ``AWS_MAX_ATTEMPTS``); 1 means no retry."""
        self._session = session if session is not None else boto3.session.Session()
        if retry_mode not in RETRY_MODES:
            raise ValueError(f"retry_mode must be one of {', '.join(RETRY_MODES)}.")
        # ``max_attempts`` is the TOTAL number of attempts per call, the first one included (the
        # ``AWS_MAX_ATTEMPTS`` convention): botocore's ``total_max_attempts``, not its
        # ``max_attempts`` (retries after the first attempt).
        self._config = Config(
            retries={"mode": cast("RetryMode", retry_mode), "total_max_attempts": max_attempts},
            user_agent_extra=USER_AGENT_EXTRA,
        )
        self._default_region = default_region
        self._report_timeout = float(credential_report_timeout)
        self._sleep = sleep
        self._list_access_key_ids = list_access_key_ids

    @classmethod
    def from_settings(cls) -> AwsConnector:
        from django.conf import settings

        return cls(
            retry_mode=settings.NHIGOV_AWS_RETRY_MODE,
            max_attempts=settings.NHIGOV_AWS_MAX_ATTEMPTS,
            default_region=settings.NHIGOV_AWS_DEFAULT_REGION,
            credential_report_timeout=settings.NHIGOV_CREDENTIAL_REPORT_TIMEOUT_SECONDS,
        )

    # --- public API ----------------------------------------------------------------------------

    def caller_identity(self) -> dict[str, str]:
        """Who the base credentials are: ``{"account_id", "arn", "user_id"}``."""
        return self._caller_identity(self._session, _CallMeter())

    def list_accounts(self) -> list[AccountInfo]:
        """The accounts of the Organization the base credentials belong to."""
        try:
            organizations = self._organizations(self._session, _CallMeter())
            organization = organizations.describe_organization()["Organization"]
            management_id = organization.get("MasterAccountId", "")
            accounts = []
            for page in organizations.get_paginator("list_accounts").paginate():
                for account in page.get("Accounts", []):
                    account_id = account.get("Id", "")
                    accounts.append(
                        AccountInfo(
                            account_id=account_id,
                            name=account.get("Name", ""),
                            email=account.get("Email", ""),
                            status=account.get("State") or account.get("Status") or "ACTIVE",
                            is_management=account_id == management_id,
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _connector_error(exc, "ListAccounts") from exc
        return accounts

    def discover_account(
        self,
        account_id: str,
        *,
        role_name: str = "",
        external_id: str = "",
        regions: Sequence[str] = (),
    ) -> AccountInventory:
        """Everything the connector can read of one account; see the module docstring."""
        meter = _CallMeter()
        session, account_id = self._account_session(account_id, role_name, external_id, meter)
        inventory = AccountInventory(account_id=account_id)
        iam = self._iam(session, meter)

        snapshot = self._read_authorization_details(iam, inventory)
        report = self._read_credential_report(iam, inventory)
        keys = self._read_access_keys(iam, snapshot, report, inventory)
        inventory.identities.extend(self._iam_identities(account_id, snapshot, report, keys))
        for region in dict.fromkeys(regions or (self._default_region,)):
            inventory.identities.extend(self._read_secrets(session, region, meter, inventory))

        inventory.api_calls = dict(sorted(meter.calls.items()))
        inventory.throttled_retries = meter.throttled_retries
        return inventory

    def test_connection(
        self, account_id: str = "", *, role_name: str = "", external_id: str = ""
    ) -> dict[str, Any]:
        """Assume (when a role is named), ``GetCallerIdentity`` and one read call.

        Returns ``{"ok", "account_id", "arn", "error"}``; AWS errors are returned, not raised.
        """
        result: dict[str, Any] = {"ok": False, "account_id": account_id, "arn": "", "error": None}
        meter = _CallMeter()
        try:
            session = self._session
            if role_name:
                session = self._assume_role(account_id, role_name, external_id, meter)
            identity = self._caller_identity(session, meter)
            result.update(account_id=identity["account_id"], arn=identity["arn"])
            if account_id and identity["account_id"] != account_id:
                raise ConnectorError(
                    f"The credentials belong to account {identity['account_id']}, "
                    f"not {account_id}.",
                    code="AccountMismatch",
                    operation="GetCallerIdentity",
                )
            try:
                self._iam(session, meter).get_account_summary()
            except (ClientError, BotoCoreError) as exc:
                raise _connector_error(exc, "GetAccountSummary") from exc
        except ConnectorError as exc:
            result["error"] = {"code": exc.code, "message": str(exc), "operation": exc.operation}
            return result
        result["ok"] = True
        return result

    # --- sessions and clients ------------------------------------------------------------------

    def _partition(self) -> str:
        try:
            return self._session.get_partition_for_region(self._default_region)
        except Exception:  # an unknown region name: the commercial partition
            return "aws"

    def _account_session(
        self, account_id: str, role_name: str, external_id: str, meter: _CallMeter
    ) -> tuple[boto3.session.Session, str]:
        """The session to read the account with, and the account id it is for."""
        if role_name:
            return self._assume_role(account_id, role_name, external_id, meter), account_id
        identity = self._caller_identity(self._session, meter)
        if account_id and identity["account_id"] != account_id:
            raise ConnectorError(
                f"No role name given and the credentials belong to account "
                f"{identity['account_id']}, not {account_id}.",
                code="AccountMismatch",
                operation="GetCallerIdentity",
            )
        return self._session, identity["account_id"]

    def _assume_role(
        self, account_id: str, role_name: str, external_id: str, meter: _CallMeter
    ) -> boto3.session.Session:
        if not _ACCOUNT_ID.fullmatch(account_id or ""):
            raise ConnectorError(
                f"{account_id!r} is not a 12-digit AWS account id.",
                code="InvalidAccountId",
                operation="AssumeRole",
            )
        role_arn = f"arn:{self._partition()}:iam::{account_id}:role/{role_name.strip('/')}"
        try:
            sts = self._sts(self._session, meter)
            if external_id:
                response = sts.assume_role(
                    RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME, ExternalId=external_id
                )
            else:
                response = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)
        except (ClientError, BotoCoreError) as exc:
            raise _connector_error(exc, "AssumeRole") from exc
        credentials = response["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._default_region,
        )

    def _caller_identity(self, session: boto3.session.Session, meter: _CallMeter) -> dict[str, str]:
        try:
            response = self._sts(session, meter).get_caller_identity()
        except (ClientError, BotoCoreError) as exc:
            raise _connector_error(exc, "GetCallerIdentity") from exc
        return {
            "account_id": response.get("Account", ""),
            "arn": response.get("Arn", ""),
            "user_id": response.get("UserId", ""),
        }

    def _iam(self, session: boto3.session.Session, meter: _CallMeter) -> IAMClient:
        client = session.client("iam", region_name=self._default_region, config=self._config)
        meter.attach(client)
        return client

    def _sts(self, session: boto3.session.Session, meter: _CallMeter) -> STSClient:
        client = session.client("sts", region_name=self._default_region, config=self._config)
        meter.attach(client)
        return client

    def _organizations(
        self, session: boto3.session.Session, meter: _CallMeter
    ) -> OrganizationsClient:
        client = session.client(
            "organizations", region_name=self._default_region, config=self._config
        )
        meter.attach(client)
        return client

    def _secrets(
        self, session: boto3.session.Session, region: str, meter: _CallMeter
    ) -> SecretsManagerClient:
        client = session.client("secretsmanager", region_name=region, config=self._config)
        meter.attach(client)
        return client

    # --- reading -------------------------------------------------------------------------------

    def _read_authorization_details(
        self, iam: IAMClient, inventory: AccountInventory
    ) -> _IamSnapshot | None:
        """Step 1: one paginated GetAccountAuthorizationDetails; None when it was refused."""
        snapshot = _IamSnapshot()
        paginator = iam.get_paginator("get_account_authorization_details")
        pages = paginator.paginate(
            Filter=AUTHORIZATION_DETAILS_FILTER,  # type: ignore[arg-type]
            PaginationConfig={"PageSize": AUTHORIZATION_DETAILS_PAGE_SIZE},
        )
        read_any = False
        try:
            for page in pages:
                snapshot.add_page(page)
                read_any = True
        except (ClientError, BotoCoreError) as exc:
            _record_error(inventory, exc, "GetAccountAuthorizationDetails")
        return snapshot if read_any else None

    def _read_credential_report(
        self, iam: IAMClient, inventory: AccountInventory
    ) -> dict[str, _ReportRow] | None:
        """Step 2: generate (poll until COMPLETE, bounded) and parse the credential report."""
        try:
            if not self._wait_for_credential_report(iam):
                inventory.errors.append(
                    {
                        "operation": "GenerateCredentialReport",
                        "region": "",
                        "code": "ReportTimeout",
                        "message": "The credential report was not complete after "
                        f"{self._report_timeout:g} seconds.",
                    }
                )
                inventory.complete = False
                return None
            response = iam.get_credential_report()
        except (ClientError, BotoCoreError) as exc:
            _record_error(inventory, exc, "GetCredentialReport")
            return None
        try:
            return parse_credential_report(response.get("Content", b""))
        except (ValueError, csv.Error) as exc:
            inventory.errors.append(
                {
                    "operation": "GetCredentialReport",
                    "region": "",
                    "code": "ReportUnparseable",
                    "message": str(exc),
                }
            )
            inventory.complete = False
            return None

    def _wait_for_credential_report(self, iam: IAMClient) -> bool:
        started = time.monotonic()
        waited = 0.0
        delay = 0.25  # reports of small accounts are ready almost at once; backs off to 30 s
        while True:
            if iam.generate_credential_report().get("State") == "COMPLETE":
                return True
            remaining = self._report_timeout - max(waited, time.monotonic() - started)
            if remaining <= 0:
                return False
            pause = min(delay, remaining)
            self._sleep(pause)
            waited += pause
            delay = min(delay * 2, _REPORT_MAX_POLL_DELAY)

    def _read_access_keys(
        self,
        iam: IAMClient,
        snapshot: _IamSnapshot | None,
        report: dict[str, _ReportRow] | None,
        inventory: AccountInventory,
    ) -> dict[str, list[CredentialRecord]]:
        """Step 3: access key credentials per user name.

        ListAccessKeys only for users whose report row shows a key (or who are newer than the
        report); GetAccessKeyLastUsed only for keys the report has no column for.
        """
        if snapshot is None or report is None:
            return {}
        keys: dict[str, list[CredentialRecord]] = {}
        for detail in snapshot.users:
            name = detail.get("UserName", "")
            row = report.get(name)
            if not self._list_access_key_ids:
                keys[name] = _report_only_key_credentials(row) if row else []
                continue
            if row is not None and not row.keys:
                continue
            try:
                listed = iam.list_access_keys(UserName=name).get("AccessKeyMetadata", [])
                keys[name] = [
                    self._key_credential(iam, key, column)
                    for key, column in match_access_keys(listed, row.keys if row else ())
                ]
            except (ClientError, BotoCoreError) as exc:
                _record_error(inventory, exc, "ListAccessKeys")
                keys[name] = _report_only_key_credentials(row) if row else []
        return keys

    def _key_credential(
        self, iam: IAMClient, key: Mapping[str, Any], column: _ReportKey | None
    ) -> CredentialRecord:
        key_id = key.get("AccessKeyId", "")
        created_at = _utc(key.get("CreateDate"))
        status = _key_status(key.get("Status") == "Active")
        if column is not None:
            record = _report_key_credential(column, key_id)
            return CredentialRecord(
                kind=record.kind,
                native_id=key_id,
                status=status,
                created_at=created_at or record.created_at,
                last_used_at=record.last_used_at,
                last_used_service=record.last_used_service,
                last_used_region=record.last_used_region,
                last_rotated_at=created_at or record.last_rotated_at,
                attributes=record.attributes,
            )
        used = iam.get_access_key_last_used(AccessKeyId=key_id).get("AccessKeyLastUsed", {})
        return CredentialRecord(
            kind=str(CredentialKind.ACCESS_KEY),
            native_id=key_id,
            status=status,
            created_at=created_at,
            last_used_at=_utc(used.get("LastUsedDate")),
            last_used_service=_report_text(used.get("ServiceName")),
            last_used_region=_report_text(used.get("Region")),
            last_rotated_at=created_at,
        )

    def _iam_identities(
        self,
        account_id: str,
        snapshot: _IamSnapshot | None,
        report: dict[str, _ReportRow] | None,
        keys: Mapping[str, list[CredentialRecord]],
    ) -> list[IdentityRecord]:
        identities: list[IdentityRecord] = []
        if report is not None and ROOT_ROW in report:
            identities.append(build_root(report[ROOT_ROW], account_id, self._partition()))
        if snapshot is None:
            return identities
        for detail in snapshot.users:
            name = detail.get("UserName", "")
            row = report.get(name) if report is not None else None
            identities.append(build_user(detail, snapshot, row, keys.get(name, [])))
        roles = {
            detail.get("RoleName", ""): build_role(detail, snapshot) for detail in snapshot.roles
        }
        identities.extend(roles.values())
        identities.extend(build_instance_profiles(snapshot.roles, roles))
        return identities

    def _read_secrets(
        self,
        session: boto3.session.Session,
        region: str,
        meter: _CallMeter,
        inventory: AccountInventory,
    ) -> list[IdentityRecord]:
        """Step 4: secret metadata of one region (never GetSecretValue)."""
        secrets: list[IdentityRecord] = []
        try:
            pages = (
                self._secrets(session, region, meter)
                .get_paginator("list_secrets")
                .paginate(
                    IncludePlannedDeletion=False,
                    PaginationConfig={"PageSize": LIST_SECRETS_PAGE_SIZE},
                )
            )
            for page in pages:
                secrets.extend(build_secret(entry, region) for entry in page.get("SecretList", []))
        except (ClientError, BotoCoreError) as exc:  # also an invalid region name
            _record_error(inventory, exc, "ListSecrets", region)
        return secrets
