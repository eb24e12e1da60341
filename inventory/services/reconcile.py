"""Reconcile: a connector's records for one account -> identity and credential rows.

One transaction per account, under a per-account lock. Each record is hashed; only new and changed
identities are written (bulk upsert keyed by (account, native_id)), so a second run with no change
writes nothing. Identities missing from a *complete* run are marked vanished; a failed or partial
run marks nothing vanished. Lifecycle and owner changes leave an :class:`IdentityEvent`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction

from inventory.choices import (
    IdentityEventKind,
    LifecycleState,
    OwnerSource,
)
from inventory.classification import classify
from inventory.connectors.base import AccountInventory, CredentialRecord, IdentityRecord
from inventory.flags import is_orphaned, last_activity
from inventory.flags import stale_since as flag_stale_since
from inventory.models import Account, Credential, DiscoveryRun, Identity, IdentityEvent
from inventory.ownership import OwnerDirectory, OwnerMatch
from inventory.policy import is_privileged, summarize
from inventory.services.bulk import PreSerialized, dumps, upsert
from inventory.services.owners import load_owner_directory
from nhigov.audit import audit_record_many

# Columns discovery may rewrite on an existing identity (never first_seen_at, never the key).
_PROVIDER_COLUMNS = (
    "provider",
    "kind",
    "arn",
    "provider_id",
    "name",
    "path",
    "region",
    "tags",
    "created_at",
    "last_used_at",
    "last_used_service",
    "last_used_region",
    "classification",
    "classification_evidence",
    "policies",
    "trust_policy",
    "groups",
    "attributes",
    "permissions_summary",
    "is_privileged",
    "content_hash",
    "updated_at",
)
_STATE_COLUMNS = (
    "lifecycle_state",
    "lifecycle_changed_at",
    "vanished_at",
    "is_orphaned",
    "orphaned_since",
    "is_stale",
    "stale_since",
)
_OWNER_COLUMNS = (
    "owner_id",
    "owner_team_id",
    "owner_source",
    "owner_evidence",
    "owner_raw",
    "owner_unmatched",
)
_CREDENTIAL_COLUMNS = (
    "status",
    "created_at",
    "last_used_at",
    "last_used_service",
    "last_used_region",
    "last_rotated_at",
    "attributes",
)
# Fields compared to describe what changed, in the identity's history.
_DIFF_FIELDS = (
    "name",
    "path",
    "tags",
    "policies",
    "trust_policy",
    "groups",
    "attributes",
    "last_used_at",
    "classification",
    "owner_id",
    "owner_team_id",
)
_CHUNK = 5000


class _Existing(NamedTuple):
    id: int
    content_hash: str
    lifecycle_state: str
    owner_source: str
    owner_id: int | None
    owner_team_id: int | None
    is_orphaned: bool
    orphaned_since: datetime | None
    first_seen_at: datetime
    lifecycle_changed_at: datetime | None


@dataclass
class ReconcileResult:
    """Counts for the run row."""

    seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    vanished: int = 0
    reappeared: int = 0
    vanish_applied: bool = False
    events: list[IdentityEvent] = field(default_factory=list, repr=False)
    # Identities this reconcile created, changed or marked vanished: the risk engine's next work.
    touched_ids: list[int] = field(default_factory=list, repr=False)


def reconcile_account(
    *,
    account: Account,
    inventory: AccountInventory,
    now: datetime,
    run: DiscoveryRun | None = None,
    mark_vanished: bool | None = None,
) -> ReconcileResult:
    """Write one account's records. ``mark_vanished`` defaults to ``inventory.complete``."""
    if mark_vanished is None:
        mark_vanished = inventory.complete
    directory = load_owner_directory()
    result = ReconcileResult(seen=len(inventory.identities))
    with transaction.atomic():
        _lock_account(account)
        existing = _load_existing(account)
        builder = _RowBuilder(account=account, directory=directory, now=now, run=run)
        new_rows: list[dict[str, Any]] = []
        changed_rows: list[dict[str, Any]] = []
        changed_manual_rows: list[dict[str, Any]] = []
        credentials: dict[str, list[CredentialRecord]] = {}
        seen: set[str] = set()
        for record in inventory.identities:
            if record.native_id in seen:  # a provider listing the same thing twice
                continue
            seen.add(record.native_id)
            old = existing.get(record.native_id)
            row = builder.row(record, old)
            if old is None:
                new_rows.append(row)
                credentials[record.native_id] = record.credentials
            elif row["content_hash"] != old.content_hash or (
                old.lifecycle_state == LifecycleState.VANISHED
            ):
                credentials[record.native_id] = record.credentials
                if old.owner_source == OwnerSource.MANUAL:
                    changed_manual_rows.append(row)
                else:
                    changed_rows.append(row)
            else:
                result.unchanged += 1
        result.new = len(new_rows)
        result.updated = len(changed_rows) + len(changed_manual_rows)
        changed_old = _load_old_values(
            [existing[r["native_id"]].id for r in (*changed_rows, *changed_manual_rows)]
        )
        upsert(
            Identity,
            new_rows + changed_rows,
            unique_fields=("account_id", "native_id"),
            update_fields=(*_PROVIDER_COLUMNS, *_STATE_COLUMNS, *_OWNER_COLUMNS),
        )
        upsert(
            Identity,
            changed_manual_rows,
            unique_fields=("account_id", "native_id"),
            update_fields=(*_PROVIDER_COLUMNS, *_STATE_COLUMNS),
        )
        if credentials:
            ids = _identity_ids(account, credentials.keys(), everything=not existing)
            result.touched_ids.extend(ids[k] for k in credentials)
            _write_credentials(
                credentials, ids, replace={existing[k].id for k in credentials if k in existing}
            )
        events = builder.events
        for row in (*changed_rows, *changed_manual_rows):
            old = existing[row["native_id"]]
            events.extend(builder.change_events(old, row, changed_old.get(old.id, {})))
            if old.lifecycle_state == LifecycleState.VANISHED:
                result.reappeared += 1
        if mark_vanished:
            result.vanished = _mark_vanished(existing, seen, now=now, run=run, events=events)
            result.touched_ids.extend(
                e.identity_id for e in events if e.kind == IdentityEventKind.VANISHED
            )
            result.vanish_applied = True
            from reviews.services.remediation import remediation_verify_by_discovery  # proof

            remediation_verify_by_discovery(
                account=account, records=inventory.identities, run=run, now=now
            )
        IdentityEvent.objects.bulk_create(events, batch_size=_CHUNK)
        result.events = events
        audit_record_many(
            _audit_entries(account, [r["native_id"] for r in new_rows], events, run),
            actor="discovery",
        )
        account_updates: dict[str, Any] = {"last_run": run} if run else {}
        if inventory.complete:
            account_updates["last_complete_at"] = now
        if account_updates:
            Account.objects.filter(pk=account.pk).update(**account_updates)
    return result


