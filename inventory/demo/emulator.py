"""The local AWS emulator (moto server) used by the demo and by tests.

Plain Python: no Django imports. The server runs in a thread of the calling process, so
`freezegun.freeze_time(...)` entered in this process also moves the emulator's clock (the seed
relies on that to age identities; see `inventory.demo.organization`).

Determinism: every random id moto hands out (account ids, user/role ids, access key ids, request
ids...) comes from one seeded generator, `moto.moto_api._internal.mock_random`. Reset the emulator and
seed that generator (`reset_emulator` + `seed_emulator_random`) before a seed and the same sequence
of API calls yields the same ARNs and key ids.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from typing import Any

from moto.server import ThreadedMotoServer

DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"  # noqa: S105 - the emulator accepts any credentials
# The seed `start_emulator` and `seed_organization` give moto's random generator.
DEFAULT_RANDOM_SEED = 20_240_601

__all__ = [
    "DEFAULT_RANDOM_SEED",
    "DEFAULT_REGION",
    "FAKE_CREDENTIAL",
    "emulator_environment",
    "in_process_iam_user",
    "reset_emulator",
    "seed_emulator_random",
    "start_emulator",
]


def _prepare_process_environment() -> None:
    # moto reads this each time it builds an account's IAM backend (lazily, on the account's first
    # IAM request, and again after a reset), via moto.settings.load_iam_aws_managed_policies().
    # Without it AdministratorAccess, ReadOnlyAccess, ... do not exist. It costs ~0.7 s per account.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    # MOTO_ACCOUNT_ID would pin every request to one account and break the multi-account
    # organization (member accounts are reached through assumed-role credentials).
    os.environ.pop("MOTO_ACCOUNT_ID", None)


def _quiet_request_log() -> None:
    # werkzeug logs one line per request to stderr; a seed makes ~1,500 of them.
    logger = logging.getLogger("werkzeug")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def start_emulator(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server in a thread of this process; return it and its endpoint URL.

    `port=0` lets the OS pick a free port (werkzeug binds port 0 and moto reports the real one).
    Stop it with `server.stop()`.
    """
    _prepare_process_environment()
    _quiet_request_log()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _host, real_port = server.get_host_and_port()
    endpoint = f"http://127.0.0.1:{real_port}"
    seed_emulator_random(endpoint, DEFAULT_RANDOM_SEED)
    return server, endpoint


def _post(endpoint: str, path: str) -> bytes:
    url = endpoint.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - checked above
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body: bytes = response.read()
        if response.status != 200:
            raise RuntimeError(f"POST {url} answered {response.status}: {body[:200]!r}")
        return body


def reset_emulator(endpoint: str) -> None:
    """Drop every account, identity and secret the emulator holds (`POST /moto-api/reset`)."""
    _post(endpoint, "/moto-api/reset")


def seed_emulator_random(endpoint: str, seed: int = DEFAULT_RANDOM_SEED) -> None:
    """Seed moto's id generator (`POST /moto-api/seed?a=N`): works for an in-process or remote server."""
    _post(endpoint, f"/moto-api/seed?a={int(seed)}")


def emulator_environment(endpoint: str) -> dict[str, str]:
    """The environment a client process needs to talk to the emulator through boto3."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
        "AWS_DEFAULT_REGION": DEFAULT_REGION,
    }


def in_process_iam_user(account_id: str, user_name: str) -> Any | None:
    """moto's in-memory IAM user object, when the emulator runs in this process; else None.

    Only used for what the emulator's API cannot express (a user's console password last use:
    AWS sets it on sign-in, which the emulator has no way to do). Never creates a backend.
    """
    try:
        from moto.iam.models import iam_backends
    except ImportError:  # pragma: no cover - moto is a dependency
        return None
    account = iam_backends.get(account_id)
    if account is None:
        return None
    # AccountSpecificBackend is a dict keyed by partition; dict.get does not build a missing one.
    backend = dict.get(account, "aws") or dict.get(account, "global")
    if backend is None:
        return None
    return backend.users.get(user_name)
