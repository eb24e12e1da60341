"""A real Celery worker process consumes a discovery task from Redis and writes to PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings
from django.db import connection

from inventory.choices import RunStatus, SourceKind
from inventory.models import DiscoveryRun, Identity
from inventory.services.discovery import discovery_start
from inventory.services.sources import source_create
from nhigov.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def _services_available() -> str | None:
    if not settings.REDIS_URL:
        return "REDIS_URL is not set"
    if connection.vendor != "postgresql":
        return "DATABASE_URL is not PostgreSQL"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    server.stop()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_real_worker_consumes_a_discovery_task_from_redis(emulator) -> None:  # type: ignore[no-untyped-def]
    reason = _services_available()
    if reason:
        if os.environ.get("NHIGOV_REQUIRE_SERVICES"):
            pytest.fail(f"CI requires the real services: {reason}")
        pytest.skip(reason)
    iam = boto3.client("iam", endpoint_url=emulator["AWS_ENDPOINT_URL"])
    for name in ("ci-deployer", "backup-nightly"):
        iam.create_user(UserName=name, Tags=[{"Key": "owner", "Value": "nobody@example.com"}])
        iam.create_access_key(UserName=name)
    iam.create_role(
        RoleName="app-role", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}'
    )

    source = source_create(
        name="worker-test", kind=SourceKind.AWS_ACCOUNT, account_id="123456789012"
    )
    run = discovery_start(source=source)

    db = settings.DATABASES["default"]
    queue = f"nhigov-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        **emulator,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "NHIGOV_TESTING": "0",
        "DEBUG": "true",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "nhigov",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    eager = celery_app.conf.task_always_eager
    try:
        celery_app.conf.task_always_eager = False
        from inventory.tasks import discover_source

        discover_source.apply_async(args=[run.pk], queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.is_finished:
                break
            if worker.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        celery_app.conf.task_always_eager = eager
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert run.status == RunStatus.SUCCEEDED, f"run {run.status} {run.errors}\n{output[-4000:]}"
    assert "inventory.tasks.discover_source" in output
    assert set(Identity.objects.values_list("name", flat=True)) >= {
        "ci-deployer",
        "backup-nightly",
        "app-role",
    }
    assert DiscoveryRun.objects.get(pk=run.pk).api_calls > 0
