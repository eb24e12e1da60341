"""Helpers for the AWS connector tests: emulator set-up, canned error responses, stubbed clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.stub import Stubber

from inventory.connectors.base import AccountInventory, IdentityRecord

ACCOUNT_ID = "123456789012"  # the emulator's default account


def policy_document(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }


def trust_document(principal: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }


def identities(inventory: AccountInventory, kind: str) -> dict[str, IdentityRecord]:
    return {record.name: record for record in inventory.identities if record.kind == kind}


def credentials_by_kind(record: IdentityRecord) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = {}
    for credential in record.credentials:
        result.setdefault(credential.kind, []).append(credential)
    return result


# --- canned error responses (returned from a ``before-send`` handler) --------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(request: AWSPreparedRequest, code: str, status: int = 400) -> AWSResponse:
    """An AWS error response in the request's protocol (JSON or query XML)."""
    message = f"{code} (injected by the test)"
    if request.headers.get("X-Amz-Target"):  # JSON protocol (Secrets Manager, Organizations)
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1"}
    else:  # query protocol (IAM, STS)
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>test-request</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Raw(body))


@dataclass
class FailingSend:
    """A ``before-send`` handler that answers matching requests with an error.

    ``times`` limits how many requests fail (None: all); later requests reach the emulator.
    """

    code: str
    times: int | None = None
    status: int = 400
    url_contains: str = ""
    failed: int = 0

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if self.url_contains and self.url_contains not in request.url:
            return None
        if self.times is not None and self.failed >= self.times:
            return None
        self.failed += 1
        return error_response(request, self.code, self.status)


def fail_requests(session: boto3.session.Session, event: str, handler: FailingSend) -> FailingSend:
    """Install ``handler`` ahead of the emulator for ``before-send.<event>`` on ``session``."""
    session.events.register_first(f"before-send.{event}", cast("Callable[..., None]", handler))
    return handler


# --- stubbed clients ---------------------------------------------------------------------------


def stubbed_session(
    stubs: dict[str, Callable[[Stubber], None]],
) -> tuple[boto3.session.Session, list[Stubber]]:
    """A session whose clients of the named services are Stubber-driven (the rest are real)."""
    session = boto3.session.Session()
    real_client = session.client
    stubbers: list[Stubber] = []

    def client(service_name: str, *args: Any, **kwargs: Any) -> Any:
        made = real_client(service_name, *args, **kwargs)  # type: ignore[call-overload]
        if service_name in stubs:
            stubber = Stubber(made)
            stubs[service_name](stubber)
            stubber.activate()
            stubbers.append(stubber)
        return made

    session.client = client  # type: ignore[method-assign]
    return session, stubbers
