"""Campaign evidence bundles: items.csv, summary.pdf, manifest.json (CLI, download, proof)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

import reviews.evidence as evidence_module
from nhigov.audit import chain_head
from nhigov.models import AuditEvent
from reviews.choices import CampaignStatus, ItemStatus, RemediationStatus
from reviews.evidence import ITEMS_CSV, SUMMARY_PDF, campaign_evidence_bundle
from reviews.models import Campaign, RemediationRequest, ReviewItem
from reviews.services.campaigns import campaign_sign_off, campaign_start_closing
from reviews.services.decisions import item_decide
from reviews.services.remediation import remediation_record_result
from tests.reviews.factories import Estate, client_for, item_of, launch, make_identity

pytestmark = pytest.mark.django_db

HOSTILE = "=HYPERLINK(\"http://evil\")<b>bold</b>&<font size='40'>"


@pytest.fixture
def closed(estate: Estate, security_user: Any) -> Campaign:
    """The estate reviewed: keeps (one an exception), deprovisions (one done), a re-route-free
    security decision, one item left to the no-response policy; closed and signed off."""
    security_user.first_name, security_user.last_name = "Sam", "Rivera"
    security_user.save()
    make_identity(HOSTILE, owner=estate.olivia, team=estate.platform, used_days=2)
    campaign = launch(security_user)
    now = timezone.now()
    olivia = estate.olivia
    item_decide(
        item=item_of(campaign, estate.ci),
        actor=olivia,
        outcome="keep",
        justification="+SUM(A1) nightly deploys",
        exception_until=(now + timedelta(days=30)).date(),
    )
    item_decide(
        item=item_of(campaign, estate.old),
        actor=olivia,
        outcome="deprovision",
        justification="Replaced by the OIDC role.",
    )
    item_decide(
        item=item_of(campaign, estate.admin),
        actor=olivia,
        outcome="keep",
        justification="Break-glass role for production incidents, reviewed with security.",
    )
    item_decide(
        item=item_of(campaign, estate.console),
        actor=olivia,
        outcome="keep",
        justification="My own CLI user for the release tooling; keys rotated monthly since May.",
    )
    hostile = ReviewItem.objects.select_related("campaign").get(campaign=campaign, name=HOSTILE)
    item_decide(item=hostile, actor=olivia, outcome="keep", justification="@cmd still used")
    item_decide(
        item=item_of(campaign, estate.orphan_team),
        actor=estate.raj,
        outcome="keep",
        justification="Tom's job moves to the platform team next sprint.",
    )
    item_decide(
        item=item_of(campaign, estate.orphan),
        actor=security_user,
        outcome="deprovision",
        justification="Nobody owns it.",
    )
    # estate.bobs: nobody answers; the no-response policy decides it.
    campaign_start_closing(campaign=campaign, actor=security_user)
    request = RemediationRequest.objects.get(identity=estate.old)
    remediation_record_result(request=request, actor=security_user, succeeded=True, note="Deleted.")
    campaign.refresh_from_db()
    campaign_sign_off(campaign=campaign, actor=security_user, confirm=True, comment="Q4 done.")
    campaign.refresh_from_db()
    return campaign


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_csv_holds_every_item_with_its_decision_context_and_remediation(
    closed: Campaign, estate: Estate, tmp_path: Path
) -> None:
    manifest = campaign_evidence_bundle(tmp_path, closed)
    rows = {r["item_id"]: r for r in _rows(tmp_path / ITEMS_CSV)}
    items = ReviewItem.objects.filter(campaign=closed).select_related(
        "decision", "decision__decided_by"
    )
    assert (
        len(rows)
        == items.count()
        == closed.population_count
        == manifest["files"][ITEMS_CSV]["rows"]
    )
    for item in items:
        row = rows[str(item.pk)]
        decision = item.decision
        assert decision is not None
        assert row["campaign_id"] == str(closed.pk)
        assert row["identity_id"] == str(item.identity_id)
        assert row["snapshot_sha256"] == item.snapshot_hash
        assert row["status"] == item.status
        assert (row["decision"], row["decision_source"]) == (decision.outcome, decision.source)
        expected_by = decision.decided_by.email if decision.decided_by else "no-response policy"
        assert row["decided_by"] == expected_by
        assert row["recommendation_shown"] == item.snapshot["recommendation"]["action"]
        assert row["arn"] == item.snapshot["arn"] == item.identity.arn
        assert row["account_id"] == item.identity.account.account_id
        assert row["identity_type"] == item.kind and row["provider"] == "aws"
        assert row["assigned_at"] and row["decided_at"]
    bobs = rows[str(item_of(closed, estate.bobs).pk)]
    assert (bobs["decision_source"], bobs["decided_by"], bobs["status"]) == (
        "auto",
        "no-response policy",
        ItemStatus.EXPIRED,
    )
    ci = rows[str(item_of(closed, estate.ci).pk)]
    assert ci["exception_until"] and ci["owner_at_snapshot"] == "olivia.park@example.com"
    assert ci["access_keys"].startswith("AKIA") and ci["oldest_key_age_days"] == "30"
    admin = rows[str(item_of(closed, estate.admin).pk)]
    assert admin["findings"] == "PRIV-001" and "privileged" in admin["flags"]
    old = rows[str(item_of(closed, estate.old).pk)]
    assert old["remediation_status"] == RemediationStatus.SUCCEEDED and old["remediated_at"]
    assert old["remediation_due_at"] and old["remediation_note"] == "Deleted."
    orphan = rows[str(item_of(closed, estate.orphan).pk)]
    assert orphan["reviewer"] == "security queue" and orphan["decided_by"] == "sec@example.com"
    assert orphan["remediation_status"] == RemediationStatus.REQUESTED


def test_csv_cells_are_formula_safe(closed: Campaign, tmp_path: Path) -> None:
    campaign_evidence_bundle(tmp_path, closed)
    rows = _rows(tmp_path / ITEMS_CSV)
    hostile = next(r for r in rows if "HYPERLINK" in r["name"])
    assert hostile["name"] == "'" + HOSTILE and hostile["justification"] == "'@cmd still used"
    assert any(r["justification"] == "'+SUM(A1) nightly deploys" for r in rows)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_the_pdf_holds_the_summary_figures_matching_the_csv(
    closed: Campaign, tmp_path: Path
) -> None:
    manifest = campaign_evidence_bundle(tmp_path, closed)
    text = _pdf_text((tmp_path / SUMMARY_PDF).read_bytes())
    rows = _rows(tmp_path / ITEMS_CSV)
    kept = sum(r["status"] == "kept" for r in rows)
    auto = sum(r["decision_source"] == "auto" for r in rows)
    assert (kept, auto, len(rows)) == (5, 1, 8)
    assert re.search(r"Population \(items created\)\s+8\b", text)
    assert re.search(r"Items in this export \(items.csv rows\)\s+8\b", text)
    assert re.search(r"Inventory count for the scope at start\s+8\b", text)
    assert "reconciled" in text and "DOES NOT RECONCILE" not in text
    assert re.search(r"Decided\s+8\b", text) and re.search(r"Complete\s+100%", text)
    assert re.search(r"\nKept\s+5\b", text)
    assert re.search(r"Expired \(no response\)\s+1\b", text)
    assert re.search(r"Decided by the policy \(items.csv decision_source=auto\)\s+1\b", text)
    assert "Exceptions (keeps with an end date): 1" in text
    assert re.search(r"Deprovision requests\s+2\b", text) and re.search(r"Done\s+1\b", text)
    assert re.search(r"Open\s+1\b", text)
    assert "Sam Rivera" in text and "Security admin" in text and "Q4 done." in text
    assert closed.snapshot_hash in text and closed.close_summary_hash in text
    # Provider data is text, never markup: the hostile name is printed as it is.
    assert "<b>bold</b>&<font size='40'>" in text.replace("\n", "")
    assert manifest["subject"]["items"] == 8 and manifest["subject"]["percent_complete"] == 100


def test_the_manifest_holds_every_files_hash_the_snapshot_hash_and_the_chain_head(
    closed: Campaign, tmp_path: Path
) -> None:
    manifest = campaign_evidence_bundle(tmp_path, closed)
    written = json.loads((tmp_path / "manifest.json").read_text())
    assert written["files"].keys() == {ITEMS_CSV, SUMMARY_PDF}
    for name, entry in written["files"].items():
        data = (tmp_path / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert written["subject"]["snapshot_hash"] == closed.snapshot_hash
    assert written["subject"]["close_summary_hash"] == closed.close_summary_hash
    seq, head = chain_head()
    assert written["audit_chain_head"] == {"seq": seq, "hash": head}
    assert written["audit_chain_verified"]["ok"] is True
    assert manifest["files"] == written["files"]


def test_items_are_read_in_keyset_chunks(
    closed: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence_module, "CHUNK", 3)
    monkeypatch.setattr(evidence_module, "PDF_TABLE_ROWS", 5)
    campaign_evidence_bundle(tmp_path, closed)
    ids = [int(r["item_id"]) for r in _rows(tmp_path / ITEMS_CSV)]
    assert ids == sorted(ReviewItem.objects.filter(campaign=closed).values_list("id", flat=True))
    text = _pdf_text((tmp_path / SUMMARY_PDF).read_bytes())
    assert "The first 5 of 8 items are shown" in text.replace("\n", " ")


def test_an_open_campaign_exports_and_says_it_is_not_signed_off(
    campaign: Campaign, tmp_path: Path
) -> None:
    campaign_evidence_bundle(tmp_path, campaign)
    text = _pdf_text((tmp_path / SUMMARY_PDF).read_bytes())
    assert "NOT SIGNED OFF" in text and re.search(r"Complete\s+0%", text)


# --- The command ------------------------------------------------------------------------------


def test_evidence_export_writes_the_three_files_and_records_the_export(
    closed: Campaign, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    call_command("evidence_export", "--campaign", str(closed.pk), "--output", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["items.csv", "manifest.json", "summary.pdf"]
    printed = capsys.readouterr().out
    assert str(out / "items.csv") in printed and "Audit chain head at export" in printed
    event = AuditEvent.objects.filter(verb="export.campaign_evidence").get()
    manifest = json.loads((out / "manifest.json").read_text())
    assert event.actor_label == "command line" and event.object_id == str(closed.pk)
    assert event.details["files"] == {n: f["sha256"] for n, f in manifest["files"].items()}
    # The manifest's head is the chain before the export's own record.
    assert manifest["audit_chain_head"]["seq"] == event.seq - 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_evidence_export_json(closed: Campaign, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "b"
    call_command("evidence_export", "--campaign", str(closed.pk), "--output", str(out), "--json")
    printed = json.loads(capsys.readouterr().out)
    assert printed["output"] == str(out) and printed["subject"]["items"] == 8


def test_evidence_export_refuses_an_unknown_campaign_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "nothing"
    with pytest.raises(CommandError, match="No campaign 999"):
        call_command("evidence_export", "--campaign", "999", "--output", str(out))
    assert not out.exists() and not list(tmp_path.iterdir())


def test_evidence_export_refuses_a_non_empty_folder_or_a_file(
    closed: Campaign, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not empty"):
        call_command("evidence_export", "--campaign", str(closed.pk), "--output", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    with pytest.raises(CommandError, match="is a file"):
        call_command(
            "evidence_export", "--campaign", str(closed.pk), "--output", str(tmp_path / "keep.txt")
        )


def test_evidence_export_leaves_nothing_half_written_when_it_fails(
    closed: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("disk full")

    monkeypatch.setattr(evidence_module, "summary_pdf", broken)
    out = tmp_path / "bundle"
    with pytest.raises(RuntimeError):
        call_command("evidence_export", "--campaign", str(closed.pk), "--output", str(out))
    assert not list(tmp_path.iterdir())
    assert not AuditEvent.objects.filter(verb="export.campaign_evidence").exists()


# --- The download -----------------------------------------------------------------------------


def _download(user: Any, campaign: Campaign) -> Any:
    return client_for(user).get(reverse("reviews:campaign-evidence", args=[campaign.pk]))


def test_the_auditor_downloads_the_bundle_and_the_download_is_audited(
    closed: Campaign, auditor_user: Any
) -> None:
    page = client_for(auditor_user).get(reverse("reviews:campaign-detail", args=[closed.pk]))
    url = reverse("reviews:campaign-evidence", args=[closed.pk])
    assert (
        url in page.content.decode() and "Download evidence bundle (zip)" in page.content.decode()
    )
    response = _download(auditor_user, closed)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"nhigov-campaign-{closed.pk}-evidence-" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["items.csv", "manifest.json", "summary.pdf"]
    manifest = json.loads(archive.read("manifest.json"))
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"]
    event = AuditEvent.objects.get(verb="export.campaign_evidence")
    assert event.actor_id == auditor_user.pk
    assert event.details["items"] == 8


def test_security_downloads_too(closed: Campaign, analyst_user: Any) -> None:
    assert _download(analyst_user, closed).status_code == 200


def test_owners_and_strangers_cannot_download(
    closed: Campaign, estate: Estate, security_user: Any
) -> None:
    # Olivia holds items in this campaign and still may not: a bundle holds everyone's items.
    assert _download(estate.olivia, closed).status_code == 403
    assert _download(estate.bob, closed).status_code == 403
    other = launch(security_user, scope={"owner": "bob@example.com"})
    assert _download(estate.olivia, other).status_code == 403
    anonymous = client_for_anonymous(closed)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert not AuditEvent.objects.filter(verb="export.campaign_evidence").exists()


def client_for_anonymous(campaign: Campaign) -> Any:
    from django.test import Client

    return Client().get(reverse("reviews:campaign-evidence", args=[campaign.pk]))


def test_an_unknown_campaign_is_404(auditor_user: Any) -> None:
    response = client_for(auditor_user).get(reverse("reviews:campaign-evidence", args=[9999]))
    assert response.status_code == 404


def test_the_auditor_reads_but_changes_nothing(
    campaign: Campaign, auditor_user: Any, estate: Estate
) -> None:
    client = client_for(auditor_user)
    item = item_of(campaign, estate.orphan)
    for name, data in (
        ("reviews:campaign-closing", {}),
        ("reviews:campaign-sign-off", {"confirm": "on"}),
        ("reviews:campaign-cancel", {"reason": "no"}),
        ("reviews:campaign-extend", {"due_date": "2030-01-01", "reason": "x"}),
    ):
        response = client.post(reverse(name, args=[campaign.pk]), data)
        assert response.status_code in (302, 403), name
    response = client.post(
        reverse("reviews:item-decide", args=[item.pk]),
        {"outcome": "keep", "justification": "auditor", "version": item.version},
    )
    assert response.status_code in (302, 403)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert item_of(campaign, estate.orphan).status == ItemStatus.PENDING
    assert _download(auditor_user, campaign).status_code == 200
