"""AWS discovery connector: reads IAM, the credential report and Secrets Manager into records.

Contract (see :mod:`inventory.connectors.base`): the connector is pure. It reads AWS with
read-only calls and returns :class:`~inventory.connectors.base.AccountInventory` objects; it never
touches the database, never calls ``secretsmanager:GetSecretValue`` and never keeps a secret
value (a secret access key, a password, a secret string, or the temporary credentials of an
assumed role) in a record. A failure to read one part of an account (AccessDenied in one region,
a credential report that never completes, a throttled call that ran out of retries) is recorded
in ``errors`` with ``complete=False``; only a failure that leaves nothing to read (no
credentials, credentials refused, role cannot be assumed) raises
:class:`~inventory.connectors.base.ConnectorError`.

Per account, in this order:

1. ``iam:GetAccountAuthorizationDetails`` (one paginated listing) -> IAM users, roles and
   instance profiles with inline, managed and group policies resolved to parsed documents;
2. ``iam:GenerateCredentialReport`` / ``iam:GetCredentialReport`` -> password, MFA and access key
   facts of every user, and the ``<root_account>`` row as a ``root`` identity;
3. ``iam:ListAccessKeys`` only for users whose report row shows a key (to learn the key ids) and
   ``iam:GetAccessKeyLastUsed`` only for keys the report does not cover;
4. ``secretsmanager:ListSecrets`` per region -> secrets (metadata only).

Without a role name the connector uses boto3's default credential chain as-is and checks with
``sts:GetCallerIdentity`` that those credentials belong to the account asked for. With a role
name it calls ``sts:AssumeRole`` into ``arn:<partition>:iam::<account>:role/<role name>``.
The endpoint comes from boto3's own ``AWS_ENDPOINT_URL`` handling (used for the local emulator).

Every action the connector needs, for a read-only policy (also :data:`REQUIRED_ACTIONS`):

- ``sts:GetCallerIdentity``, ``sts:AssumeRole`` (the latter on the discovering principal, for
  multi-account discovery)
- ``organizations:DescribeOrganization``, ``organizations:ListAccounts``
- ``iam:GetAccountAuthorizationDetails``, ``iam:GenerateCredentialReport``,
  ``iam:GetCredentialReport``, ``iam:ListAccessKeys``, ``iam:GetAccessKeyLastUsed``,
  ``iam:GetAccountSummary`` (connection test only)
- ``secretsmanager:ListSecrets``

Throttled and failed calls are retried by botocore (``retry_mode``, ``max_attempts``).
``max_attempts`` (``NHIGOV_AWS_MAX_ATTEMPTS``) is the TOTAL number of attempts per call, the first
one included, as with ``AWS_MAX_ATTEMPTS``: 1 means no retry.

The package: :mod:`.metering` (call and throttling accounting), :mod:`.parsing` (small parsers,
policy documents, the credential report), :mod:`.records` (the IAM snapshot, policy resolution,
access key matching, identity builders) and :mod:`.connector` (:class:`AwsConnector`).
"""

from __future__ import annotations

from inventory.connectors.aws.connector import (
    AUTHORIZATION_DETAILS_FILTER,
    AUTHORIZATION_DETAILS_PAGE_SIZE,
    LIST_SECRETS_PAGE_SIZE,
    RETRY_MODES,
    ROLE_SESSION_NAME,
    USER_AGENT_EXTRA,
    AwsConnector,
    RetryMode,
)
from inventory.connectors.aws.metering import THROTTLING_CODES
from inventory.connectors.aws.parsing import ROOT_ROW, parse_credential_report, parse_document
from inventory.connectors.aws.records import (
    SERVICE_LINKED_PATH_PREFIX,
    build_instance_profiles,
    build_role,
    build_root,
    build_secret,
    build_user,
    match_access_keys,
)

REQUIRED_ACTIONS: tuple[str, ...] = (
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:GetAccountSummary",
    "secretsmanager:ListSecrets",
)

__all__ = [
    "AUTHORIZATION_DETAILS_FILTER",
    "AUTHORIZATION_DETAILS_PAGE_SIZE",
    "LIST_SECRETS_PAGE_SIZE",
    "REQUIRED_ACTIONS",
    "RETRY_MODES",
    "ROLE_SESSION_NAME",
    "ROOT_ROW",
    "SERVICE_LINKED_PATH_PREFIX",
    "THROTTLING_CODES",
    "USER_AGENT_EXTRA",
    "AwsConnector",
    "RetryMode",
    "build_instance_profiles",
    "build_role",
    "build_root",
    "build_secret",
    "build_user",
    "match_access_keys",
    "parse_credential_report",
    "parse_document",
]
