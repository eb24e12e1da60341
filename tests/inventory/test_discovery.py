"""The discovery workflow: Organization fan-out, failures, locks, run rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.choices import LifecycleState, RunStatus, SourceKind
from inventory.connectors.base import AccountInfo, AccountInventory, ConnectorError
from inventory.models import DiscoveryRun, Identity, Source
from inventory.services.discovery import (
    DiscoveryBusy,
    discover_due_sources,
    discovery_execute,
    discovery_start,
    run_tree_summary,
)
from inventory.services.sources import source_create
from tests.inventory.records import access_key, role, user

pytestmark = pytest.mark.django_db

MGMT, PROD, DATA = "123456789012", "222222222222", "333333333333"


def org_source() -> Source:
    return source_create(name="org", kind=SourceKind.AWS_ORGANIZATION, external_id="ext-123456")


def account_inventory(account_id: str, *names: str, **kwargs) -> AccountInventory:  # type: ignore[no-untyped-def]
    return AccountInventory(
        account_id=account_id,
        identities=[role(n, account=account_id) for n in names],
        api_calls={
            "GetAccountAuthorizationDetails": 1,
            "GenerateCredentialReport": 1,
            "GetCredentialReport": 1,
            "ListSecrets": 1,
        },
        **kwargs,
    )


def test_organization_run_discovers_every_account_with_a_child_run_each(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.accounts = [
        AccountInfo(MGMT, "management", is_management=True),
        AccountInfo(PROD, "prod"),
        AccountInfo(DATA, "data"),
    ]
    fake_connector.inventories = {
        MGMT: account_inventory(MGMT, "org-admin"),
        PROD: account_inventory(PROD, "app-1", "app-2"),
        DATA: account_inventory(DATA, "etl"),
    }
    source = org_source()
    run = discovery_start(source=source)
    finished = discovery_execute(run.pk, inline=True)
    assert finished is not None
    finished.refresh_from_db()
    assert finished.status == RunStatus.SUCCEEDED
    assert finished.children.count() == 3
    assert finished.identities_seen == 4 and finished.new_count == 4
    assert finished.api_calls == 12
    # The management account is read with its own credentials; members through the role.
    assert (MGMT, "", "") in fake_connector.calls
    assert (PROD, "OrganizationAccountAccessRole", "ext-123456") in fake_connector.calls
    source.refresh_from_db()
    assert source.active_run is None and source.last_run_at is not None
    child = finished.children.get(account_id=PROD)
    assert child.api_calls_per_1000_identities == 2000.0
    summary = run_tree_summary(finished)
    assert [a["account_id"] for a in summary["accounts"]] == sorted([MGMT, PROD, DATA])


def test_member_account_denied_is_recorded_and_others_succeed(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.accounts = [
        AccountInfo(MGMT, is_management=True),
        AccountInfo(PROD),
        AccountInfo(DATA),
    ]
    fake_connector.inventories = {
        MGMT: account_inventory(MGMT, "org-admin"),
        PROD: ConnectorError(
            "not authorized to perform sts:AssumeRole", code="AccessDenied", operation="AssumeRole"
        ),
        DATA: account_inventory(DATA, "etl"),
    }
    source = org_source()
    run = discovery_start(source=source)
    discovery_execute(run.pk, inline=True)
    run.refresh_from_db()
    assert run.status == RunStatus.PARTIAL
    denied = run.children.get(account_id=PROD)
    assert denied.status == RunStatus.FAILED
    assert denied.errors[0]["code"] == "AccessDenied" and denied.errors[0]["account_id"] == PROD
    assert run.children.get(account_id=DATA).status == RunStatus.SUCCEEDED


def test_failed_account_marks_nothing_vanished(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.accounts = [AccountInfo(PROD)]
    fake_connector.inventories = {PROD: account_inventory(PROD, "app-1", "app-2")}
    source = org_source()
    discovery_execute(discovery_start(source=source).pk, inline=True)
    fake_connector.inventories = {PROD: ConnectorError("denied", code="AccessDenied")}
    discovery_execute(discovery_start(source=source).pk, inline=True)
    assert not Identity.objects.filter(lifecycle_state=LifecycleState.VANISHED).exists()
    fake_connector.inventories = {PROD: account_inventory(PROD, "app-1")}
    discovery_execute(discovery_start(source=source).pk, inline=True)
    assert Identity.objects.get(name="app-2").lifecycle_state == LifecycleState.VANISHED


def test_two_runs_of_one_source_cannot_interleave(fake_connector) -> None:  # type: ignore[no-untyped-def]
    source = org_source()
    discovery_start(source=source)
    with pytest.raises(DiscoveryBusy):
        discovery_start(source=source)
    assert DiscoveryRun.objects.count() == 1


def test_a_dead_run_loses_its_lock_after_the_timeout(fake_connector, settings) -> None:  # type: ignore[no-untyped-def]
    source = org_source()
    dead = discovery_start(source=source)
    DiscoveryRun.objects.filter(pk=dead.pk).update(
        created_at=timezone.now() - settings.NHIGOV_DISCOVERY_LOCK_TIMEOUT - timedelta(minutes=1)
    )
    fresh = discovery_start(source=source)
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and dead.errors[0]["code"] == "Abandoned"
    source.refresh_from_db()
    assert source.active_run_id == fresh.pk


def test_organization_listing_failure_fails_the_run_and_releases_the_lock(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Denied:
        def list_accounts(self):  # type: ignore[no-untyped-def]
            raise ConnectorError(
                "organizations:ListAccounts denied", code="AccessDenied", operation="ListAccounts"
            )

    monkeypatch.setattr("inventory.services.discovery.connector_for", lambda s: Denied())
    source = org_source()
    run = discovery_execute(discovery_start(source=source).pk, inline=True)
    assert run is not None and run.status == RunStatus.FAILED
    assert run.errors[0]["operation"] == "ListAccounts"
    source.refresh_from_db()
    assert source.active_run is None


def test_account_source_failure_is_recorded_and_nothing_saved(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.inventories = {
        PROD: ConnectorError(
            "The credentials belong to account 999999999999, not 222222222222.",
            code="AccountMismatch",
            operation="GetCallerIdentity",
        )
    }
    source = source_create(name="prod", kind=SourceKind.AWS_ACCOUNT, account_id=PROD)
    run = discovery_execute(discovery_start(source=source).pk, inline=True)
    assert run is not None and run.status == RunStatus.FAILED
    assert run.errors[0]["code"] == "AccountMismatch" and run.errors[0]["account_id"] == PROD
    assert not Identity.objects.exists()
    source.refresh_from_db()
    assert source.active_run is None


def test_account_source_with_role_discovers_that_account(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.inventories = {
        PROD: AccountInventory(
            PROD, identities=[user("ci", account=PROD, keys=[access_key("AKIAAAAAAAAAAAAAAAA1")])]
        )
    }
    source = source_create(
        name="prod", kind=SourceKind.AWS_ACCOUNT, account_id=PROD, role_name="NhigovDiscovery"
    )
    run = discovery_execute(discovery_start(source=source).pk, inline=True)
    assert run is not None and run.status == RunStatus.SUCCEEDED and run.new_count == 1
    assert fake_connector.calls == [(PROD, "NhigovDiscovery", "")]


def test_partial_account_is_recorded_as_partial(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.inventories = {
        PROD: account_inventory(
            PROD,
            "app",
            complete=False,
            errors=[
                {
                    "operation": "ListSecrets",
                    "region": "eu-west-1",
                    "code": "AccessDenied",
                    "message": "denied",
                }
            ],
        )
    }
    source = source_create(
        name="prod", kind=SourceKind.AWS_ACCOUNT, account_id=PROD, role_name="NhigovDiscovery"
    )
    run = discovery_execute(discovery_start(source=source).pk, inline=True)
    assert run is not None and run.status == RunStatus.PARTIAL and not run.vanish_applied
    assert run.errors[0]["region"] == "eu-west-1"


def test_due_sources_are_started_by_the_scheduler(
    fake_connector, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    source = org_source()
    Source.objects.filter(pk=source.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))
    dispatched: list[int] = []
    with django_capture_on_commit_callbacks(execute=True):
        started = discover_due_sources(dispatch=dispatched.append)
    assert started == dispatched and len(started) == 1
    assert DiscoveryRun.objects.get(pk=started[0]).trigger == "schedule"