_AUDIT_VERBS = {
    IdentityEventKind.CHANGED: "identity.changed",
    IdentityEventKind.VANISHED: "identity.vanished",
    IdentityEventKind.REAPPEARED: "identity.reappeared",
    IdentityEventKind.STATE_CHANGED: "identity.state_changed",
    IdentityEventKind.OWNER_CHANGED: "identity.owner_changed",
}
_AUDIT_NEW_BATCH = 500


def _audit_entries(
    account: Account, new_ids: list[str], events: list[IdentityEvent], run: DiscoveryRun | None
) -> list[dict[str, Any]]:
    """The discovery diff for the audit trail: new identities in batches, each change by itself."""
    run_id = run.pk if run else None
    entries: list[dict[str, Any]] = [
        {
            "verb": "discovery.identities_added",
            "object_type": "inventory.account",
            "object_id": account.account_id,
            "object_label": str(account),
            "details": {"run_id": run_id, "native_ids": new_ids[i : i + _AUDIT_NEW_BATCH]},
        }
        for i in range(0, len(new_ids), _AUDIT_NEW_BATCH)
    ]
    for event in events:
        entries.append(
            {
                "verb": _AUDIT_VERBS.get(IdentityEventKind(event.kind), "identity.changed"),
                "object_type": "inventory.identity",
                "object_id": event.identity_id,
                "before": {"state": event.from_state} if event.from_state else None,
                "after": {"state": event.to_state} if event.to_state else None,
                "details": {"run_id": run_id, "reason": event.reason, **event.details},
            }
        )
    return entries


