"""The risk engine's workflow: evaluate identities, keep findings' lifecycle, set tiers and flags.

A pass reads identities in chunks, builds a database-free :class:`IdentityView` for each, runs the
rule catalogue, then in one write per chunk upserts the findings that fire (first seen kept, last
seen moved), resolves those that no longer fire, honours suppressions (re-opening expired ones that
still fire) and updates the identity's risk tier and its stale and orphaned flags.
Incremental after each discovery (the identities it touched), full on a schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.choices import FindingStatus, LifecycleState, Provider
from inventory.flags import is_orphaned, last_activity, stale_since
from inventory.models import (
    Account,
    Credential,
    DiscoveryRun,
    Finding,
    Identity,
    LeakedKey,
    RiskPass,
    RiskSettings,
)
from inventory.risk.rules import DEFAULT_THRESHOLDS, FindingResult, evaluate, is_privileged
from inventory.risk.tiers import risk_tier
from inventory.risk.view import CredentialView, IdentityView, RuleContext
from inventory.services.bulk import update_rows, upsert
from nhigov.audit import audit_record_many

CHUNK = 2000
_GONE = (LifecycleState.VANISHED, LifecycleState.DEPROVISIONED)
_IDENTITY_FIELDS = (
    "id",
    "kind",
    "name",
    "arn",
    "path",
    "account__account_id",
    "classification",
    "created_at",
    "last_used_at",
    "tags",
    "policies",
    "trust_policy",
    "attributes",
    "owner_id",
    "owner__is_active",
    "owner_team_id",
    "owner_unmatched",
    "owner_raw",
    "lifecycle_state",
    "is_privileged",
    "risk_tier",
    "is_stale",
    "stale_since",
    "is_orphaned",
    "orphaned_since",
)
_FLAG_FIELDS = ("risk_tier", "is_stale", "stale_since", "is_orphaned", "orphaned_since")
_CREDENTIAL_FIELDS = (
    "identity_id",
    "kind",
    "native_id",
    "status",
    "created_at",
    "last_used_at",
    "last_used_service",
    "last_used_region",
    "last_rotated_at",
    "attributes",
)


@dataclass
class PassCounts:
    identities: int = 0
    opened: int = 0
    resolved: int = 0
    reopened: int = 0
    tiers_changed: int = 0


def thresholds() -> dict[str, int]:
    """The catalogue's defaults overlaid with what an admin set."""
    current = RiskSettings.current().thresholds or {}
    return {
        **DEFAULT_THRESHOLDS,
        **{k: int(v) for k, v in current.items() if k in DEFAULT_THRESHOLDS},
    }


def rule_context(now: datetime) -> RuleContext:
    """Everything a pass needs besides the identities, read once."""
    risk_settings = RiskSettings.current()
    leaked: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key in LeakedKey.objects.select_related("report").order_by("id"):
        leaked[key.access_key_id].append(key.as_evidence())
    return RuleContext(
        now=now,
        thresholds=thresholds(),
        organization_account_ids=frozenset(
            Account.objects.filter(provider=Provider.AWS).values_list("account_id", flat=True)
        ),
        trusted_account_ids=frozenset(str(a) for a in risk_settings.trusted_account_ids or []),
        leaked_keys=dict(leaked),
    )


def risk_evaluate(
    *,
    identity_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    run: DiscoveryRun | None = None,
) -> RiskPass:
    """Evaluate the given identities (all of them when ``identity_ids`` is None)."""
    now = now or timezone.now()
    full = identity_ids is None
    record = RiskPass.objects.create(full=full, run=run, started_at=now)
    counts = PassCounts()
    context = rule_context(now)
    stale_after = timedelta(days=settings.NHIGOV_STALE_DAYS)
    try:
        for chunk in _chunks(identity_ids):
            _evaluate_chunk(chunk, context=context, stale_after=stale_after, counts=counts)
    except Exception as exc:
        RiskPass.objects.filter(pk=record.pk).update(
            finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}", **vars(counts)
        )
        raise
    RiskPass.objects.filter(pk=record.pk).update(finished_at=timezone.now(), **vars(counts))
    record.refresh_from_db()
    return record


def _chunks(identity_ids: Iterable[int] | None) -> Iterator[list[int]]:
    if identity_ids is not None:
        ids = sorted(set(identity_ids))
        for start in range(0, len(ids), CHUNK):
            yield ids[start : start + CHUNK]
        return
    last = 0
    while True:
        ids = list(
            Identity.objects.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:CHUNK]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _credential_views(ids: Sequence[int]) -> dict[int, list[CredentialView]]:
    by_identity: dict[int, list[CredentialView]] = defaultdict(list)
    for row in Credential.objects.filter(identity_id__in=ids).values_list(*_CREDENTIAL_FIELDS):
        by_identity[row[0]].append(CredentialView(*row[1:]))
    return by_identity


