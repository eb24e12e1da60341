"""Proof of remediation: the later complete discovery run that no longer sees the identity (or
sees it disabled) is recorded on the request, audited, and carried into the evidence CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from inventory.choices import LifecycleState, SourceKind
from inventory.models import DiscoveryRun, Identity, Source
from inventory.services.discovery import discovery_execute, discovery_start
from nhigov.audit import audit_verify
from nhigov.models import AuditEvent
from reviews.choices import ItemStatus, RemediationStatus
from reviews.evidence import ITEMS_CSV, campaign_evidence_bundle
from reviews.models import RemediationRequest, ReviewItem
from reviews.services.decisions import item_decide
from tests.factories import SourceFactory
from tests.reviews.factories import launch

pytestmark = pytest.mark.django_db
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def _discover(source: Source) -> DiscoveryRun:
    run = discovery_start(source=source, trigger="cli")
    discovery_execute(run.pk, inline=True)
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors if hasattr(run, "errors") else run.status
    return run


def _item(name: str) -> ReviewItem:
    return ReviewItem.objects.select_related("campaign").get(name=name)


def test_a_later_complete_discovery_proves_each_deprovision(
    aws: None, security_user: Any, tmp_path: Path
) -> None:
    iam = boto3.client("iam")
    for name in ("deploy-bot", "old-bot"):
        iam.create_user(UserName=name)
        iam.create_access_key(UserName=name)
    iam.create_role(RoleName="old-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    source = SourceFactory(
        name="acct", kind=SourceKind.AWS_ACCOUNT, account_id="123456789012", regions=["us-east-1"]
    )
    _discover(source)
    campaign = launch(security_user, scope={"q": "bot"})
    role_campaign = launch(security_user, scope={"kind": ["iam_role"], "q": "old-role"})
    item_decide(
        item=_item("old-bot"), actor=security_user, outcome="deprovision", justification="Unused."
    )
    item_decide(
        item=ReviewItem.objects.select_related("campaign").get(campaign=role_campaign),
        actor=security_user,
        outcome="deprovision",
        justification="Leftover.",
    )
    item_decide(
        item=_item("deploy-bot"),
        actor=security_user,
        outcome="keep",
        justification="Deploys every day.",
    )
    # Nothing done at AWS yet: a discovery proves nothing.
    _discover(source)
    assert not RemediationRequest.objects.exclude(verified_at=None).exists()

    # The operator deletes the role and disables the user (key inactive) at AWS.
    iam.delete_role(RoleName="old-role")
    key = iam.list_access_keys(UserName="old-bot")["AccessKeyMetadata"][0]["AccessKeyId"]
    iam.update_access_key(UserName="old-bot", AccessKeyId=key, Status="Inactive")
    proof = _discover(source)

    role_request = RemediationRequest.objects.get(identity__name="old-role")
    user_request = RemediationRequest.objects.get(identity__name="old-bot")
    for request, how in ((role_request, "gone"), (user_request, "disabled")):
        assert request.verification == how and request.verified_at is not None
        assert request.verified_by_run is not None
        assert request.verified_by_run.source_id == source.pk
        assert request.verified_by_run_id in {
            proof.pk,
            *proof.children.values_list("pk", flat=True),
        }
        assert request.status == RemediationStatus.SUCCEEDED and request.finished_at
        assert "verified by discovery run" in request.note
        assert ReviewItem.objects.get(pk=request.item_id).status == ItemStatus.REMEDIATED
    assert Identity.objects.get(name="old-role").lifecycle_state == LifecycleState.VANISHED
    assert Identity.objects.get(name="old-bot").lifecycle_state == LifecycleState.DISABLED
    events = AuditEvent.objects.filter(verb="remediation.verified")
    assert events.count() == 2 and {e.actor_label for e in events} == {"discovery"}
    assert {e.after["verification"] for e in events} == {"gone", "disabled"}

    # Proof is recorded once; another run changes nothing.
    verified_at = role_request.verified_at
    _discover(source)
    role_request.refresh_from_db()
    assert role_request.verified_at == verified_at
    assert AuditEvent.objects.filter(verb="remediation.verified").count() == 2
    assert audit_verify(record=False).ok

    # The evidence CSV carries the proving run.
    campaign_evidence_bundle(tmp_path, campaign)
    with (tmp_path / ITEMS_CSV).open(newline="") as handle:
        rows = {r["name"]: r for r in csv.DictReader(handle)}
    assert rows["old-bot"]["verification"] == "disabled"
    assert rows["old-bot"]["verified_by_run"].startswith(str(user_request.verified_by_run_id))
    assert rows["old-bot"]["verified_at"] and rows["deploy-bot"]["verified_by_run"] == ""


def test_a_partial_run_proves_nothing_and_a_complete_one_does(campaign: Any, estate: Any) -> None:
    from django.utils import timezone

    from inventory.connectors.base import AccountInventory
    from inventory.services.reconcile import reconcile_account
    from tests.reviews.factories import item_of

    item_decide(
        item=item_of(campaign, estate.old),
        actor=estate.olivia,
        outcome="deprovision",
        justification="Replaced by the OIDC role.",
    )
    account = estate.old.account
    partial = AccountInventory(account_id=account.account_id, identities=[], complete=False)
    reconcile_account(account=account, inventory=partial, now=timezone.now())
    request = RemediationRequest.objects.get(identity=estate.old)
    assert request.verified_at is None and request.status == RemediationStatus.REQUESTED
    complete = AccountInventory(account_id=account.account_id, identities=[])
    reconcile_account(account=account, inventory=complete, now=timezone.now())
    request.refresh_from_db()
    assert request.verification == "gone" and request.verified_by_run is None
    assert request.status == RemediationStatus.SUCCEEDED
    assert item_of(campaign, estate.old).status == ItemStatus.REMEDIATED


def test_a_deprovisioned_identity_is_evaluated_again(  # type: ignore[no-untyped-def]
    campaign, estate, security_user, django_capture_on_commit_callbacks
) -> None:
    from django.utils import timezone

    from inventory.models import Finding, Identity
    from reviews.choices import RemediationStatus
    from reviews.models import RemediationRequest
    from reviews.services.decisions import item_decide
    from reviews.services.remediation import remediation_record_result
    from tests.reviews.factories import item_of

    now = timezone.now()
    Finding.objects.update_or_create(  # what the engine found before the deprovisioning
        identity=estate.admin,
        rule_id="PRIV-001",
        key="",
        defaults={
            "severity": "critical",
            "status": "open",
            "message": "Full admin.",
            "first_seen_at": now,
            "last_seen_at": now,
        },
    )
    Identity.objects.filter(pk=estate.admin.pk).update(risk_tier="critical")
    item = item_of(campaign, estate.admin)
    item_decide(item=item, actor=estate.olivia, outcome="deprovision", justification="Not needed.")
    request = RemediationRequest.objects.get(item=item, status=RemediationStatus.REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):
        remediation_record_result(
            request=request, actor=security_user, succeeded=True, note="Deleted by hand."
        )
    identity = Identity.objects.get(pk=estate.admin.pk)
    assert identity.lifecycle_state == "deprovisioned" and identity.risk_tier == "low"
    assert not Finding.objects.filter(identity=identity, status="open").exists()