def _lock_account(account: Account) -> None:
    """Serialise reconciles of one account (two sources may cover it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x4E4847, account.pk])
    else:  # SQLite serialises writers; take the write lock now rather than mid-way.
        Account.objects.filter(pk=account.pk).update(account_id=account.account_id)


def _load_existing(account: Account) -> dict[str, _Existing]:
    rows = Identity.objects.filter(account=account).values_list(
        "native_id",
        "id",
        "content_hash",
        "lifecycle_state",
        "owner_source",
        "owner_id",
        "owner_team_id",
        "is_orphaned",
        "orphaned_since",
        "first_seen_at",
        "lifecycle_changed_at",
    )
    return {row[0]: _Existing._make(row[1:]) for row in rows.iterator(chunk_size=_CHUNK)}


def _load_old_values(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What changed identities looked like before, to describe the change in their history."""
    old: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        for values in Identity.objects.filter(id__in=ids[start : start + _CHUNK]).values(
            "id", *_DIFF_FIELDS
        ):
            old[values.pop("id")] = values
    return old


def _identity_ids(
    account: Account, native_ids: Iterable[str], *, everything: bool
) -> dict[str, int]:
    qs = Identity.objects.filter(account=account)
    if everything:
        return dict(qs.values_list("native_id", "id").iterator(chunk_size=_CHUNK))
    wanted = list(native_ids)
    ids: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        ids.update(
            qs.filter(native_id__in=wanted[start : start + _CHUNK]).values_list("native_id", "id")
        )
    return ids


def _write_credentials(
    credentials: dict[str, list[CredentialRecord]], ids: dict[str, int], *, replace: set[int]
) -> None:
    rows: list[dict[str, Any]] = []
    keep: dict[int, set[tuple[str, str]]] = {}
    for native_id, records in credentials.items():
        identity_id = ids[native_id]
        keys = keep.setdefault(identity_id, set())
        for cred in records:
            if (cred.kind, cred.native_id) in keys:
                continue
            keys.add((cred.kind, cred.native_id))
            rows.append(
                {
                    "identity_id": identity_id,
                    "kind": cred.kind,
                    "native_id": cred.native_id[:2048],
                    "status": cred.status,
                    "created_at": cred.created_at,
                    "last_used_at": cred.last_used_at,
                    "last_used_service": cred.last_used_service[:128],
                    "last_used_region": cred.last_used_region[:32],
                    "last_rotated_at": cred.last_rotated_at,
                    "attributes": cred.attributes,
                }
            )
    if replace:  # credentials that disappeared from changed identities (a deleted key)
        replace_ids = sorted(replace)
        for start in range(0, len(replace_ids), _CHUNK):
            current = Credential.objects.filter(
                identity_id__in=replace_ids[start : start + _CHUNK]
            ).values_list("id", "identity_id", "kind", "native_id")
            gone = [pk for pk, ident, kind, nid in current if (kind, nid) not in keep[ident]]
            if gone:
                Credential.objects.filter(id__in=gone).delete()
    upsert(
        Credential,
        rows,
        unique_fields=("identity_id", "kind", "native_id"),
        update_fields=_CREDENTIAL_COLUMNS,
    )


def _mark_vanished(
    existing: dict[str, _Existing],
    seen: set[str],
    *,
    now: datetime,
    run: DiscoveryRun | None,
    events: list[IdentityEvent],
) -> int:
    terminal = {LifecycleState.VANISHED, LifecycleState.DEPROVISIONED}
    gone = [
        old
        for nid, old in existing.items()
        if nid not in seen and old.lifecycle_state not in terminal
    ]
    ids = [old.id for old in gone]
    for start in range(0, len(ids), _CHUNK):
        Identity.objects.filter(id__in=ids[start : start + _CHUNK]).update(
            lifecycle_state=LifecycleState.VANISHED,
            lifecycle_changed_at=now,
            vanished_at=now,
            updated_at=now,
        )
    events.extend(
        IdentityEvent(
            identity_id=old.id,
            kind=IdentityEventKind.VANISHED,
            at=now,
            run=run,
            from_state=old.lifecycle_state,
            to_state=LifecycleState.VANISHED,
            reason="No longer returned by a complete discovery of its account.",
        )
        for old in gone
    )
    return len(gone)


