"""The risk engine's workflow: evaluate identities, keep findings' lifecycle, set tiers and flags.

A pass reads identities in chunks, builds a database-free :class:`IdentityView` for each, runs the
rule catalogue, then in one write per chunk upserts the findings that fire (first seen kept, last
seen moved), resolves those that no longer fire, honours suppressions (re-opening expired ones that
still fire) and updates the identity's risk tier and its stale and orphaned flags.
Incremental after each discovery (the identities it touched), full on a schedule.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
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
    RiskBasis,
    RiskPass,
    RiskSettings,
)
from inventory.risk.rules import (
    DEFAULT_THRESHOLDS,
    POLICY_RULES,
    PRIVILEGE_RULES,
    FindingResult,
    evaluate_with_privilege,
    evaluate_without_policies,
)
from inventory.risk.tiers import risk_tier
from inventory.risk.view import CredentialView, IdentityView, RuleContext
from inventory.services.bulk import PreSerialized, dumps, update_rows, upsert
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
    "attributes",
    "content_hash",
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
_JSON_FIELDS = ("tags", "attributes")
_POLICY_FIELDS = ("policies", "trust_policy")  # read only for identities analysed again
_FLAG_FIELDS = ("risk_tier", "is_stale", "stale_since", "is_orphaned", "orphaned_since")
_RISK_CODE = ("evaluator.py", "escalation.py", "rules.py", "view.py")
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


# A stored finding as a pass sees it: pk, status, suppressed_until, digest.
_Existing = tuple[int, str, datetime | None, str]


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
    """Evaluate the given identities (all of them when ``identity_ids`` is None), in this
    process. The periodic full pass is split over workers instead: :func:`risk_full_pass_start`."""
    now = now or timezone.now()
    record = RiskPass.objects.create(full=identity_ids is None, run=run, started_at=now)
    counts = PassCounts()
    try:
        _run(_chunks(identity_ids), now=now, counts=counts)
    except Exception as exc:
        RiskPass.objects.filter(pk=record.pk).update(
            finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}", **vars(counts)
        )
        raise
    RiskPass.objects.filter(pk=record.pk).update(finished_at=timezone.now(), **vars(counts))
    record.refresh_from_db()
    return record


# Up to this many identities a change affected are re-evaluated on their own; more are left to a
# full pass (a bulk action over a whole filter).
REEVALUATE_IDENTITIES_MAX = 2000


def risk_reevaluate_later(identity_ids: Iterable[int]) -> None:
    """Once the caller's transaction commits, queue the re-evaluation of the identities a change
    affected (owner set, deprovisioned...), so their findings, tier and flags follow it."""
    ids = sorted(set(identity_ids))
    if ids:
        transaction.on_commit(functools.partial(_queue_reevaluation, ids))


def _queue_reevaluation(identity_ids: list[int]) -> None:
    from inventory.tasks import risk_evaluate_identities, risk_full_pass

    if len(identity_ids) <= REEVALUATE_IDENTITIES_MAX:
        risk_evaluate_identities.delay(identity_ids)
    else:
        risk_full_pass.delay()


def risk_full_pass_start(
    *,
    dispatch: Callable[[int, int, int | None], object],
    slices: int | None = None,
    now: datetime | None = None,
) -> RiskPass:
    """Start a full pass split into id ranges of about equal size, one per worker.

    ``dispatch(pass_id, first_id, last_id)`` queues one slice (``last_id`` None: no upper
    bound, so identities discovered meanwhile are included); each is evaluated by
    :func:`risk_evaluate_slice`, the last to finish closes the pass. Estates smaller than two
    chunks per slice get one slice.
    """
    now = now or timezone.now()
    wanted = max(1, slices if slices is not None else settings.NHIGOV_RISK_SLICES)
    total = Identity.objects.count()
    wanted = max(1, min(wanted, total // (2 * CHUNK)))
    starts = [0]
    for k in range(1, wanted):
        start = Identity.objects.order_by("id").values_list("id", flat=True)[k * total // wanted]
        if start > starts[-1]:
            starts.append(start)
    bounds = [
        (first, starts[i + 1] - 1 if i + 1 < len(starts) else None)
        for i, first in enumerate(starts)
    ]
    record = RiskPass.objects.create(full=True, started_at=now, slices=len(bounds))
    for first, last in bounds:
        transaction.on_commit(functools.partial(dispatch, record.pk, first, last))
    return record


def risk_evaluate_slice(pass_id: int, first_id: int, last_id: int | None) -> RiskPass:
    """Evaluate the identities with ids in [first_id, last_id] for a sliced full pass.

    Safe to run twice: a slice already counted is evaluated again (idempotent) but not counted.
    """
    record = RiskPass.objects.get(pk=pass_id)
    counts = PassCounts()
    error = ""
    try:
        _run(
            _chunks(None, first_id=first_id, last_id=last_id), now=record.started_at, counts=counts
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with transaction.atomic():
            record = RiskPass.objects.select_for_update().get(pk=pass_id)
            if first_id not in record.slices_done:
                for name, value in vars(counts).items():
                    setattr(record, name, getattr(record, name) + value)
                record.slices_done = [*record.slices_done, first_id]
                if error:
                    record.error = f"{record.error}\n{error}".strip()
                if len(record.slices_done) >= record.slices:
                    record.finished_at = timezone.now()
                record.save()
    return record


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Evaluating a chunk allocates hundreds of thousands of short-lived containers, all freed by
    reference counting; the cyclic collector, triggered by those allocations, walks every
    long-lived object (caches, the chunk's rows) again and again: about 40% of the evaluation's
    time, measured. It is paused for one chunk and resumed after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(chunks: Iterable[_Chunk], *, now: datetime, counts: PassCounts) -> None:
    context = rule_context(now)
    basis_of = policy_basis(context)
    stale_after = timedelta(days=settings.NHIGOV_STALE_DAYS)

    def assess(chunk: _Chunk) -> _ChunkWrites:
        with _cyclic_gc_paused():
            return _assess_chunk(
                chunk, context=context, basis_of=basis_of, stale_after=stale_after, counts=counts
            )

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        _run_pipelined(chunks, assess, now=now)
        return
    for chunk in chunks:
        _write_chunk(assess(chunk), now=now)


def _run_pipelined(
    chunks: Iterable[_Chunk], assess: Callable[[_Chunk], _ChunkWrites], *, now: datetime
) -> None:
    """Evaluate chunk N+1 while a writer thread (its own connection) writes chunk N.

    The writes are mostly the database's work, so they overlap the evaluation's Python work; at
    most one chunk is in flight and a writer error stops the pass. Only outside a transaction:
    the writer's connection would not see uncommitted rows.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-writer") as writer:
        pending: Future[None] | None = None
        try:
            for chunk in chunks:
                writes = assess(chunk)
                if pending is not None:
                    pending.result()
                pending = writer.submit(_write_chunk, writes, now=now)
            if pending is not None:
                pending.result()
        finally:
            writer.submit(connections.close_all).result()


