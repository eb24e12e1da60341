"""Inventory snapshot for population completeness: CLI folder and UI zip, hashes that match."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from inventory.connectors.base import AccountInventory
from inventory.models import Account
from inventory.services.reconcile import reconcile_account
from nhigov.models import AuditEvent
from tests.inventory.records import ACCOUNT, NOW, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(db):  # type: ignore[no-untyped-def]
    account = Account.objects.create(account_id=ACCOUNT, name="prod")
    reconcile_account(
        account=account,
        inventory=AccountInventory(
            ACCOUNT, identities=[role(f"r{i}") for i in range(5)] + [role("=cmd|' /C calc'!A0")]
        ),
        now=NOW,
    )


def test_cli_snapshot_writes_csv_and_a_manifest_that_matches(estate, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "snap"
    call_command("inventory_snapshot", "--output", str(out), stdout=io.StringIO())
    manifest = json.loads((out / "manifest.json").read_text())
    data = (out / "inventory.csv").read_bytes()
    assert manifest["files"]["inventory.csv"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["subject"]["identities"] == 6
    assert manifest["subject"]["by_account"] == {ACCOUNT: 6}
    assert manifest["audit_chain_head"]["seq"] >= 1 and manifest["audit_chain_verified"]["ok"]
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == 6 and any(r["name"].startswith("'=cmd") for r in rows)
    assert AuditEvent.objects.filter(verb="export.inventory_snapshot").exists()


def test_cli_refuses_a_non_empty_folder(estate, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("inventory_snapshot", "--output", str(tmp_path))
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_auditor_downloads_the_snapshot_zip_owner_cannot(estate, auditor_user, owner_user) -> None:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(auditor_user)
    response = c.get(reverse("inventory:inventory-snapshot"))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert (
        hashlib.sha256(archive.read("inventory.csv")).hexdigest()
        == manifest["files"]["inventory.csv"]["sha256"]
    )
    assert AuditEvent.objects.get(verb="export.inventory_snapshot").actor_label == "aud"
    other = Client()
    other.force_login(owner_user)
    assert other.get(reverse("inventory:inventory-snapshot")).status_code == 403