class _RowBuilder:
    """Turns records into identity rows, deciding lifecycle, ownership and flags."""

    def __init__(
        self,
        *,
        account: Account,
        directory: OwnerDirectory,
        now: datetime,
        run: DiscoveryRun | None,
    ) -> None:
        self.account = account
        self.directory = directory
        self.now = now
        self.run = run
        self.stale_after = timedelta(days=settings.NHIGOV_STALE_DAYS)
        self.events: list[IdentityEvent] = []

    def row(self, record: IdentityRecord, old: _Existing | None) -> dict[str, Any]:
        now = self.now
        classification, class_evidence = classify(record)
        summary = summarize(record.policies)
        manual = old is not None and old.owner_source == OwnerSource.MANUAL
        match = (
            OwnerMatch(owner_id=old.owner_id, team_id=old.owner_team_id, source=OwnerSource.MANUAL)
            if manual and old is not None
            else self.directory.resolve(record.tags)
        )
        tags_j = PreSerialized(dumps(record.tags))
        policies_j = PreSerialized(dumps(record.policies))
        trust_j = (
            PreSerialized(dumps(record.trust_policy)) if record.trust_policy is not None else None
        )
        groups_j = PreSerialized(dumps(record.groups))
        attributes_j = PreSerialized(dumps(record.attributes))
        credentials_j = dumps([_credential_key(c) for c in record.credentials])
        fingerprint = "\x1f".join(
            (
                record.kind,
                record.name,
                record.arn,
                record.provider_id,
                record.path,
                record.region,
                _iso(record.created_at),
                _iso(record.last_used_at),
                record.last_used_service,
                record.last_used_region,
                tags_j,
                policies_j,
                trust_j or "",
                groups_j,
                attributes_j,
                credentials_j,
                str(match.owner_id),
                str(match.team_id),
                match.source,
                match.raw,
                classification,
            )
        )
        content_hash = hashlib.blake2b(fingerprint.encode(), digest_size=16).hexdigest()
        owned = match.owner_id is not None or match.team_id is not None
        owner_inactive = (
            match.owner_id is not None and match.owner_id in self.directory.inactive_user_ids
        )
        orphaned = is_orphaned(
            owner_id=match.owner_id,
            owner_active=not owner_inactive,
            team_id=match.team_id,
            provider_managed=bool(record.attributes.get("service_linked")),
        )
        state, changed_at = self._state(old, owned)
        if old is not None and old.is_orphaned and orphaned:
            orphaned_since = old.orphaned_since
        else:
            orphaned_since = now if orphaned else None
        stale_since = flag_stale_since(
            kind=record.kind,
            classification=classification,
            activity=last_activity(
                last_used_at=record.last_used_at,
                created_at=record.created_at,
                credential_uses=(c.last_used_at for c in record.credentials),
            ),
            stale_after=self.stale_after,
            now=now,
        )
        row: dict[str, Any] = {
            "account_id": self.account.pk,
            "native_id": record.native_id,
            "provider": self.account.provider,
            "kind": record.kind,
            "arn": record.arn[:2048],
            "provider_id": record.provider_id[:128],
            "name": record.name[:512],
            "path": record.path[:512],
            "region": record.region[:32],
            "tags": tags_j,
            "created_at": record.created_at,
            "first_seen_at": old.first_seen_at if old else now,
            "last_used_at": record.last_used_at,
            "last_used_service": record.last_used_service[:128],
            "last_used_region": record.last_used_region[:32],
            "classification": classification,
            "classification_evidence": PreSerialized(dumps(class_evidence)),
            "lifecycle_state": state,
            "lifecycle_changed_at": changed_at,
            "vanished_at": None,
            "policies": policies_j,
            "trust_policy": trust_j,
            "groups": groups_j,
            "attributes": attributes_j,
            "permissions_summary": PreSerialized(dumps(summary)),
            "is_privileged": is_privileged(summary),
            "is_orphaned": orphaned,
            "orphaned_since": orphaned_since,
            "is_stale": stale_since is not None,
            "stale_since": stale_since,
            "content_hash": content_hash,
            "updated_at": now,
        }
        if not manual:
            row.update(
                {
                    "owner_id": match.owner_id,
                    "owner_team_id": match.team_id,
                    "owner_source": match.source,
                    "owner_evidence": PreSerialized(dumps(match.evidence)),
                    "owner_raw": match.raw,
                    "owner_unmatched": match.unmatched,
                }
            )
        else:
            # Keep the columns identical across a batch; the manual batch does not update these.
            row.update(
                {
                    "owner_id": old.owner_id if old else None,
                    "owner_team_id": old.owner_team_id if old else None,
                    "owner_source": OwnerSource.MANUAL,
                    "owner_evidence": PreSerialized("{}"),
                    "owner_raw": "",
                    "owner_unmatched": False,
                }
            )
        return row

    def _state(self, old: _Existing | None, owned: bool) -> tuple[str, datetime | None]:
        if old is None:
            return (LifecycleState.ACTIVE if owned else LifecycleState.DISCOVERED), self.now
        if old.lifecycle_state == LifecycleState.VANISHED:
            return (LifecycleState.ACTIVE if owned else LifecycleState.DISCOVERED), self.now
        if old.lifecycle_state == LifecycleState.DISCOVERED and owned:
            return LifecycleState.ACTIVE, self.now
        return old.lifecycle_state, old.lifecycle_changed_at

    def change_events(
        self, old: _Existing, row: dict[str, Any], before: dict[str, Any]
    ) -> list[IdentityEvent]:
        events: list[IdentityEvent] = []
        changed = [
            name
            for name in _DIFF_FIELDS
            if name in before and _comparable(before[name]) != _comparable(row.get(name))
        ]
        if old.lifecycle_state == LifecycleState.VANISHED:
            events.append(
                self._event(
                    old,
                    IdentityEventKind.REAPPEARED,
                    to_state=row["lifecycle_state"],
                    reason="Returned again by discovery after it had vanished.",
                )
            )
        elif row["lifecycle_state"] != old.lifecycle_state:
            events.append(
                self._event(
                    old,
                    IdentityEventKind.STATE_CHANGED,
                    to_state=row["lifecycle_state"],
                    reason="An owner was found in its tags.",
                )
            )
        owner_fields = [f for f in ("owner_id", "owner_team_id") if f in changed]
        if owner_fields:
            events.append(
                self._event(
                    old,
                    IdentityEventKind.OWNER_CHANGED,
                    reason="Owner tags changed at the provider.",
                    details={
                        "owner_id": [before.get("owner_id"), row.get("owner_id")],
                        "owner_team_id": [before.get("owner_team_id"), row.get("owner_team_id")],
                        "source": row.get("owner_source"),
                    },
                )
            )
        other = [f for f in changed if f not in owner_fields]
        if other or not changed:
            events.append(
                self._event(
                    old,
                    IdentityEventKind.CHANGED,
                    reason="Discovery saw a change at the provider.",
                    details={"fields": other or ["credentials"]},
                )
            )
        return events

    def _event(
        self,
        old: _Existing,
        kind: str,
        *,
        to_state: str = "",
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> IdentityEvent:
        return IdentityEvent(
            identity_id=old.id,
            kind=kind,
            at=self.now,
            run=self.run,
            from_state=old.lifecycle_state if to_state else "",
            to_state=to_state,
            reason=reason,
            details=details or {},
        )


def _comparable(value: Any) -> Any:
    if isinstance(value, PreSerialized):
        return value
    if isinstance(value, dict | list):
        return dumps(value)
    return value


def _credential_key(cred: CredentialRecord) -> list[Any]:
    return [
        cred.kind,
        cred.native_id,
        cred.status,
        _iso(cred.created_at),
        _iso(cred.last_used_at),
        cred.last_used_service,
        cred.last_used_region,
        _iso(cred.last_rotated_at),
        dumps(cred.attributes),
    ]


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
