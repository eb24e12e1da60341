"""The operator's command line: source_add, discover, inventory_export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from inventory.connectors.base import AccountInfo, AccountInventory
from inventory.models import Source
from tests.factories import UserFactory
from tests.inventory.records import access_key, role, user

pytestmark = pytest.mark.django_db


def test_source_add_saves_a_valid_organization_source() -> None:
    out = io.StringIO()
    call_command(
        "source_add",
        "--name",
        "acme-org",
        "--kind",
        "aws-organization",
        "--role-name",
        "NhigovDiscovery",
        "--external-id",
        "nhigov-7f3a",
        "--regions",
        "us-east-1,eu-west-1",
        "--json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    source = Source.objects.get(name="acme-org")
    assert data["id"] == source.pk and source.regions == ["us-east-1", "eu-west-1"]
    assert source.role_name == "NhigovDiscovery" and source.external_id == "nhigov-7f3a"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "aws-account"], "needs --account-id"),
        (["--kind", "aws-account", "--account-id", "12345"], "exactly 12 digits"),
        (["--kind", "aws-organization", "--regions", "us-east-1,mars-1"], "region names"),
        (["--kind", "aws-organization", "--role-name", "arn:aws:iam::1:role/x"], "role name"),
    ],
)
def test_malformed_source_is_rejected_with_a_clear_error_and_nothing_saved(args, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match=message):
        call_command("source_add", "--name", "bad", *args)
    assert not Source.objects.exists()


def test_duplicate_source_name_is_rejected() -> None:
    call_command("source_add", "--name", "one", "--kind", "aws-organization")
    with pytest.raises(CommandError, match="already exists"):
        call_command("source_add", "--name", "one", "--kind", "aws-organization")
    assert Source.objects.count() == 1


def test_discover_prints_the_run_summary_as_json(fake_connector) -> None:  # type: ignore[no-untyped-def]
    fake_connector.accounts = [AccountInfo("123456789012", "mgmt", is_management=True)]
    fake_connector.inventories = {
        "123456789012": AccountInventory(
            "123456789012",
            identities=[role("a", account="123456789012")],
            api_calls={"GetAccountAuthorizationDetails": 1},
        )
    }
    call_command("source_add", "--name", "org", "--kind", "aws-organization")
    out = io.StringIO()
    call_command("discover", "--source", "org", "--json", stdout=out)
    data = json.loads(out.getvalue())
    run = data["runs"][0]
    assert run["status"] == "succeeded" and run["new"] == 1 and run["source"] == "org"
    assert run["accounts"][0]["api_calls_per_1000_identities"] == 1000.0


def test_discover_exits_non_zero_when_a_run_fails(fake_connector) -> None:  # type: ignore[no-untyped-def]
    from inventory.connectors.base import ConnectorError

    fake_connector.accounts = [AccountInfo("222222222222")]
    fake_connector.inventories = {"222222222222": ConnectorError("denied", code="AccessDenied")}
    call_command("source_add", "--name", "org", "--kind", "aws-organization")
    with pytest.raises(SystemExit) as exit_info:
        call_command("discover", "--source", "org", stdout=io.StringIO())
    assert exit_info.value.code == 1


def test_discover_unknown_source_is_an_error() -> None:
    with pytest.raises(CommandError, match="No source named"):
        call_command("discover", "--source", "nope")


def _seed(fake_connector) -> None:  # type: ignore[no-untyped-def]
    UserFactory(username="olivia", email="olivia.park@example.com")
    fake_connector.accounts = [AccountInfo("123456789012", is_management=True)]
    fake_connector.inventories = {
        "123456789012": AccountInventory(
            "123456789012",
            identities=[
                user(
                    '=HYPERLINK("http://evil")',
                    account="123456789012",
                    keys=[access_key("AKIAAAAAAAAAAAAAAAA1")],
                    tags={"owner": "olivia.park@example.com"},
                ),
                role("app", account="123456789012", tags={"team": "-cmd"}),
            ],
        )
    }
    call_command("source_add", "--name", "org", "--kind", "aws-organization", stdout=io.StringIO())
    call_command("discover", stdout=io.StringIO())


def test_inventory_export_csv_has_the_contract_columns_and_neutralises_formulas(
    fake_connector, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _seed(fake_connector)
    target = tmp_path / "inventory.csv"
    call_command(
        "inventory_export", "--format", "csv", "--output", str(target), stderr=io.StringIO()
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert {
        "account_id",
        "name",
        "arn",
        "kind",
        "classification",
        "owner",
        "lifecycle_state",
        "flags",
        "findings",
        "credentials",
    } <= set(rows[0])
    by_kind = {r["kind"]: r for r in rows}
    evil = by_kind["iam_user"]
    assert evil["name"].startswith("'=HYPERLINK")
    assert evil["owner"] == "olivia.park@example.com" and evil["classification"] == "machine"
    assert "AKIAAAAAAAAAAAAAAAA1" in evil["credentials"]
    assert by_kind["iam_role"]["owner"] == "" and "orphaned" in by_kind["iam_role"]["flags"]
    assert '"team":"-cmd"' in by_kind["iam_role"]["tags"]


def test_inventory_export_json_to_stdout(fake_connector, capsys) -> None:  # type: ignore[no-untyped-def]
    _seed(fake_connector)
    call_command("inventory_export", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 2
    user_row = next(r for r in data if r["kind"] == "iam_user")
    assert user_row["credentials"][0]["id"] == "AKIAAAAAAAAAAAAAAAA1"
    assert user_row["findings"] == [] and user_row["lifecycle_state"] == "active"
    assert "secret" not in json.dumps(user_row["credentials"]).lower()
