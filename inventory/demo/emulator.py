"""The local AWS emulator (moto server) used by the demo and by tests.

Plain Python: no Django imports. The server runs in a thread of the calling process, so
`freezegun.freeze_time(...)` entered in this process also moves the emulator's clock (the seed
relies on that to age identities; see `inventory.demo.organization`).

Determinism: every random id moto hands out (account ids, user/role ids, access key ids, request
ids...) comes from one seeded generator, `moto.moto_api._internal.mock_random`. Reset the emulator
and seed that generator (`reset_emulator` + `seed_emulator_random`) before a seed, and the same
sequence of API calls yields the same ARNs and key ids.
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
from datetime import datetime
from typing import Any

from moto.server import ThreadedMotoServer

DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"  # the emulator accepts any credentials
# Talks to the emulator directly, whatever HTTP(S)_PROXY says.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The seed `start_emulator` and `seed_organization` give moto's random generator.
DEFAULT_RANDOM_SEED = 20_240_601

__all__ = [
    "DEFAULT_RANDOM_SEED",
    "DEFAULT_REGION",
    "FAKE_CREDENTIAL",
    "NO_PROXY_OPENER",
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


def _load_managed_policies_only_in_aws_partition() -> None:
    """Speed: build AWS-managed policies only for the `aws` partition's IAM backends.

    moto resolves the account of a request signed with an unknown key (the demo's `testing`
    credentials) by visiting every account's IAM backend in every partition (aws, aws-cn,
    aws-us-gov, aws-iso...), creating the missing ones; each creation parses and builds ~1,600
    managed policies (~0.15 s). That made every new account cost ~1 s, on each seed and each reset.
    Nothing here uses another partition, so those backends start without AWS-managed policies.
    In-process only, and skipped if moto's internals differ from what this expects.
    """
    try:
        from moto.iam.models import IAMBackend
    except ImportError:  # pragma: no cover
        return
    original = getattr(IAMBackend, "_init_aws_policies", None)
    if original is None or getattr(original, "_nhigov_patched", False):
        return

    def _init_aws_policies(self: Any) -> Any:
        if getattr(self, "partition", "aws") != "aws":
            return []
        return original(self)

    _init_aws_policies._nhigov_patched = True  # type: ignore[attr-defined]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]


def _authorization_details_like_aws() -> None:
    """Fidelity and speed: GetAccountAuthorizationDetails returns the AWS-managed policies in use.

    AWS lists only the AWS-managed policies attached to something in the account; moto lists all
    ~1,600 of them, which made every account's discovery ~1.7 s slower in the demo and showed
    nothing real. In-process only, and skipped if moto's internals differ from what this expects.
    """
    try:
        from moto.iam.models import IAMBackend
    except ImportError:  # pragma: no cover
        return
    original = getattr(IAMBackend, "get_account_authorization_details", None)
    if original is None or getattr(original, "_nhigov_patched", False):
        return

    def get_account_authorization_details(self: Any, policy_filter: list[str]) -> Any:
        result = original(self, policy_filter)
        aws_managed = {id(p) for p in getattr(self, "aws_managed_policies", [])}
        result["managed_policies"] = [
            p
            for p in result["managed_policies"]
            if id(p) not in aws_managed or getattr(p, "attachment_count", 1) > 0
        ]
        return result

    get_account_authorization_details._nhigov_patched = True  # type: ignore[attr-defined]
    IAMBackend.get_account_authorization_details = get_account_authorization_details  # type: ignore[method-assign]


def _quiet_request_log() -> None:
    # werkzeug logs one line per request to stderr; a seed makes ~1,500 of them.
    logger = logging.getLogger("werkzeug")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def start_emulator(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start moto's server in a thread of this process; return it and its endpoint URL.

    `port=0` lets the OS pick a free port (werkzeug binds port 0 and moto reports the real one).
    The emulator starts empty (reset) with its id generator seeded. Stop it with `server.stop()`.
    """
    if port:
        with socket.socket() as probe:  # fail fast: moto's server thread dies silently
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                raise SystemExit(f"Port {port} is in use: {exc}") from exc
    _prepare_process_environment()
    _load_managed_policies_only_in_aws_partition()
    _authorization_details_like_aws()
    _quiet_request_log()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _host, real_port = server.get_host_and_port()
    endpoint = f"http://127.0.0.1:{real_port}"
    # moto's state is global to the process: start empty even if an earlier server or mock_aws
    # left accounts behind, then seed the id generator.
    reset_emulator(endpoint)
    seed_emulator_random(endpoint, DEFAULT_RANDOM_SEED)
    return server, endpoint


def _post(endpoint: str, path: str) -> bytes:
    url = endpoint.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - checked above
    with NO_PROXY_OPENER.open(request, timeout=60) as response:
        body: bytes = response.read()
        if response.status != 200:
            raise RuntimeError(f"POST {url} answered {response.status}: {body[:200]!r}")
        return body


def reset_emulator(endpoint: str) -> None:
    """Drop every account, identity and secret the emulator holds (`POST /moto-api/reset`)."""
    _post(endpoint, "/moto-api/reset")


def seed_emulator_random(endpoint: str, seed: int = DEFAULT_RANDOM_SEED) -> None:
    """Seed moto's id generator (`POST /moto-api/seed?a=N`); in-process or remote server."""
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


def serve(port: int, *, seed: bool, now: datetime | None = None) -> None:
    """Run the emulator in this process until terminated; print one ``READY {json}`` line.

    ``manage.py demo`` starts this in its own process so that the seed's frozen clock (freezegun
    freezes the whole process) never reaches the web server.
    """
    import json
    import signal
    import sys
    import threading

    server, endpoint = start_emulator(port)
    summary: dict[str, Any] = {"endpoint": endpoint}
    if seed:
        from inventory.demo.organization import seed_organization

        summary.update(seed_organization(endpoint, now=now).to_dict())
    print("READY " + json.dumps(summary, default=str), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the local AWS emulator (moto).")
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--seed", action="store_true", help="Seed the demo organization.")
    parser.add_argument("--now", help="ISO date the seed counts ages from (default: now).")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else None
    serve(args.port, seed=args.seed, now=now)


if __name__ == "__main__":
    main()