def identity_view(row: dict[str, Any], credentials: Sequence[CredentialView]) -> IdentityView:
    has_owner = row["owner_id"] is not None or row["owner_team_id"] is not None
    owner_active = row["owner_id"] is None or bool(row["owner__is_active"])
    return IdentityView(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        arn=row["arn"],
        path=row["path"],
        account_id=row["account__account_id"],
        classification=row["classification"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        tags=row["tags"] or {},
        policies=row["policies"] or [],
        trust_policy=row["trust_policy"],
        attributes=row["attributes"] or {},
        credentials=tuple(credentials),
        has_owner=has_owner,
        owner_active=owner_active,
        owner_unmatched=row["owner_unmatched"],
        owner_raw=row["owner_raw"],
    )


def _evaluate_chunk(
    ids: Sequence[int], *, context: RuleContext, stale_after: timedelta, counts: PassCounts
) -> None:
    now = context.now
    rows = list(Identity.objects.filter(id__in=ids).values(*_IDENTITY_FIELDS))
    credentials = _credential_views(ids)
    existing: dict[tuple[int, str, str], tuple[int, str, datetime | None]] = {
        (identity_id, rule_id, key): (pk, status, until)
        for pk, identity_id, rule_id, key, status, until in Finding.objects.filter(
            identity_id__in=ids
        ).values_list("id", "identity_id", "rule_id", "key", "status", "suppressed_until")
    }
    upserts: list[dict[str, Any]] = []
    opened: list[list[Any]] = []
    reopened: list[list[Any]] = []
    seen: set[tuple[int, str, str]] = set()
    identity_updates: list[dict[str, Any]] = []
    for row in rows:
        counts.identities += 1
        creds = credentials.get(row["id"], [])
        gone = row["lifecycle_state"] in _GONE
        view = identity_view(row, creds)
        results: list[FindingResult] = [] if gone else evaluate(view, context)
        counted: list[FindingResult] = []
        for result in results:
            key = (row["id"], result.rule_id, result.key[:256])
            seen.add(key)
            old = existing.get(key)
            status = _next_status(old, now)
            if old is None:
                counts.opened += 1
                opened.append([row["id"], result.rule_id, result.key[:256], result.severity])
            elif old[1] == FindingStatus.RESOLVED or (
                old[1] == FindingStatus.SUPPRESSED and status == FindingStatus.OPEN
            ):
                counts.reopened += 1
                reopened.append([row["id"], result.rule_id, result.key[:256], result.severity])
            if status == FindingStatus.OPEN:
                counted.append(result)
            upserts.append(
                {
                    "identity_id": row["id"],
                    "rule_id": result.rule_id,
                    "key": result.key[:256],
                    "severity": result.severity,
                    "status": status,
                    "message": result.message,
                    "evidence": result.evidence,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "resolved_at": None,
                }
            )
        privileged = not gone and is_privileged(view)
        tier = "low" if gone else risk_tier(counted, privileged=privileged)
        values = _flags(row, creds, tier=tier, stale_after=stale_after, now=now)
        if any(values[f] != row[f] for f in _FLAG_FIELDS):
            if values["risk_tier"] != row["risk_tier"]:
                counts.tiers_changed += 1
            identity_updates.append({"id": row["id"], **values})
    resolved = [
        (pk, key)
        for key, (pk, status, _until) in existing.items()
        if key not in seen and status != FindingStatus.RESOLVED
    ]
    to_resolve = [pk for pk, _key in resolved]
    counts.resolved += len(to_resolve)
    with transaction.atomic():
        upsert(
            Finding,
            upserts,
            unique_fields=("identity_id", "rule_id", "key"),
            update_fields=(
                "severity",
                "status",
                "message",
                "evidence",
                "last_seen_at",
                "resolved_at",
            ),
        )
        for start in range(0, len(to_resolve), CHUNK):
            Finding.objects.filter(id__in=to_resolve[start : start + CHUNK]).update(
                status=FindingStatus.RESOLVED, resolved_at=now
            )
        update_rows(Identity, identity_updates, fields=_FLAG_FIELDS)
        audit_record_many(
            [
                {"verb": verb, "object_type": "inventory.finding", "details": {"findings": items}}
                for verb, items in (
                    ("findings.opened", opened),
                    ("findings.reopened", reopened),
                    ("findings.resolved", [list(key) for _pk, key in resolved]),
                )
                if items
            ],
            actor="risk engine",
        )
    from reviews.services.triggers import review_triggers_from_risk  # event-triggered reviews

    was_stale = {r["id"] for r in rows if r["is_stale"]}
    review_triggers_from_risk(
        stale_ids=[u["id"] for u in identity_updates if u["is_stale"] and u["id"] not in was_stale],
        admin_ids=[entry[0] for entry in opened + reopened if entry[1] == "PRIV-001"],
        now=now,
    )


def _next_status(old: tuple[int, str, datetime | None] | None, now: datetime) -> str:
    if old is None:
        return FindingStatus.OPEN
    _pk, status, until = old
    if status == FindingStatus.SUPPRESSED and (until is None or until > now):
        return FindingStatus.SUPPRESSED
    return FindingStatus.OPEN


def _flags(
    row: dict[str, Any],
    creds: Sequence[CredentialView],
    *,
    tier: str,
    stale_after: timedelta,
    now: datetime,
) -> dict[str, Any]:
    """The identity's tier and flags as of ``now`` (dates kept when a flag was already set)."""
    since = stale_since(
        kind=row["kind"],
        classification=row["classification"],
        activity=last_activity(
            last_used_at=row["last_used_at"],
            created_at=row["created_at"],
            credential_uses=(c.last_used_at for c in creds),
        ),
        stale_after=stale_after,
        now=now,
    )
    orphaned = is_orphaned(
        owner_id=row["owner_id"],
        owner_active=row["owner_id"] is None or bool(row["owner__is_active"]),
        team_id=row["owner_team_id"],
        provider_managed=bool((row["attributes"] or {}).get("service_linked")),
    )
    if orphaned and row["is_orphaned"]:
        orphaned_since = row["orphaned_since"]
    else:
        orphaned_since = now if orphaned else None
    return {
        "risk_tier": tier,
        "is_stale": since is not None,
        "stale_since": since,
        "is_orphaned": orphaned,
        "orphaned_since": orphaned_since,
    }