class _Chunk(NamedTuple):
    """Identity ids to evaluate together; ``whole_range`` when they are every id between the
    first and the last (a full pass), so queries select a range instead of listing 2,000 ids."""

    ids: list[int]
    whole_range: bool

    def where(self, column: str) -> dict[str, Any]:
        if self.whole_range:
            return {f"{column}__gte": self.ids[0], f"{column}__lte": self.ids[-1]}
        return {f"{column}__in": self.ids}


def _chunks(
    identity_ids: Iterable[int] | None, *, first_id: int = 0, last_id: int | None = None
) -> Iterator[_Chunk]:
    """The given ids in chunks; or every identity with an id in [first_id, last_id]."""
    if identity_ids is not None:
        ids = sorted(set(identity_ids))
        for start in range(0, len(ids), CHUNK):
            yield _Chunk(ids[start : start + CHUNK], whole_range=False)
        return
    scope = Identity.objects.all() if last_id is None else Identity.objects.filter(id__lte=last_id)
    after = first_id - 1
    while True:
        ids = list(scope.filter(id__gt=after).order_by("id").values_list("id", flat=True)[:CHUNK])
        if not ids:
            return
        yield _Chunk(ids, whole_range=True)
        after = ids[-1]


def _credential_views(chunk: _Chunk) -> dict[int, list[CredentialView]]:
    by_identity: dict[int, list[CredentialView]] = defaultdict(list)
    credentials = Credential.objects.filter(**chunk.where("identity_id"))
    for row in credentials.values_list(*_CREDENTIAL_FIELDS):
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
        policies=row.get("policies") or [],  # absent: the policies are not analysed again
        trust_policy=row.get("trust_policy"),
        attributes=row["attributes"] or {},
        credentials=tuple(credentials),
        has_owner=has_owner,
        owner_active=owner_active,
        owner_unmatched=row["owner_unmatched"],
        owner_raw=row["owner_raw"],
    )


