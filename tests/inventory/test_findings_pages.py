"""Risk pages through the permission gate: findings, rules, suppress, thresholds, leak upload."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from inventory.choices import FindingStatus
from inventory.connectors.base import AccountInventory
from inventory.models import Account, Finding, LeakReport, RiskSettings
from inventory.services.reconcile import reconcile_account
from inventory.services.risk import risk_evaluate
from tests.inventory.records import ACCOUNT, NOW, access_key, role, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings(owner_user):  # type: ignore[no-untyped-def]
    account = Account.objects.create(account_id=ACCOUNT, name="prod")
    reconcile_account(
        account=account,
        inventory=AccountInventory(
            ACCOUNT,
            identities=[
                role("olivias-idle", used=None, created=300, tags={"owner": owner_user.email}),
                role("<b>evil</b>-idle", used=None, created=300),
                user("ci", keys=[access_key("AKIAIOSFODNN7EXAMPLE", created=10, used=None)]),
            ],
        ),
        now=NOW,
    )
    risk_evaluate(now=NOW)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_security_sees_all_findings_worst_first(security_user, findings) -> None:  # type: ignore[no-untyped-def]
    page = client_for(security_user).get(reverse("inventory:finding-list")).context["page"]
    ranks = [f.severity_rank for f in page.object_list]
    assert ranks == sorted(ranks, reverse=True)
    assert {f.identity.name for f in page.object_list} >= {"olivias-idle", "<b>evil</b>-idle"}


def test_owner_sees_only_findings_of_their_identities(owner_user, findings) -> None:  # type: ignore[no-untyped-def]
    page = client_for(owner_user).get(reverse("inventory:finding-list")).context["page"]
    assert {f.identity.name for f in page.object_list} == {"olivias-idle"}


def test_filters_by_rule_and_status(security_user, findings) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    page = c.get(reverse("inventory:finding-list") + "?rule=ROLE-001").context["page"]
    assert {f.rule_id for f in page.object_list} == {"ROLE-001"}
    page = c.get(reverse("inventory:finding-list") + "?status=resolved").context["page"]
    assert list(page.object_list) == []


def test_rule_catalogue_lists_every_rule_with_counts(auditor_user, findings) -> None:  # type: ignore[no-untyped-def]
    response = client_for(auditor_user).get(reverse("inventory:rule-list"))
    body = response.content.decode()
    for rule_id in ("AK-001", "ROLE-005", "PRIV-003", "LEAK-001", "SEC-001"):
        assert rule_id in body
    detail = client_for(auditor_user).get(reverse("inventory:rule-detail", args=["ROLE-001"]))
    assert detail.status_code == 200 and "role_unused_days" in detail.content.decode()


def test_hostile_identity_names_are_escaped_on_the_findings_page(security_user, findings) -> None:  # type: ignore[no-untyped-def]
    body = client_for(security_user).get(reverse("inventory:finding-list")).content.decode()
    assert "<b>evil</b>" not in body and "&lt;b&gt;evil&lt;/b&gt;" in body


def test_security_suppresses_with_a_reason_owner_and_auditor_cannot(  # type: ignore[no-untyped-def]
    security_user, owner_user, auditor_user, findings
) -> None:
    finding = Finding.objects.get(identity__name="olivias-idle", rule_id="ROLE-001")
    url = reverse("inventory:finding-suppress", args=[finding.pk])
    assert client_for(owner_user).post(url, {"reason": "mine"}).status_code == 403
    assert client_for(auditor_user).post(url, {"reason": "audit"}).status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    response = client_for(security_user).post(
        url, {"reason": "Used by DR drills", "until": "2099-01-01"}
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert (
        finding.status == FindingStatus.SUPPRESSED
        and finding.suppressed_reason == "Used by DR drills"
    )
    detail = client_for(security_user).get(
        reverse("inventory:identity-detail", args=[finding.identity_id])
    )
    assert "suppressed until 2099-01-01" in detail.content.decode()


def test_owner_cannot_suppress_a_finding_they_cannot_see(owner_user, findings) -> None:  # type: ignore[no-untyped-def]
    other = Finding.objects.get(identity__name="<b>evil</b>-idle", rule_id="ROLE-001")
    response = client_for(owner_user).post(
        reverse("inventory:finding-suppress", args=[other.pk]), {"reason": "x"}
    )
    assert response.status_code == 404


def test_only_admins_change_thresholds(security_user, analyst_user, auditor_user, findings) -> None:  # type: ignore[no-untyped-def]
    url = reverse("inventory:risk-settings")
    assert client_for(auditor_user).get(url).status_code == 200
    assert client_for(auditor_user).post(url, {"role_unused_days": "5"}).status_code == 403
    assert client_for(analyst_user).post(url, {"role_unused_days": "5"}).status_code == 403
    response = client_for(security_user).post(
        url, {"role_unused_days": "30", "trusted_account_ids": "464622532012", "reason": "policy"}
    )
    assert response.status_code == 302
    settings_row = RiskSettings.current()
    assert settings_row.thresholds == {"role_unused_days": 30}
    assert settings_row.trusted_account_ids == ["464622532012"]
    bad = client_for(security_user).post(url, {"role_unused_days": "0"})
    assert "between 1 and 3650" in bad.content.decode()
    assert RiskSettings.current().thresholds == {"role_unused_days": 30}


def test_leak_report_upload_from_the_page(security_user, auditor_user, findings) -> None:  # type: ignore[no-untyped-def]
    report = json.dumps(
        [
            {
                "RuleID": "aws-access-token",
                "Secret": "AKIAIOSFODNN7EXAMPLE",
                "File": "app/settings.py",
                "Commit": "abc",
                "Email": "dev@example.com",
            }
        ]
    )
    url = reverse("inventory:leak-list")
    upload = SimpleUploadedFile("gitleaks.json", report.encode(), content_type="application/json")
    assert client_for(auditor_user).post(url, {"report": upload}).status_code == 403
    upload = SimpleUploadedFile("gitleaks.json", report.encode(), content_type="application/json")
    response = client_for(security_user).post(
        url, {"report": upload, "repository": "example/app"}, follow=True
    )
    assert "1 of them in the inventory" in response.content.decode()
    assert LeakReport.objects.get().matched_key_ids == 1
    assert Finding.objects.filter(rule_id="LEAK-001", status="open").exists()
    bad = SimpleUploadedFile("bad.json", b"[{oops", content_type="application/json")
    response = client_for(security_user).post(url, {"report": bad}, follow=True)
    assert "Report not imported" in response.content.decode()
    assert LeakReport.objects.count() == 1


def test_findings_api_goes_through_the_gate(owner_user, security_user, findings) -> None:  # type: ignore[no-untyped-def]
    mine = client_for(owner_user).get("/api/findings/?status=open").json()["results"]
    assert {r["identity_name"] for r in mine} == {"olivias-idle"}
    everything = client_for(security_user).get("/api/findings/?rule=ROLE-001").json()["results"]
    assert {r["rule_id"] for r in everything} == {"ROLE-001"} and len(everything) == 2
    assert everything[0]["owasp"] and everything[0]["title"]
