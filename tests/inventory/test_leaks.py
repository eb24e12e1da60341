"""Leak reports: gitleaks and trufflehog, access key ids kept, secrets dropped, all or nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from inventory.connectors.base import AccountInventory
from inventory.models import Account, Finding, LeakedKey, LeakReport
from inventory.services.leaks import LeakReportError, parse_report
from inventory.services.reconcile import reconcile_account
from tests.inventory.records import NOW, access_key, user

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

GITLEAKS = [
    {
        "Description": "AWS Access Key",
        "StartLine": 12,
        "EndLine": 12,
        "Match": f"aws_access_key_id = {KEY}",
        "Secret": KEY,
        "File": "deploy/settings.py",
        "Commit": "9f8e7d6c5b4a",
        "Author": "Dev One",
        "Email": "dev.one@example.com",
        "Date": "2026-11-02T10:00:00Z",
        "RuleID": "aws-access-token",
        "Fingerprint": "9f8e7d6c5b4a:deploy/settings.py:aws-access-token:12",
    },
    {
        "Description": "AWS Secret",
        "StartLine": 13,
        "Match": f"aws_secret_access_key = {SECRET}",
        "Secret": SECRET,
        "File": "deploy/settings.py",
        "Commit": "9f8e7d6c5b4a",
        "RuleID": "aws-secret",
    },
]
TRUFFLEHOG = "\n".join(
    json.dumps(line)
    for line in [
        {
            "SourceMetadata": {
                "Data": {
                    "Git": {
                        "commit": "abc123",
                        "file": "ci/env.sh",
                        "email": "ops@example.com",
                        "repository": "https://github.com/example-org/infra",
                        "timestamp": "2026-10-01 10:00:00 +0000",
                        "line": 4,
                    }
                }
            },
            "SourceType": 16,
            "DetectorName": "AWS",
            "Verified": True,
            "Raw": KEY,
            "RawV2": f"{KEY}:{SECRET}",
            "Redacted": KEY,
        }
    ]
)


def test_gitleaks_report_keeps_the_key_id_and_where_it_was_found() -> None:
    tool, entries, total = parse_report(json.dumps(GITLEAKS).encode(), repository="example-org/app")
    assert (tool, total) == ("gitleaks", 2)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.access_key_id == KEY and entry.file == "deploy/settings.py"
    assert entry.commit == "9f8e7d6c5b4a" and entry.author == "dev.one@example.com"
    assert entry.repository == "example-org/app" and entry.line == 12
    assert SECRET not in repr(entries)


def test_trufflehog_json_lines_report_is_understood() -> None:
    tool, entries, total = parse_report(TRUFFLEHOG.encode())
    assert (tool, total, len(entries)) == ("trufflehog", 1, 1)
    assert entries[0].repository == "https://github.com/example-org/infra"
    assert entries[0].line == 4 and SECRET not in repr(entries)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b'[{"RuleID": "x"},', "Not valid JSON at line 1"),
        (b'{"DetectorName": "AWS"}\nnot json\n', "Line 2 is not valid JSON"),
        (b"[1, 2]", "Entry 1 is not a JSON object"),
        (b'[{"foo": "bar"}]', "not a gitleaks finding"),
    ],
)
def test_malformed_reports_are_refused_with_the_place_at_fault(
    content: bytes, message: str
) -> None:
    with pytest.raises(LeakReportError, match=message):
        parse_report(content)


@pytest.mark.django_db
def test_import_matches_the_inventory_and_opens_leak_finding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    account = Account.objects.create(account_id="111111111111")
    reconcile_account(
        account=account,
        inventory=AccountInventory("111111111111", identities=[user("ci", keys=[access_key(KEY)])]),
        now=NOW,
    )
    report_file = tmp_path / "gitleaks.json"
    report_file.write_text(json.dumps(GITLEAKS))
    out = io.StringIO()
    call_command(
        "leaks_import", str(report_file), "--repository", "example-org/app", "--json", stdout=out
    )
    data = json.loads(out.getvalue())
    assert data["access_key_ids"] == 1 and data["matched_access_key_ids"] == 1
    finding = Finding.objects.get(rule_id="LEAK-001")
    assert finding.status == "open" and finding.severity == "critical"
    assert "deploy/settings.py" in json.dumps(finding.evidence)
    stored = json.dumps(list(LeakedKey.objects.values())) + json.dumps(
        list(LeakReport.objects.values()), default=str
    )
    assert SECRET not in stored


@pytest.mark.django_db
def test_malformed_report_imports_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"DetectorName": "AWS", "Raw": KEY}) + "\n{oops\n")
    with pytest.raises(CommandError, match="Line 2"):
        call_command("leaks_import", str(bad))
    assert not LeakReport.objects.exists() and not LeakedKey.objects.exists()
