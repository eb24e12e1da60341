"""People acting on findings and on the engine's thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.choices import FindingStatus
from inventory.models import Finding, RiskSettings, RiskSettingsChange
from inventory.risk.rules import DEFAULT_THRESHOLDS
from nhigov.audit import audit_record
from nhigov.models import User


class FindingActionError(ValueError):
    """Not allowed or not valid; nothing was changed."""


def finding_suppress(
    *, finding: Finding, actor: User, reason: str, until: datetime | None = None
) -> Finding:
    """Accept a finding's risk for a reason, optionally until a date (then it re-opens)."""
    if not actor.can_assign_owners:
        raise FindingActionError("Only the security team can suppress findings.")
    reason = (reason or "").strip()
    if not reason:
        raise FindingActionError("A reason is required to suppress a finding.")
    now = timezone.now()
    if until is not None and until <= now:
        raise FindingActionError("The expiry must be in the future.")
    with transaction.atomic():
        claimed = Finding.objects.filter(pk=finding.pk, status=FindingStatus.OPEN).update(
            status=FindingStatus.SUPPRESSED,
            suppressed_reason=reason,
            suppressed_by=actor,
            suppressed_at=now,
            suppressed_until=until,
        )
        if not claimed:
            raise FindingActionError("Only an open finding can be suppressed.")
        audit_record(
            verb="finding.suppressed",
            actor=actor,
            obj=finding,
            before={"status": FindingStatus.OPEN},
            after={"status": FindingStatus.SUPPRESSED, "until": until},
            details={
                "reason": reason,
                "rule_id": finding.rule_id,
                "identity_id": finding.identity_id,
            },
        )
    finding.refresh_from_db()
    return finding


def finding_unsuppress(*, finding: Finding, actor: User) -> Finding:
    """End a suppression now; the finding is open again (the next pass resolves it if cleared)."""
    if not actor.can_assign_owners:
        raise FindingActionError("Only the security team can lift a suppression.")
    with transaction.atomic():
        claimed = Finding.objects.filter(pk=finding.pk, status=FindingStatus.SUPPRESSED).update(
            status=FindingStatus.OPEN, suppressed_until=timezone.now()
        )
        if not claimed:
            raise FindingActionError("This finding is not suppressed.")
        audit_record(
            verb="finding.unsuppressed",
            actor=actor,
            obj=finding,
            before={"status": FindingStatus.SUPPRESSED},
            after={"status": FindingStatus.OPEN},
            details={"rule_id": finding.rule_id, "identity_id": finding.identity_id},
        )
    finding.refresh_from_db()
    return finding


def risk_settings_update(
    *,
    actor: User,
    thresholds: dict[str, Any] | None = None,
    trusted_account_ids: list[str] | None = None,
    reason: str = "",
) -> RiskSettings:
    """Change thresholds and trusted accounts, validated, with a record of before and after."""
    if not actor.can_administer:
        raise FindingActionError("Only a security admin can change the risk settings.")
    current = RiskSettings.current()
    before = {
        "thresholds": dict(current.thresholds),
        "trusted_account_ids": list(current.trusted_account_ids),
    }
    new_thresholds = dict(current.thresholds)
    for key, value in (thresholds or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise FindingActionError(f"Unknown threshold {key!r}.")
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise FindingActionError(f"{key} must be a whole number of days.") from exc
        if not 1 <= number <= 3650:
            raise FindingActionError(f"{key} must be between 1 and 3650 days.")
        new_thresholds[key] = number
    accounts = list(current.trusted_account_ids)
    if trusted_account_ids is not None:
        accounts = []
        for raw in trusted_account_ids:
            account = str(raw).strip()
            if not (len(account) == 12 and account.isdigit()):
                raise FindingActionError(f"{account!r} is not a 12-digit AWS account id.")
            if account not in accounts:
                accounts.append(account)
    after = {"thresholds": new_thresholds, "trusted_account_ids": accounts}
    if after == before:
        return current
    with transaction.atomic():
        current.thresholds = new_thresholds
        current.trusted_account_ids = accounts
        current.updated_by = actor
        current.save()
        RiskSettingsChange.objects.create(
            changed_by=actor, before=before, after=after, reason=reason.strip()
        )
        audit_record(
            verb="settings.risk_changed",
            actor=actor,
            object_type="inventory.risksettings",
            object_id=current.pk,
            before=before,
            after=after,
            details={"reason": reason.strip()},
        )
    return current
