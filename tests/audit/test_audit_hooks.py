"""State changes across nhigov land in the audit trail, and the chain stays intact."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inventory.connectors.base import AccountInfo, AccountInventory
from inventory.models import Finding
from inventory.services.discovery import discovery_execute, discovery_start
from inventory.services.findings import finding_suppress, risk_settings_update
from inventory.services.sources import source_create
from nhigov.audit import audit_verify
from nhigov.models import AuditEvent
from tests.inventory.records import ACCOUNT, role

pytestmark = pytest.mark.django_db


def verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("verb", flat=True))


def test_discovery_diff_and_findings_are_audited(fake_connector, security_user) -> None:  # type: ignore[no-untyped-def]
    fake_connector.accounts = [AccountInfo(ACCOUNT, "prod")]
    fake_connector.inventories = {
        ACCOUNT: AccountInventory(
            ACCOUNT, identities=[role("idle", used=None, created=300), role("busy")]
        )
    }
    source = source_create(name="org", kind="aws-organization", actor=security_user)
    discovery_execute(discovery_start(source=source).pk, inline=True)
    fake_connector.inventories = {ACCOUNT: AccountInventory(ACCOUNT, identities=[role("busy")])}
    discovery_execute(discovery_start(source=source).pk, inline=True)
    seen = verbs()
    assert seen[0] == "source.created"
    for verb in (
        "discovery.identities_added",
        "findings.opened",
        "discovery.run_finished",
        "identity.vanished",
        "findings.resolved",
    ):
        assert verb in seen, verb
    added = AuditEvent.objects.get(verb="discovery.identities_added")
    assert len(added.details["native_ids"]) == 2 and added.actor_label == "discovery"
    assert audit_verify(record=False).ok


def test_people_actions_are_audited_with_who(fake_connector, security_user) -> None:  # type: ignore[no-untyped-def]
    fake_connector.accounts = [AccountInfo(ACCOUNT, "prod")]
    fake_connector.inventories = {
        ACCOUNT: AccountInventory(ACCOUNT, identities=[role("idle", used=None, created=300)])
    }
    source = source_create(name="org", kind="aws-organization")
    discovery_execute(discovery_start(source=source).pk, inline=True)
    finding = Finding.objects.get(rule_id="ROLE-001")
    finding_suppress(finding=finding, actor=security_user, reason="DR role")
    risk_settings_update(actor=security_user, thresholds={"role_unused_days": 60}, reason="policy")
    suppressed = AuditEvent.objects.get(verb="finding.suppressed")
    assert suppressed.actor_label == "sec" and suppressed.details["reason"] == "DR role"
    changed = AuditEvent.objects.get(verb="settings.risk_changed")
    assert changed.after["thresholds"] == {"role_unused_days": 60}


def test_sign_ins_failures_and_sign_outs_are_audited(owner_user) -> None:  # type: ignore[no-untyped-def]
    c = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="pytest-browser")
    c.post(reverse("login"), {"username": "olivia", "password": "nope"})
    c.post(reverse("login"), {"username": "olivia", "password": "pw-for-tests-1"})
    c.post(reverse("logout"))
    assert verbs() == ["auth.login_failed", "auth.login", "auth.logout"]
    failed = AuditEvent.objects.get(verb="auth.login_failed")
    assert failed.details == {"username": "olivia"} and failed.ip == "203.0.113.9"
    assert "nope" not in str(AuditEvent.objects.values_list("details", "before", "after"))
    login = AuditEvent.objects.get(verb="auth.login")
    assert login.actor_label == "olivia" and login.user_agent == "pytest-browser"
