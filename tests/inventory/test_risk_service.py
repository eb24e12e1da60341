"""The risk engine over the database: findings' lifecycle, tiers, flags, thresholds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from inventory.choices import FindingStatus
from inventory.connectors.base import AccountInventory
from inventory.models import (
    Account,
    Finding,
    Identity,
    RiskBasis,
    RiskPass,
    RiskSettingsChange,
)
from inventory.services.findings import (
    FindingActionError,
    finding_suppress,
    finding_unsuppress,
    risk_settings_update,
)
from inventory.services.people import person_deactivate
from inventory.services.reconcile import reconcile_account
from inventory.services.risk import risk_evaluate
from tests.factories import UserFactory
from tests.inventory.records import ACCOUNT, ADMIN_POLICY, NOW, access_key, role, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def account() -> Account:
    return Account.objects.create(account_id=ACCOUNT, name="prod")


def load(account: Account, *records, now=NOW) -> None:  # type: ignore[no-untyped-def]
    reconcile_account(
        account=account, inventory=AccountInventory(ACCOUNT, identities=list(records)), now=now
    )


def open_rules(name: str) -> set[str]:
    return set(
        Finding.objects.filter(identity__name=name, status=FindingStatus.OPEN).values_list(
            "rule_id", flat=True
        )
    )


def test_pass_opens_findings_and_sets_the_tier(account: Account) -> None:
    load(
        account,
        user(
            "old-ci",
            keys=[access_key("AKIAAAAAAAAAAAAAAAA1", created=400, used=200)],
            policies=[ADMIN_POLICY],
        ),
    )
    result = risk_evaluate(now=NOW)
    assert {"AK-001", "AK-002", "USR-002", "PRIV-001", "OWN-001"} <= open_rules("old-ci")
    identity = Identity.objects.get(name="old-ci")
    assert identity.risk_tier == "critical"
    assert result.full and result.opened >= 5 and result.finished_at is not None
    finding = Finding.objects.get(identity=identity, rule_id="AK-001")
    assert finding.key == "AKIAAAAAAAAAAAAAAAA1" and "200 days" in finding.message
    assert finding.evidence


def test_a_second_pass_keeps_first_seen_and_moves_last_seen(account: Account) -> None:
    load(account, role("idle", used=None, created=300))
    risk_evaluate(now=NOW)
    later = NOW + timedelta(days=1)
    second = risk_evaluate(now=later)
    finding = Finding.objects.get(identity__name="idle", rule_id="ROLE-001")
    assert (finding.first_seen_at, finding.last_seen_at) == (NOW, later)
    assert second.opened == 0 and Finding.objects.filter(rule_id="ROLE-001").count() == 1


def test_finding_resolves_when_the_condition_clears_and_reopens_when_it_returns(
    account: Account,
) -> None:
    load(account, role("idle", used=None, created=300))
    risk_evaluate(now=NOW)
    load(account, role("idle", used=1, created=300))
    risk_evaluate(now=NOW)
    finding = Finding.objects.get(identity__name="idle", rule_id="ROLE-001")
    assert finding.status == FindingStatus.RESOLVED and finding.resolved_at == NOW
    load(account, role("idle", used=200, created=300))
    result = risk_evaluate(now=NOW)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.resolved_at is None
    assert result.reopened == 1


def test_suppressed_finding_stays_suppressed_until_its_expiry(account: Account) -> None:
    security = UserFactory(username="sec", role="security_admin")
    load(account, role("idle", used=None, created=300))
    risk_evaluate(now=NOW)
    finding = Finding.objects.get(rule_id="ROLE-001")
    from django.utils import timezone

    until = timezone.now() + timedelta(days=30)
    finding_suppress(finding=finding, actor=security, reason="Break-glass role", until=until)
    risk_evaluate(now=timezone.now())
    finding.refresh_from_db()
    assert finding.status == FindingStatus.SUPPRESSED and finding.suppressed_by == security
    risk_evaluate(now=until + timedelta(seconds=1))
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_suppressing_needs_a_reason_and_the_security_team(account: Account) -> None:
    owner = UserFactory(username="o", role="owner")
    security = UserFactory(username="sec", role="security_admin")
    load(account, role("idle", used=None, created=300))
    risk_evaluate(now=NOW)
    finding = Finding.objects.get(rule_id="ROLE-001")
    with pytest.raises(FindingActionError, match="security team"):
        finding_suppress(finding=finding, actor=owner, reason="mine")
    with pytest.raises(FindingActionError, match="reason"):
        finding_suppress(finding=finding, actor=security, reason="  ")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    finding_suppress(finding=finding, actor=security, reason="accepted")
    finding_unsuppress(finding=finding, actor=security)
    assert finding.status == FindingStatus.OPEN


def test_vanished_identity_has_its_findings_resolved(account: Account) -> None:
    load(account, role("idle", used=None, created=300), role("busy", used=1))
    risk_evaluate(now=NOW)
    load(account, role("busy", used=1))
    risk_evaluate(now=NOW)
    assert not open_rules("idle")
    assert Identity.objects.get(name="idle").risk_tier == "low"


def test_a_person_leaving_orphans_their_identities_at_once(account: Account) -> None:
    security = UserFactory(username="sec", role="security_admin")
    tom = UserFactory(username="tom", email="tom.weller@example.com")
    load(account, role("batch", tags={"owner": "tom.weller@example.com"}))
    risk_evaluate(now=NOW)
    assert "OWN-001" not in open_rules("batch")
    person_deactivate(person=tom, actor=security)
    identity = Identity.objects.get(name="batch")
    assert identity.is_orphaned and identity.orphaned_since is not None
    assert "OWN-001" in open_rules("batch")


def test_thresholds_change_with_a_record_and_reject_bad_values(account: Account) -> None:
    admin = UserFactory(username="adm", role="security_admin")
    analyst = UserFactory(username="ana", role="security_analyst")
    with pytest.raises(FindingActionError, match="security admin"):
        risk_settings_update(actor=analyst, thresholds={"role_unused_days": 30})
    with pytest.raises(FindingActionError, match="Unknown threshold"):
        risk_settings_update(actor=admin, thresholds={"nope": 3})
    with pytest.raises(FindingActionError, match="between 1 and 3650"):
        risk_settings_update(actor=admin, thresholds={"role_unused_days": 0})
    with pytest.raises(FindingActionError, match="12-digit"):
        risk_settings_update(actor=admin, trusted_account_ids=["12345"])
    assert not RiskSettingsChange.objects.exists()
    load(account, role("monthly", used=40))
    risk_evaluate(now=NOW)
    assert "ROLE-001" not in open_rules("monthly")
    risk_settings_update(actor=admin, thresholds={"role_unused_days": 30}, reason="tighter policy")
    risk_evaluate(now=NOW)
    assert "ROLE-001" in open_rules("monthly")
    change = RiskSettingsChange.objects.get()
    assert change.after["thresholds"] == {"role_unused_days": 30} and change.changed_by == admin


def test_discovery_evaluates_what_it_touched(fake_connector) -> None:  # type: ignore[no-untyped-def]
    from inventory.connectors.base import AccountInfo
    from inventory.services.discovery import discovery_execute, discovery_start
    from inventory.services.sources import source_create

    fake_connector.accounts = [AccountInfo(ACCOUNT, "prod")]
    fake_connector.inventories = {
        ACCOUNT: AccountInventory(ACCOUNT, identities=[role("idle", used=None, created=300)])
    }
    source = source_create(name="org", kind="aws-organization")
    discovery_execute(discovery_start(source=source).pk, inline=True)
    assert "ROLE-001" in open_rules("idle")
    assert RiskPass.objects.filter(full=False).count() == 1


def test_a_pass_rewrites_only_findings_whose_content_changed(account: Account) -> None:
    load(account, role("idle", used=None, created=300))
    risk_evaluate(now=NOW)
    finding = Finding.objects.get(identity__name="idle", rule_id="ROLE-001")
    assert finding.digest
    # Altered behind the engine's back but with the digest left as is: an unchanged finding is
    # only touched, so the alteration survives the pass...
    Finding.objects.filter(pk=finding.pk).update(evidence={"marker": True})
    risk_evaluate(now=NOW + timedelta(hours=1))
    finding.refresh_from_db()
    assert finding.evidence == {"marker": True}
    assert finding.last_seen_at == NOW + timedelta(hours=1)
    # ... and a finding whose digest differs is written again in full.
    Finding.objects.filter(pk=finding.pk).update(digest="")
    risk_evaluate(now=NOW + timedelta(hours=2))
    finding.refresh_from_db()
    assert finding.evidence != {"marker": True} and finding.digest


def test_an_incremental_pass_moves_last_seen_of_unchanged_findings(account: Account) -> None:
    load(account, role("idle", used=None, created=300), role("other", used=None, created=300))
    risk_evaluate(now=NOW)
    idle = Identity.objects.get(name="idle")
    later = NOW + timedelta(hours=3)
    risk_evaluate(identity_ids=[idle.pk], now=later)
    seen = dict(
        Finding.objects.filter(rule_id="ROLE-001").values_list("identity__name", "last_seen_at")
    )
    assert seen == {"idle": later, "other": NOW}


@pytest.mark.django_db(transaction=True)
def test_full_pass_pipelines_writes_on_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection

    from inventory.services import risk

    if connection.vendor != "postgresql":
        pytest.skip("the writer thread is used on PostgreSQL only")
    account = Account.objects.create(account_id=ACCOUNT, name="prod")
    load(account, *(role(f"idle-{n}", used=None, created=300) for n in range(7)))
    monkeypatch.setattr(risk, "CHUNK", 2)
    threads: set[str] = set()
    write = risk._write_chunk

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        import threading

        threads.add(threading.current_thread().name)
        return write(*args, **kwargs)

    monkeypatch.setattr(risk, "_write_chunk", spy)
    result = risk_evaluate(now=NOW)
    assert all(name.startswith("risk-writer") for name in threads) and threads
    assert result.identities == 7 and result.error == ""
    assert Finding.objects.filter(rule_id="ROLE-001", status=FindingStatus.OPEN).count() == 7

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(risk, "_write_chunk", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        risk_evaluate(now=NOW + timedelta(days=1))
    failed = RiskPass.objects.order_by("-id").first()
    assert failed is not None and "disk full" in failed.error


def test_a_full_pass_split_into_slices_covers_everyone_once(
    account: Account, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from inventory.services import risk

    load(account, *(role(f"idle-{n:02}", used=None, created=300) for n in range(13)))
    monkeypatch.setattr(risk, "CHUNK", 2)
    queued: list[tuple[int, int, int | None]] = []
    with django_capture_on_commit_callbacks(execute=True):
        record = risk.risk_full_pass_start(
            dispatch=lambda *args: queued.append(args), slices=3, now=NOW
        )
    assert record.slices == 3 and len(queued) == 3 and queued[-1][2] is None
    ids = sorted(Identity.objects.values_list("id", flat=True))
    covered = [i for i in ids for _p, first, last in queued if first <= i <= (last or i)]
    assert covered == ids  # every identity in exactly one slice
    for args in queued[:2]:
        risk.risk_evaluate_slice(*args)
    risk.risk_evaluate_slice(*queued[0])  # a redelivered slice is not counted twice
    record.refresh_from_db()
    assert record.finished_at is None and len(record.slices_done) == 2
    risk.risk_evaluate_slice(*queued[2])
    record.refresh_from_db()
    assert record.finished_at is not None and record.identities == 13
    assert record.opened == Finding.objects.count() > 0
    assert Finding.objects.filter(rule_id="ROLE-001").count() == 13
    assert set(Finding.objects.values_list("first_seen_at", flat=True)) == {NOW}


def test_a_failing_slice_is_recorded_and_the_pass_still_closes(
    account: Account, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from inventory.services import risk

    load(account, *(role(f"idle-{n:02}", used=None, created=300) for n in range(8)))
    monkeypatch.setattr(risk, "CHUNK", 2)
    queued: list[tuple[int, int, int | None]] = []
    with django_capture_on_commit_callbacks(execute=True):
        record = risk.risk_full_pass_start(
            dispatch=lambda *args: queued.append(args), slices=2, now=NOW
        )
    risk.risk_evaluate_slice(*queued[0])

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(risk, "_write_chunk", broken)
    with pytest.raises(RuntimeError):
        risk.risk_evaluate_slice(*queued[1])
    record.refresh_from_db()
    assert record.finished_at is not None and "database went away" in record.error
    # The first slice (4) and the chunk the failed slice evaluated before its write failed (2).
    assert record.identities == 6


def test_small_estates_get_one_slice(
    account: Account, django_capture_on_commit_callbacks: Any
) -> None:
    from inventory.services import risk

    load(account, role("idle", used=None, created=300))
    queued: list[tuple[int, int, int | None]] = []
    with django_capture_on_commit_callbacks(execute=True):
        record = risk.risk_full_pass_start(dispatch=lambda *args: queued.append(args), slices=4)
    assert record.slices == 1 and queued == [(record.pk, 0, None)]


def _vendor_trust(account_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "x1"}},
            }
        ],
    }


def test_policy_findings_are_carried_over_while_the_content_is_unchanged(
    account: Account,
) -> None:
    load(account, role("admin", used=1, policies=[ADMIN_POLICY]))
    risk_evaluate(now=NOW)
    identity = Identity.objects.get(name="admin")
    assert RiskBasis.objects.filter(identity=identity).exists()
    assert open_rules("admin") == {"PRIV-001", "OWN-001"}
    assert identity.risk_tier == "critical"
    own = Finding.objects.get(identity=identity, rule_id="OWN-001")
    assert own.severity == "high"  # privileged
    # The policies change behind discovery's back (same content hash): a pass carries the
    # policy findings over without reading them, and still knows the identity is privileged.
    Identity.objects.filter(pk=identity.pk).update(policies=[])
    risk_evaluate(now=NOW + timedelta(hours=1))
    identity.refresh_from_db()
    assert open_rules("admin") == {"PRIV-001", "OWN-001"} and identity.risk_tier == "critical"
    own.refresh_from_db()
    assert own.severity == "high"
    # Discovery sees the change (new content hash): analysed again, the admin finding resolves.
    Identity.objects.filter(pk=identity.pk).update(content_hash="changed")
    risk_evaluate(now=NOW + timedelta(hours=2))
    identity.refresh_from_db()
    assert open_rules("admin") == {"OWN-001"} and identity.risk_tier == "medium"


def test_allow_listing_an_account_analyses_trust_policies_again(account: Account) -> None:
    security = UserFactory(username="sec", role="security_admin")
    load(account, role("vendor", used=1, trust=_vendor_trust("222233334444")))
    risk_evaluate(now=NOW)
    assert "ROLE-003" in open_rules("vendor")
    risk_evaluate(now=NOW + timedelta(hours=1))
    assert "ROLE-003" in open_rules("vendor")  # carried over
    risk_settings_update(actor=security, trusted_account_ids=["222233334444"], reason="vendor")
    risk_evaluate(now=NOW + timedelta(hours=2))
    assert "ROLE-003" not in open_rules("vendor")


def test_a_suppressed_policy_finding_stays_suppressed_when_carried_over(
    account: Account,
) -> None:
    security = UserFactory(username="sec", role="security_admin")
    load(account, role("admin", used=1, policies=[ADMIN_POLICY], tags={"owner": "x"}))
    risk_evaluate(now=NOW)
    finding = Finding.objects.get(identity__name="admin", rule_id="PRIV-001")
    finding_suppress(finding=finding, actor=security, reason="Break-glass admin, vaulted")
    risk_evaluate(now=NOW + timedelta(hours=1))
    finding.refresh_from_db()
    identity = Identity.objects.get(name="admin")
    assert finding.status == FindingStatus.SUPPRESSED
    # Suppressed findings do not count towards the tier, but the identity is still privileged.
    assert identity.risk_tier == "high"  # OWN-001 rated high because privileged


def test_the_beat_task_queues_the_slices_that_close_the_pass(
    account: Account, django_capture_on_commit_callbacks: Any
) -> None:
    from inventory.tasks import risk_full_pass

    load(account, role("idle", used=None, created=300))
    with django_capture_on_commit_callbacks(execute=True):
        pk = risk_full_pass()  # Celery runs eagerly in tests: the slice runs here
    record = RiskPass.objects.get(pk=pk)
    assert record.full and record.finished_at is not None and record.identities == 1
    assert "ROLE-001" in open_rules("idle")


def test_a_carried_over_policy_finding_reopens_when_its_suppression_ends(
    account: Account,
) -> None:
    from django.utils import timezone

    security = UserFactory(username="sec", role="security_admin")
    load(account, role("admin", used=1, policies=[ADMIN_POLICY]))
    risk_evaluate(now=NOW)
    finding = Finding.objects.get(identity__name="admin", rule_id="PRIV-001")
    until = timezone.now() + timedelta(days=7)
    finding_suppress(finding=finding, actor=security, reason="Migration window", until=until)
    during = risk_evaluate(now=until - timedelta(days=1))
    finding.refresh_from_db()
    assert finding.status == FindingStatus.SUPPRESSED and during.reopened == 0
    after = risk_evaluate(now=until + timedelta(seconds=1))  # content unchanged: carried over
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and after.reopened == 1
    assert Identity.objects.get(name="admin").risk_tier == "critical"
