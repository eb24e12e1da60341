"""Remediation requests: created by deprovision decisions, canceled when a decision changes,
and their results recorded (executing them at the provider is the remediation workflow's job)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.choices import (
    CredentialKind,
    CredentialStatus,
    IdentityEventKind,
    IdentityKind,
    LifecycleState,
)
from inventory.connectors.base import IdentityRecord
from inventory.models import Account, DiscoveryRun, Identity, IdentityEvent
from inventory.services.risk import risk_reevaluate_later
from nhigov.audit import audit_record
from nhigov.models import User
from reviews.choices import CampaignStatus, ItemStatus, RemediationStatus
from reviews.models import RemediationRequest, ReviewDecision, ReviewItem
from reviews.states import InvalidTransition, NotAllowed, ReviewError, item_transition

# An identity in one of these states needs no deprovisioning (or is already on its way).
_NOT_DEPROVISIONABLE = (
    LifecycleState.VANISHED,
    LifecycleState.DEPROVISIONED,
    LifecycleState.DISABLED,
)


def _set_lifecycle(
    *, identity_id: int, to_state: str, actor: User | None, reason: str, now: datetime
) -> str | None:
    """Move an identity's lifecycle state, with its history event and audit record.

    Returns the state it had, or None when nothing changed.
    """
    row = (
        Identity.objects.select_for_update()
        .filter(pk=identity_id)
        .values_list("lifecycle_state", "name")
        .first()
    )
    if row is None or row[0] == to_state:
        return None
    from_state, name = row
    Identity.objects.filter(pk=identity_id).update(
        lifecycle_state=to_state, lifecycle_changed_at=now
    )
    if to_state in _NOT_DEPROVISIONABLE:  # gone or disabled: its findings and tier follow
        risk_reevaluate_later([identity_id])
    IdentityEvent.objects.create(
        identity_id=identity_id,
        kind=IdentityEventKind.STATE_CHANGED,
        at=now,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
    )
    audit_record(
        verb="identity.lifecycle_changed",
        actor=actor,
        object_type="inventory.identity",
        object_id=identity_id,
        object_label=name,
        before={"lifecycle_state": from_state},
        after={"lifecycle_state": to_state},
        details={"reason": reason},
        at=now,
    )
    return str(from_state)


def remediation_request_create(
    *, item: ReviewItem, decision: ReviewDecision, actor: User | None, now: datetime
) -> RemediationRequest:
    """Record the request to deprovision; the identity becomes ``pending_deprovision``."""
    current = (
        Identity.objects.filter(pk=item.identity_id).values_list("lifecycle_state", flat=True).get()
    )
    previous = str(current)
    if current not in _NOT_DEPROVISIONABLE and current != LifecycleState.PENDING_DEPROVISION:
        _set_lifecycle(
            identity_id=item.identity_id,
            to_state=LifecycleState.PENDING_DEPROVISION,
            actor=actor,
            reason=f"Deprovision decided in review campaign {item.campaign_id} "
            f"({item.campaign.name}).",
            now=now,
        )
    request = RemediationRequest.objects.create(
        identity_id=item.identity_id,
        item=item,
        decision=decision,
        requested_by=actor,
        requested_at=now,
        due_at=now + timedelta(days=settings.NHIGOV_REVIEW_REMEDIATION_DAYS),
        previous_lifecycle_state=previous,
        dry_run=True,
    )
    audit_record(
        verb="remediation.requested",
        actor=actor,
        obj=request,
        after={"status": request.status, "action": request.action, "dry_run": True},
        details={
            "identity_id": item.identity_id,
            "item_id": item.pk,
            "campaign_id": item.campaign_id,
            "decision_id": decision.pk,
            "source": decision.source,
            "due_at": request.due_at,
        },
        at=now,
    )
    return request


def remediation_cancel_open(*, item: ReviewItem, actor: User | None, now: datetime) -> int:
    """The deprovision decision was changed: cancel its open request and restore the identity."""
    canceled = 0
    for request in RemediationRequest.objects.select_for_update().filter(
        item=item, status=RemediationStatus.REQUESTED
    ):
        RemediationRequest.objects.filter(pk=request.pk).update(
            status=RemediationStatus.CANCELED, finished_at=now, finished_by=actor
        )
        still_pending = Identity.objects.filter(
            pk=request.identity_id, lifecycle_state=LifecycleState.PENDING_DEPROVISION
        ).exists()
        if still_pending and request.previous_lifecycle_state != LifecycleState.PENDING_DEPROVISION:
            _set_lifecycle(
                identity_id=request.identity_id,
                to_state=request.previous_lifecycle_state,
                actor=actor,
                reason=f"Deprovision decision changed in review campaign {item.campaign_id}.",
                now=now,
            )
        audit_record(
            verb="remediation.canceled",
            actor=actor,
            obj=request,
            before={"status": RemediationStatus.REQUESTED},
            after={"status": RemediationStatus.CANCELED},
            details={"item_id": item.pk, "reason": "decision changed"},
            at=now,
        )
        canceled += 1
    return canceled


def remediation_record_result(
    *,
    request: RemediationRequest,
    actor: User | None,
    succeeded: bool,
    note: str = "",
    result: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> RemediationRequest:
    """Record what happened at the provider (by the executor, or by hand with a note).

    The item follows (``remediated`` / ``remediation_failed``) while its campaign is open; once
    the campaign is closed the item is sealed and only the request carries the result.
    """
    now = now or timezone.now()
    if actor is not None and not actor.can_assign_owners:
        raise NotAllowed("Only the security team can record remediation results.")
    if not succeeded and not note.strip() and not result:
        raise ReviewError("Say what failed: the note is kept with the request.")
    with transaction.atomic():
        updated = RemediationRequest.objects.filter(
            pk=request.pk, status=RemediationStatus.REQUESTED
        ).update(
            status=RemediationStatus.SUCCEEDED if succeeded else RemediationStatus.FAILED,
            finished_at=now,
            finished_by=actor,
            note=note.strip(),
            result=result or {},
        )
        if updated != 1:
            raise InvalidTransition("This remediation request is no longer open.")
        request.refresh_from_db()
        item = ReviewItem.objects.select_related("campaign").get(pk=request.item_id)
        if item.campaign.status != CampaignStatus.CLOSED and item.status == (
            ItemStatus.REVOKE_REQUESTED
        ):
            item_transition(
                item,
                ItemStatus.REMEDIATED if succeeded else ItemStatus.REMEDIATION_FAILED,
            )
        if succeeded:
            _set_lifecycle(
                identity_id=request.identity_id,
                to_state=LifecycleState.DEPROVISIONED,
                actor=actor,
                reason=f"Remediation request {request.pk} done.",
                now=now,
            )
        audit_record(
            verb="remediation.succeeded" if succeeded else "remediation.failed",
            actor=actor,
            obj=request,
            before={"status": RemediationStatus.REQUESTED},
            after={"status": request.status},
            details={"note": request.note, "result": request.result, "item_id": item.pk},
            at=now,
        )
    return request


# --- Proof that the access is gone ------------------------------------------------------------

# Requests whose effect discovery can confirm: still open (done outside nhigov), or recorded done.
_VERIFIABLE = (RemediationStatus.REQUESTED, RemediationStatus.SUCCEEDED)
_LOGIN_CREDENTIALS = (CredentialKind.ACCESS_KEY, CredentialKind.PASSWORD)


def _is_disabled(record: IdentityRecord) -> bool:
    """An IAM user with no active access key and no console password can no longer sign in."""
    return record.kind == IdentityKind.IAM_USER and not any(
        c.kind in _LOGIN_CREDENTIALS and c.status == CredentialStatus.ACTIVE
        for c in record.credentials
    )


def remediation_verify_by_discovery(
    *,
    account: Account,
    records: Iterable[IdentityRecord],
    run: DiscoveryRun | None,
    now: datetime,
) -> int:
    """Called by the reconcile of a *complete* discovery of ``account``: for each deprovision
    request of the account not yet verified, record the run as proof when it no longer returned
    the identity (``gone``) or returned an IAM user with no active credential (``disabled``).

    A request still open is then recorded done by discovery (its item ``remediated`` while the
    campaign is open); an identity ``pending_deprovision`` that is now disabled becomes
    ``disabled``. One query when there is nothing to verify.
    """
    pending = list(
        RemediationRequest.objects.filter(
            identity__account=account,
            verified_at=None,
            status__in=_VERIFIABLE,
            requested_at__lte=now,
        )
        .values_list("pk", "identity__native_id")
        .order_by("pk")
    )
    if not pending:
        return 0
    wanted = {native_id for _, native_id in pending}
    present = {r.native_id: r for r in records if r.native_id in wanted}
    run_label = f"discovery run {run.pk}" if run is not None else "a discovery"
    verified = 0
    for pk, native_id in pending:
        record = present.get(native_id)
        if record is None:
            how, words = "gone", "no longer returned"
        elif _is_disabled(record):
            how, words = "disabled", "returned with no active access key or console password"
        else:
            continue
        request = RemediationRequest.objects.select_related("item__campaign").get(pk=pk)
        fields: dict[str, Any] = {"verified_by_run": run, "verified_at": now, "verification": how}
        was = request.status
        if was == RemediationStatus.REQUESTED:
            fields.update(
                status=RemediationStatus.SUCCEEDED,
                finished_at=now,
                note=f"Done outside nhigov; verified by {run_label}: {words}.",
                result={"verified_by": "discovery", "verification": how},
            )
        RemediationRequest.objects.filter(pk=pk, verified_at=None).update(**fields)
        item = request.item
        if (
            was == RemediationStatus.REQUESTED
            and item.campaign.status != CampaignStatus.CLOSED
            and item.status == ItemStatus.REVOKE_REQUESTED
        ):
            item_transition(item, ItemStatus.REMEDIATED)
        if how == "disabled":
            current = (
                Identity.objects.filter(pk=request.identity_id)
                .values_list("lifecycle_state", flat=True)
                .first()
            )
            if current == LifecycleState.PENDING_DEPROVISION:
                _set_lifecycle(
                    identity_id=request.identity_id,
                    to_state=LifecycleState.DISABLED,
                    actor=None,
                    reason=f"Remediation request {pk} verified by {run_label}: {words}.",
                    now=now,
                )
        audit_record(
            verb="remediation.verified",
            actor="discovery",
            obj=request,
            before={"status": was},
            after={"status": fields.get("status", was), "verification": how},
            details={
                "identity_id": request.identity_id,
                "native_id": native_id,
                "item_id": request.item_id,
                "campaign_id": item.campaign_id,
                "run_id": run.pk if run is not None else None,
                "account_id": account.account_id,
            },
            at=now,
        )
        verified += 1
    return verified