@dataclass
class _ChunkWrites:
    """What evaluating one chunk decided; written in one transaction by :func:`_write_chunk`."""

    upserts: list[dict[str, Any]] = field(default_factory=list)
    still_seen: list[int] = field(default_factory=list)  # unchanged: only last_seen_at moves
    resolved: list[tuple[int, tuple[int, str, str]]] = field(default_factory=list)
    opened: list[list[Any]] = field(default_factory=list)
    reopened: list[list[Any]] = field(default_factory=list)
    identity_updates: list[dict[str, Any]] = field(default_factory=list)
    newly_stale: list[int] = field(default_factory=list)
    # Analysed for the first time: what they are now is their baseline, not an event to review.
    first_analysis: set[int] = field(default_factory=set)
    bases: list[dict[str, Any]] = field(default_factory=list)  # RiskBasis rows that changed
    reopen_ids: list[int] = field(default_factory=list)  # carried over, their suppression ended
    # A whole-range chunk: its unchanged findings are touched by one range UPDATE.
    scope: dict[str, Any] | None = None


def _read_json(queryset: Any, fields: Sequence[str], names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows with the JSON columns ``names`` fetched as text and decoded here (a third faster than
    going through the JSON field's per-value converter)."""
    plain = [f for f in fields if f not in names]
    casts = {f"{name}__text": Cast(name, TextField()) for name in names}
    rows = list(queryset.values(*plain, **casts))
    loads = json.loads
    for row in rows:
        for name in names:
            text = row.pop(f"{name}__text")
            row[name] = None if text is None else loads(text)
    return rows


def _read_rows(chunk: _Chunk, basis_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """The chunk's identities; policies and trust policy only for those whose policy findings
    must be computed again (``basis``: what they will have been computed from)."""
    rows = _read_json(Identity.objects.filter(**chunk.where("id")), _IDENTITY_FIELDS, _JSON_FIELDS)
    known = dict(
        RiskBasis.objects.filter(**chunk.where("identity_id")).values_list("identity_id", "basis")
    )
    stale: list[int] = []
    for row in rows:
        row["risk_basis"] = known.get(row["id"], "")
        row["basis"] = basis_of(row["content_hash"])
        if row["basis"] != row["risk_basis"]:
            stale.append(row["id"])
    if stale:
        scope = chunk.where("id") if len(stale) == len(rows) else {"id__in": stale}
        policies = {
            r["id"]: r
            for r in _read_json(
                Identity.objects.filter(**scope), ("id", *_POLICY_FIELDS), _POLICY_FIELDS
            )
        }
        for row in rows:
            if row["id"] in policies:
                row.update(policies[row["id"]])
    return rows


def policy_basis(context: RuleContext) -> Callable[[str], str]:
    """``content_hash -> basis``: what an identity's policy findings depend on besides its own
    content (the organization's and allow-listed accounts, the rules' code)."""
    code = hashlib.blake2b(digest_size=16)
    risk_dir = Path(evaluate_with_privilege.__code__.co_filename).parent
    for name in _RISK_CODE:
        code.update((risk_dir / name).read_bytes())
    code.update(dumps(sorted(context.organization_account_ids)).encode())
    code.update(dumps(sorted(context.trusted_account_ids)).encode())
    suffix = code.hexdigest()

    def basis(content_hash: str) -> str:
        text = f"{content_hash}|{suffix}"
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    return basis


class _Carried(NamedTuple):
    """A policy finding carried over from the last analysis (only its severity counts)."""

    severity: str


def _assess_chunk(
    chunk: _Chunk,
    *,
    context: RuleContext,
    basis_of: Callable[[str], str],
    stale_after: timedelta,
    counts: PassCounts,
) -> _ChunkWrites:
    """Evaluate one chunk and decide every write, without writing anything."""
    now = context.now
    rows = _read_rows(chunk, basis_of)
    credentials = _credential_views(chunk)
    existing: dict[tuple[int, str, str], _Existing] = {}
    policy_findings: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    for pk, identity_id, rule_id, fkey, fstatus, until, digest, severity in Finding.objects.filter(
        **chunk.where("identity_id")
    ).values_list(
        "id", "identity_id", "rule_id", "key", "status", "suppressed_until", "digest", "severity"
    ):
        existing[(identity_id, rule_id, fkey)] = (pk, fstatus, until, digest)
        if rule_id in POLICY_RULES and fstatus != FindingStatus.RESOLVED:
            policy_findings[identity_id].append((rule_id, fkey, fstatus, severity))
    out = _ChunkWrites(scope=chunk.where("identity_id") if chunk.whole_range else None)
    seen: set[tuple[int, str, str]] = set()
    for row in rows:
        counts.identities += 1
        creds = credentials.get(row["id"], [])
        gone = row["lifecycle_state"] in _GONE
        results: list[FindingResult] = []
        counted: list[FindingResult | _Carried] = []
        privileged = False
        if gone:
            pass
        elif "policies" in row:  # new content or context: analyse the policies again
            results, privileged = evaluate_with_privilege(identity_view(row, creds), context)
        else:  # policy findings as last computed; the other rules run as always
            carried = policy_findings.get(row["id"], [])
            privileged = any(entry[0] in PRIVILEGE_RULES for entry in carried)
            results = evaluate_without_policies(
                identity_view(row, creds), context, privileged=privileged
            )
            for carried_rule, carried_key, carried_status, carried_severity in carried:
                key = (row["id"], carried_rule, carried_key)
                seen.add(key)
                status = _next_status(existing[key], now)
                if status != carried_status:  # a suppression that ended: open again
                    counts.reopened += 1
                    out.reopened.append([row["id"], carried_rule, carried_key, carried_severity])
                    out.reopen_ids.append(existing[key][0])
                if status == FindingStatus.OPEN:
                    counted.append(_Carried(carried_severity))
        for result in results:
            key = (row["id"], result.rule_id, result.key[:256])
            seen.add(key)
            old = existing.get(key)
            status = _next_status(old, now)
            if old is None:
                counts.opened += 1
                out.opened.append([row["id"], result.rule_id, result.key[:256], result.severity])
            elif old[1] == FindingStatus.RESOLVED or (
                old[1] == FindingStatus.SUPPRESSED and status == FindingStatus.OPEN
            ):
                counts.reopened += 1
                out.reopened.append([row["id"], result.rule_id, result.key[:256], result.severity])
            if status == FindingStatus.OPEN:
                counted.append(result)
            evidence = dumps(result.evidence)
            digest = _digest(result, evidence)
            if old is not None and old[1] == status and old[3] == digest:
                if out.scope is None:
                    out.still_seen.append(old[0])
                continue
            out.upserts.append(
                {
                    "identity_id": row["id"],
                    "rule_id": result.rule_id,
                    "key": result.key[:256],
                    "severity": result.severity,
                    "status": status,
                    "message": result.message,
                    "evidence": PreSerialized(evidence),
                    "digest": digest,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "resolved_at": None,
                }
            )
        tier = "low" if gone else risk_tier(counted, privileged=privileged)
        values = _flags(row, creds, tier=tier, stale_after=stale_after, now=now)
        # Gone identities keep no policy findings; the next analysis starts afresh if they return.
        basis = "" if gone else row["basis"]
        if basis != row["risk_basis"]:
            out.bases.append({"identity_id": row["id"], "basis": basis})
        if not row["risk_basis"]:
            out.first_analysis.add(row["id"])
        if any(values[f] != row[f] for f in _FLAG_FIELDS):
            if values["risk_tier"] != row["risk_tier"]:
                counts.tiers_changed += 1
            if values["is_stale"] and not row["is_stale"]:
                out.newly_stale.append(row["id"])
            out.identity_updates.append({"id": row["id"], **values})
    out.resolved = [
        (pk, key)
        for key, (pk, status, _until, _digest) in existing.items()
        if key not in seen and status != FindingStatus.RESOLVED
    ]
    counts.resolved += len(out.resolved)
    return out


def _write_chunk(writes: _ChunkWrites, *, now: datetime) -> None:
    """Apply one chunk's decisions in one transaction, then raise its event-triggered reviews."""
    to_resolve = [pk for pk, _key in writes.resolved]
    with transaction.atomic():
        upsert(
            Finding,
            writes.upserts,
            unique_fields=("identity_id", "rule_id", "key"),
            update_fields=(
                "severity",
                "status",
                "message",
                "evidence",
                "digest",
                "last_seen_at",
                "resolved_at",
            ),
        )
        for start in range(0, len(to_resolve), CHUNK):
            Finding.objects.filter(id__in=to_resolve[start : start + CHUNK]).update(
                status=FindingStatus.RESOLVED, resolved_at=now
            )
        for start in range(0, len(writes.reopen_ids), CHUNK):
            Finding.objects.filter(id__in=writes.reopen_ids[start : start + CHUNK]).update(
                status=FindingStatus.OPEN, last_seen_at=now
            )
        if writes.scope is not None:  # after resolving: what is still open or suppressed was seen
            Finding.objects.filter(**writes.scope, last_seen_at__lt=now).exclude(
                status=FindingStatus.RESOLVED
            ).update(last_seen_at=now)
        for start in range(0, len(writes.still_seen), CHUNK):
            Finding.objects.filter(id__in=writes.still_seen[start : start + CHUNK]).update(
                last_seen_at=now
            )
        update_rows(Identity, writes.identity_updates, fields=_FLAG_FIELDS)
        upsert(RiskBasis, writes.bases, unique_fields=("identity_id",), update_fields=("basis",))
        audit_record_many(
            [
                {"verb": verb, "object_type": "inventory.finding", "details": {"findings": items}}
                for verb, items in (
                    ("findings.opened", writes.opened),
                    ("findings.reopened", writes.reopened),
                    ("findings.resolved", [list(key) for _pk, key in writes.resolved]),
                )
                if items
            ],
            actor="risk engine",
        )
    from reviews.services.triggers import review_triggers_from_risk  # event-triggered reviews

    review_triggers_from_risk(
        stale_ids=[i for i in writes.newly_stale if i not in writes.first_analysis],
        admin_ids=[
            entry[0]
            for entry in writes.opened + writes.reopened
            if entry[1] == "PRIV-001" and entry[0] not in writes.first_analysis
        ],
        now=now,
    )


def _digest(result: FindingResult, evidence: str) -> str:
    """What a finding says, hashed: equal digests need no rewrite."""
    text = "\x00".join((result.severity, result.message, evidence))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _next_status(old: _Existing | None, now: datetime) -> str:
    if old is None:
        return FindingStatus.OPEN
    _pk, status, until, _digest = old
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
