"""Sources and discovery runs: add, edit, test the connection (moto), run now; who may."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from django.urls import reverse
from django.utils import timezone
from moto import mock_aws

from inventory.choices import RunStatus, RunTrigger, SourceKind
from inventory.connectors.aws import AwsConnector
from inventory.models import Account, DiscoveryRun, Source
from tests.factories import SourceFactory
from tests.inventory.aws_fixtures import FailingSend, fail_requests

pytestmark = pytest.mark.django_db
NEW = reverse("inventory:source-create")


def valid(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "acme-org",
        "kind": SourceKind.AWS_ORGANIZATION,
        "account_id": "",
        "role_name": "",
        "external_id": "",
        "regions": "us-east-1, eu-west-1",
        "schedule_minutes": "1440",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_add_a_source(security_user: Any, client_for: Any) -> None:
    response = client_for(security_user).post(NEW, valid())
    source = Source.objects.get(name="acme-org")
    assert response.status_code == 302 and response.url == reverse(
        "inventory:source-detail", args=[source.pk]
    )
    assert source.regions == ["us-east-1", "eu-west-1"]
    assert source.role_name == "OrganizationAccountAccessRole"
    assert source.schedule_minutes == 1440 and source.next_run_at is not None
    assert source.created_by == security_user


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": SourceKind.AWS_ACCOUNT}, "account_id", "needs --account-id"),
        ({"account_id": "12345"}, "account_id", "exactly 12 digits"),
        ({"regions": "us-east-1, mars-north-9x"}, "regions", "AWS region names"),
        ({"role_name": "arn:aws:iam::1:role/x"}, "role_name", "no path, no ARN"),
        ({"name": "bad name!"}, "name", "letters, digits"),
        ({"schedule_minutes": "2"}, "schedule_minutes", "greater than or equal to 5"),
    ],
)
def test_a_malformed_source_is_refused_with_the_reason_and_nothing_saved(
    security_user: Any, client_for: Any, overrides: dict[str, str], field: str, message: str
) -> None:
    response = client_for(security_user).post(NEW, valid(**overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert not Source.objects.exists()


def test_a_duplicate_name_is_refused(security_user: Any, client_for: Any) -> None:
    SourceFactory(name="acme-org")
    response = client_for(security_user).post(NEW, valid())
    assert response.status_code == 400 and "already exists" in response.content.decode()


def test_edit_keeps_the_external_id_unless_changed_and_reschedules(
    security_user: Any, client_for: Any
) -> None:
    source = SourceFactory(
        name="prod",
        role_name="Reader",
        external_id="secret-ish-id",
        schedule_minutes=None,
        next_run_at=None,
    )
    url = reverse("inventory:source-edit", args=[source.pk])
    c = client_for(security_user)
    form = c.get(url)
    assert "secret-ish-id" not in form.content.decode()
    response = c.post(
        url,
        valid(
            name="prod",
            kind=SourceKind.AWS_ACCOUNT,
            account_id="123456789012",
            role_name="Reader",
            schedule_minutes="60",
        ),
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.external_id == "secret-ish-id"
    assert source.schedule_minutes == 60
    assert source.next_run_at is not None and source.next_run_at <= timezone.now()
    c.post(
        url,
        valid(
            name="prod",
            kind=SourceKind.AWS_ACCOUNT,
            account_id="123456789012",
            role_name="Reader",
            clear_external_id="on",
            schedule_minutes="",
        ),
    )
    source.refresh_from_db()
    assert source.external_id == "" and source.next_run_at is None


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def test_connection_test_against_the_emulator(
    security_user: Any, client_for: Any, aws: None
) -> None:
    source = SourceFactory(name="emulated", kind=SourceKind.AWS_ACCOUNT, account_id="123456789012")
    url = reverse("inventory:source-test", args=[source.pk])
    response = client_for(security_user).post(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Connected." in body and "123456789012" in body
    full = client_for(security_user).post(url)
    assert "<html" in full.content.decode() and "Connected." in full.content.decode()


def test_a_denied_connection_says_which_call_was_refused(
    security_user: Any, client_for: Any, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = boto3.session.Session()
    fail_requests(session, "iam.GetAccountSummary", FailingSend("AccessDenied", status=403))
    monkeypatch.setattr(
        "inventory.services.discovery.connector_for",
        lambda source: AwsConnector(session=session, max_attempts=1, sleep=lambda s: None),
    )
    source = SourceFactory(name="denied", kind=SourceKind.AWS_ACCOUNT, account_id="123456789012")
    body = (
        client_for(security_user)
        .post(reverse("inventory:source-test", args=[source.pk]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "Access denied" in body and "GetAccountSummary" in body
    assert "docs/aws-permissions.md" in body


def test_a_connection_to_the_wrong_account_is_explained(
    security_user: Any, client_for: Any, aws: None
) -> None:
    source = SourceFactory(name="other", kind=SourceKind.AWS_ACCOUNT, account_id="210987654321")
    body = (
        client_for(security_user)
        .post(reverse("inventory:source-test", args=[source.pk]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "AccountMismatch" in body and "belong to another account" in body


def test_run_now_starts_a_discovery_and_shows_the_run(
    security_user: Any,
    client_for: Any,
    fake_connector: Any,
    make_inventory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    source = SourceFactory(name="acct", kind=SourceKind.AWS_ACCOUNT, account_id="123456789012")
    fake_connector.inventories["123456789012"] = make_inventory("123456789012", [])
    c = client_for(security_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("inventory:source-run", args=[source.pk]))
    run = DiscoveryRun.objects.get(source=source)
    assert response.url == reverse("inventory:run-detail", args=[run.pk])
    assert run.trigger == RunTrigger.MANUAL and run.requested_by == security_user
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    page = c.get(response.url)
    assert "Succeeded" in page.content.decode()


def test_run_now_while_running_says_so(security_user: Any, client_for: Any) -> None:
    source = SourceFactory(name="busy")
    run = DiscoveryRun.objects.create(source=source, status=RunStatus.RUNNING)
    Source.objects.filter(pk=source.pk).update(active_run=run)
    response = client_for(security_user).post(
        reverse("inventory:source-run", args=[source.pk]), follow=True
    )
    assert "already has a discovery in progress" in response.content.decode()
    assert DiscoveryRun.objects.count() == 1


def test_a_running_run_polls_until_it_finishes(security_user: Any, client_for: Any) -> None:
    source = SourceFactory(name="org", kind=SourceKind.AWS_ORGANIZATION, account_id="")
    parent = DiscoveryRun.objects.create(source=source, status=RunStatus.RUNNING)
    Account.objects.create(account_id="333333333333", name="payments")
    DiscoveryRun.objects.create(
        source=source,
        parent=parent,
        account_id="333333333333",
        status=RunStatus.FAILED,
        errors=[{"code": "AccessDenied", "operation": "AssumeRole", "message": "no"}],
        started_at=timezone.now() - timedelta(seconds=75),
        finished_at=timezone.now(),
    )
    url = reverse("inventory:run-detail", args=[parent.pk])
    c = client_for(security_user)
    page = c.get(url).content.decode()
    assert 'hx-trigger="every 3s"' in page and "payments" in page and "1 min 15 s" in page
    live = c.get(url + "?live=1", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in live and 'id="run-live"' in live
    DiscoveryRun.objects.filter(pk=parent.pk).update(status=RunStatus.PARTIAL)
    assert 'hx-trigger="every 3s"' not in c.get(url).content.decode()


def test_run_list_filters_and_an_account_shows_its_child_runs(
    auditor_user: Any, client_for: Any
) -> None:
    source = SourceFactory(name="org", kind=SourceKind.AWS_ORGANIZATION, account_id="")
    parent = DiscoveryRun.objects.create(source=source, status=RunStatus.PARTIAL)
    child = DiscoveryRun.objects.create(
        source=source, parent=parent, account_id="333333333333", status=RunStatus.FAILED
    )
    c = client_for(auditor_user)
    runs = reverse("inventory:run-list")
    assert list(c.get(runs).context["page"].object_list) == [parent]
    assert list(c.get(f"{runs}?account=333333333333").context["page"].object_list) == [child]
    assert list(c.get(f"{runs}?status=succeeded").context["page"].object_list) == []


@pytest.mark.parametrize("persona", ["analyst_user", "auditor_user", "owner_user"])
def test_only_admins_change_sources_even_with_crafted_requests(
    request: Any, persona: str, client_for: Any
) -> None:
    user = request.getfixturevalue(persona)
    source = SourceFactory(name="locked")
    c = client_for(user)
    for url in (
        NEW,
        reverse("inventory:source-edit", args=[source.pk]),
        reverse("inventory:source-test", args=[source.pk]),
        reverse("inventory:source-run", args=[source.pk]),
    ):
        assert c.post(url, valid(name="hacked")).status_code == 403
    assert not DiscoveryRun.objects.exists()
    assert Source.objects.get(pk=source.pk).name == "locked"


def test_owners_cannot_read_sources_or_runs(owner_user: Any, client_for: Any) -> None:
    source = SourceFactory(name="hidden")
    run = DiscoveryRun.objects.create(source=source)
    c = client_for(owner_user)
    for url in (
        reverse("inventory:source-list"),
        reverse("inventory:source-detail", args=[source.pk]),
        reverse("inventory:run-list"),
        reverse("inventory:run-detail", args=[run.pk]),
    ):
        assert c.get(url).status_code == 403


def test_source_and_run_pages_query_count_is_constant(auditor_user: Any, client_for: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(auditor_user)
    pages = [reverse("inventory:source-list"), reverse("inventory:run-list")]

    def counts() -> list[int]:
        result = []
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert c.get(url).status_code == 200
            result.append(len(queries))
        return result

    source = SourceFactory(name="one")
    DiscoveryRun.objects.create(source=source, status=RunStatus.SUCCEEDED)
    few = counts()
    for n in range(15):
        other = SourceFactory(name=f"src-{n}")
        parent = DiscoveryRun.objects.create(source=other, status=RunStatus.PARTIAL)
        DiscoveryRun.objects.create(source=other, parent=parent, account_id=f"{n:012d}")
    assert counts() == few
