"""A campaign's population: the scope (a saved inventory filter) and the snapshot of each identity.

Activation reads the population in chunks of plain ``values()`` rows (identities, their access
keys, their open findings; ids passed as one array parameter), builds one canonical JSON
snapshot per identity, hashes it, and writes the items with ``COPY`` (``bulk_create`` off
PostgreSQL): a handful of statements per 5,000 identities, never one per row
(bench/campaign_bench.py measures 100k).
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, JSONField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from inventory.choices import (
    Classification,
    CredentialKind,
    CredentialStatus,
    FindingStatus,
    LifecycleState,
)
from inventory.filtersets import IdentityFilterSet
from inventory.models import Credential, Finding, Identity
from nhigov.choices import Role
from reviews.choices import AssignmentReason, ItemStatus
from reviews.models import Campaign, ReviewItem
from reviews.recommendations import DEPROVISION, HANDOVER, IdentityFacts, recommend
from reviews.states import ReviewError

CHUNK = 5000
GONE_STATES = (LifecycleState.VANISHED, LifecycleState.DEPROVISIONED)
# Parameters of the inventory page that are not filters.
NOT_FILTERS = frozenset({"ordering", "page", "page_size", "cursor"})
# An event-triggered review names its identities directly rather than through a filter.
IDENTITY_IDS_KEY = "identity_ids"
TIER_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
_FIELDS = (
    "id",
    "provider",
    "kind",
    "name",
    "arn",
    "native_id",
    "account__account_id",
    "account__name",
    "classification",
    "lifecycle_state",
    "owner_id",
    "owner__email",
    "owner__username",
    "owner__is_active",
    "owner__role",
    "owner__is_superuser",
    "owner_team_id",
    "owner_team__name",
    "owner_team__manager_id",
    "owner_team__manager__is_active",
    "owner_team__manager__role",
    "owner_team__manager__is_superuser",
    "is_stale",
    "is_orphaned",
    "is_privileged",
    "risk_tier",
    "last_used_at",
    "last_used_service",
    "created_at",
    "permissions_summary",
)


# --- Scope ------------------------------------------------------------------------------------


def scope_clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """The non-empty filter values of a request or a JSON scope, as a JSON-able dict."""
    lists = getattr(params, "getlist", None)
    clean: dict[str, Any] = {}
    for key in params:
        if key in NOT_FILTERS or key == "csrfmiddlewaretoken":
            continue
        values = lists(key) if lists else params[key]
        if isinstance(values, list | tuple):
            values = [str(v).strip() for v in values if str(v).strip()]
            if not values:
                continue
            filt = IdentityFilterSet.base_filters.get(key)
            multiple = filt is not None and "Multiple" in type(filt).__name__
            clean[key] = values if multiple or len(values) > 1 else values[0]
        elif isinstance(values, bool) or (isinstance(values, int) and not isinstance(values, bool)):
            clean[key] = values
        elif values is not None and str(values).strip():
            clean[key] = str(values).strip()
    return clean


def scope_queryset(scope: Mapping[str, Any]) -> QuerySet[Identity]:
    """The identities a scope selects, through the inventory's own FilterSet.

    Raises :class:`ReviewError` naming an unknown filter or an invalid value.
    """
    if IDENTITY_IDS_KEY in scope:
        ids = scope[IDENTITY_IDS_KEY]
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise ReviewError("identity_ids must be a list of identity ids.")
        return Identity.objects.filter(id__in=ids)
    data = QueryDict(mutable=True)
    for key, value in scope.items():
        if key in NOT_FILTERS:
            continue
        if key not in IdentityFilterSet.base_filters:
            known = ", ".join(sorted(k for k in IdentityFilterSet.base_filters if k != "ordering"))
            raise ReviewError(f"Unknown filter {key!r} in the scope. Filters: {known}.")
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            data[key] = "true" if value else "false"
        else:
            data[key] = str(value)
    filterset = IdentityFilterSet(data, queryset=Identity.objects.all())
    if not filterset.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in filterset.errors.items()
        )
        raise ReviewError(f"The scope is not a valid inventory filter ({problems}).")
    qs = filterset.qs.order_by()
    if scope.get("q"):
        # A search by access key id joins credentials: de-duplicate through a subquery.
        qs = Identity.objects.filter(id__in=qs.values("id"))
    return qs


def scope_label(scope: Mapping[str, Any]) -> str:
    """The scope in words, for pages and evidence ("team: platform; risk tier: critical")."""
    if not scope:
        return "every identity in the inventory"
    if IDENTITY_IDS_KEY in scope:
        n = len(scope[IDENTITY_IDS_KEY])
        return f"{n} identit{'y' if n == 1 else 'ies'} named by id"
    parts = []
    for key, value in scope.items():
        filt = IdentityFilterSet.base_filters.get(key)
        label = str(filt.label) if filt is not None and filt.label else key.replace("_", " ")
        choices = filt.extra.get("choices") if filt is not None else None
        labels = dict(choices) if isinstance(choices, list | tuple) else {}
        values = value if isinstance(value, list) else [value]
        shown = ", ".join(str(labels.get(v, v)) for v in values)
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        parts.append(f"{label.lower()}: {shown}")
    return "; ".join(parts)


@dataclass(frozen=True)
class ScopeCounts:
    """The reconciliation shown before and recorded at activation."""

    inventory: int
    excluded: int
    population: int
    recently_used: int  # used in the last 30 days: at risk if deprovisioned by default


def scope_counts(scope: Mapping[str, Any], *, now: datetime) -> ScopeCounts:
    from datetime import timedelta

    qs = scope_queryset(scope)
    inventory = qs.count()
    population = qs.exclude(lifecycle_state__in=GONE_STATES)
    count = population.count()
    recent = population.filter(last_used_at__gte=now - timedelta(days=30)).count()
    return ScopeCounts(
        inventory=inventory, excluded=inventory - count, population=count, recently_used=recent
    )


# --- Snapshot ---------------------------------------------------------------------------------


def _policy_names() -> RawSQL:
    """The names of an identity's policies, extracted in the database (documents stay there)."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT coalesce(jsonb_agg(p->>'name'), '[]'::jsonb) FROM jsonb_array_elements("
            "CASE WHEN jsonb_typeof(inventory_identity.policies) = 'array' "
            "THEN inventory_identity.policies ELSE '[]'::jsonb END) AS p"
        )
    else:
        sql = (
            "SELECT json_group_array(json_extract(value, '$.name')) "
            "FROM json_each(CASE WHEN json_type(inventory_identity.policies) = 'array' "
            "THEN inventory_identity.policies ELSE '[]' END)"
        )
    return RawSQL(sql, [], output_field=JSONField())  # noqa: S611 - constant SQL, no input


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _can_review(active: Any, role: Any, superuser: Any) -> bool:
    """Active people who may change things; auditors only read, so they never review."""
    return bool(active) and (bool(superuser) or role != Role.AUDITOR)


def route(row: Mapping[str, Any]) -> tuple[int | None, str]:
    """Who reviews an identity: its owner; else its team's manager; else the security queue."""
    if row["owner_id"] is not None and _can_review(
        row["owner__is_active"], row["owner__role"], row["owner__is_superuser"]
    ):
        return row["owner_id"], AssignmentReason.OWNER
    manager = row["owner_team__manager_id"]
    if manager is not None and _can_review(
        row["owner_team__manager__is_active"],
        row["owner_team__manager__role"],
        row["owner_team__manager__is_superuser"],
    ):
        return manager, AssignmentReason.TEAM_MANAGER
    return None, AssignmentReason.SECURITY_QUEUE


def _ids_in(column: str, field: str, ids: list[int]) -> Any:
    """``field IN (ids)``: one array parameter on PostgreSQL (``column = ANY(%s)``), so a chunk
    of 5,000 ids is not a query with 5,000 placeholders to build and parse."""
    if connection.vendor == "postgresql":
        return RawSQL(f"{column} = ANY(%s)", (ids,), output_field=BooleanField())  # noqa: S611
    return Q(**{f"{field}__in": ids})


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


_JSON_COLUMNS = frozenset({"permissions_summary", "policy_names"})


def _fetch(qs: QuerySet[Any], *, as_dicts: bool) -> list[Any]:
    """The rows of a ``values()`` (dicts) or ``values_list()`` (tuples) queryset.

    On PostgreSQL the query runs on psycopg's cursor with psycopg's own (C) timestamp parser:
    Django's time-zone-aware loader parses every timestamp in Python, a second or two per 100k
    identities. The values are the same aware UTC datetimes.
    """
    if connection.vendor != "postgresql":
        return list(qs)
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.adapters.types["timestamptz"].oid
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        raw.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))
        raw.execute(sql, params)
        names = [column.name for column in raw.description or ()]
        rows = raw.fetchall()
    decode = [i for i, name in enumerate(names) if name in _JSON_COLUMNS]
    if decode:
        decoded = []
        for row in rows:
            values = list(row)
            for i in decode:
                if isinstance(values[i], str):
                    values[i] = json.loads(values[i])
            decoded.append(values)
        rows = decoded
    if as_dicts:
        return [dict(zip(names, row, strict=True)) for row in rows]
    return [tuple(row) for row in rows]


def _keys_by_identity(ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    keys: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    query = (
        Credential.objects.filter(
            _ids_in("inventory_credential.identity_id", "identity_id", ids),
            kind=CredentialKind.ACCESS_KEY,
        )
        .order_by("identity_id", "created_at", "id")
        .values_list("identity_id", "native_id", "status", "created_at", "last_used_at")
    )
    for row in _fetch(query, as_dicts=False):
        keys[row[0]].append(row[1:])
    return keys


def _findings_by_identity(ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for identity_id, rule_id, severity in (
        Finding.objects.filter(
            _ids_in("inventory_finding.identity_id", "identity_id", ids), status=FindingStatus.OPEN
        )
        .order_by("identity_id", "rule_id", "key")
        .values_list("identity_id", "rule_id", "severity")
    ):
        found[identity_id].append((rule_id, severity))
    return found


@dataclass
class Snapshot:
    """One identity's snapshot and what the item derives from it."""

    identity_id: int
    text: str  # canonical JSON, stored as is and hashed
    sha256: str
    row: dict[str, Any]  # the ReviewItem columns


def snapshot_build(
    row: Mapping[str, Any],
    keys: Iterable[tuple[Any, ...]],
    findings: list[tuple[str, str]],
    *,
    now: datetime,
    now_iso: str | None = None,
) -> tuple[dict[str, Any], IdentityFacts]:
    """The snapshot of one identity (plain JSON values) and the facts its advice reads."""
    key_list = []
    active_ages: list[int] = []
    activity = row["last_used_at"]
    for native_id, status, created_at, last_used_at in keys:
        age = (now - created_at).days if created_at else None
        key_list.append(
            {
                "id": native_id,
                "status": status,
                "created_at": _iso(created_at),
                "last_used_at": _iso(last_used_at),
                "age_days": age,
            }
        )
        if status == CredentialStatus.ACTIVE and age is not None:
            active_ages.append(age)
        if last_used_at and (activity is None or last_used_at > activity):
            activity = last_used_at
    oldest = max(active_ages) if active_ages else None
    has_owner = row["owner_id"] is not None or row["owner_team_id"] is not None
    owner_active = row["owner_id"] is None or bool(row["owner__is_active"])
    facts = IdentityFacts(
        kind=row["kind"],
        last_used_at=activity,
        created_at=row["created_at"],
        oldest_key_age_days=oldest,
        active_keys=len(active_ages),
        findings=tuple(findings),
        has_owner=has_owner,
        owner_active=owner_active,
    )
    policy_names = row.get("policy_names") or []
    last_used = _iso(row["last_used_at"])
    snapshot = {
        "identity_id": row["id"],
        "provider": row["provider"],
        "kind": row["kind"],
        "account_id": row["account__account_id"],
        "account_name": row["account__name"],
        "name": row["name"],
        "arn": row["arn"],
        "native_id": row["native_id"],
        "classification": row["classification"],
        "lifecycle_state": row["lifecycle_state"],
        "owner": (
            {
                "user_id": row["owner_id"],
                "email": row["owner__email"],
                "username": row["owner__username"],
                "active": bool(row["owner__is_active"]),
            }
            if row["owner_id"] is not None
            else None
        ),
        "owner_team": row["owner_team__name"],
        "flags": {
            "stale": row["is_stale"],
            "orphaned": row["is_orphaned"],
            "privileged": row["is_privileged"],
        },
        "risk_tier": row["risk_tier"],
        "last_used_at": last_used,
        "last_used_service": row["last_used_service"],
        "last_activity_at": last_used if activity is row["last_used_at"] else _iso(activity),
        "created_at": _iso(row["created_at"]),
        "access_keys": key_list,
        "oldest_key_age_days": oldest,
        "permissions_summary": row["permissions_summary"] or {},
        "policies": [str(n) for n in policy_names if n is not None],
        "findings": [{"rule_id": r, "severity": s} for r, s in findings],
        "snapshot_at": now_iso or now.isoformat(),
    }
    return snapshot, facts


# Canonical JSON (sorted keys, no spaces, ASCII): the same text as ``inventory.services.bulk.dumps``
# for JSON values, with one encoder reused instead of one built per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def snapshot_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def campaign_hash(item_hashes: Iterable[tuple[int, str]]) -> str:
    """SHA-256 over the items' hashes sorted by identity id, one per line."""
    lines = "\n".join(h for _id, h in sorted(item_hashes))
    return hashlib.sha256(lines.encode()).hexdigest()


def item_flags(
    snapshot: Mapping[str, Any],
    *,
    action: str,
    reviewer_id: int | None,
    activity: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """What the item derives from its snapshot: flags, justification, self-review, bulk keep."""
    flags = snapshot["flags"]
    severe = any(f["severity"] in {"critical", "high"} for f in snapshot["findings"])
    flagged = bool(flags["stale"] or flags["orphaned"] or flags["privileged"] or severe)
    tier = snapshot["risk_tier"]
    owner = snapshot["owner"] or {}
    self_review = (
        reviewer_id is not None
        and owner.get("user_id") == reviewer_id
        and snapshot["classification"] == Classification.MACHINE_USED_BY_PERSON
    )
    idle = (now - activity).days if activity else None
    bulk_ok = (
        tier == "low"
        and not flagged
        and not self_review
        and action == "keep"
        and idle is not None
        and idle <= settings.NHIGOV_REVIEW_BULK_KEEP_MAX_IDLE_DAYS
    )
    bonus = 20 if action == DEPROVISION else 10 if action == HANDOVER else 0
    return {
        "flagged": flagged,
        "justification_required": flagged or tier in {"critical", "high"},
        "self_review": self_review,
        "bulk_keep_eligible": bulk_ok,
        "priority": bonus + TIER_RANK.get(tier, 0),
    }


@dataclass(frozen=True)
class PopulationResult:
    inventory_count: int
    excluded_count: int
    population_count: int
    snapshot_hash: str


def population_write(
    *, campaign: Campaign, identities: QuerySet[Identity], now: datetime
) -> PopulationResult:
    """Snapshot every reviewable identity of ``identities`` into items of ``campaign``.

    The ids and lifecycle states are read in one statement (so the inventory count, the
    exclusions and the population reconcile exactly), then the identities in chunks by id.
    """
    with _gc_paused():
        return _population_write(campaign=campaign, identities=identities, now=now)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while 100k snapshots are built: refcounting frees them,
    and full collections over a growing heap would otherwise take seconds."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _population_write(
    *, campaign: Campaign, identities: QuerySet[Identity], now: datetime
) -> PopulationResult:
    states = list(identities.order_by("id").values_list("id", "lifecycle_state"))
    ids = [pk for pk, state in states if state not in GONE_STATES]
    hashes: list[tuple[int, str]] = []
    for chunk in _chunks(ids):
        rows = _fetch(
            Identity.objects.filter(_ids_in("inventory_identity.id", "id", chunk))
            .order_by("id")
            .values(*_FIELDS, policy_names=_policy_names()),
            as_dicts=True,
        )
        keys = _keys_by_identity(chunk)
        findings = _findings_by_identity(chunk)
        with _item_writer() as write:
            _build_items(
                rows, keys, findings, write=write, hashes=hashes, campaign=campaign, now=now
            )
    return PopulationResult(
        inventory_count=len(states),
        excluded_count=len(states) - len(ids),
        population_count=len(ids),
        snapshot_hash=campaign_hash(hashes),
    )


def _build_items(
    rows: list[dict[str, Any]],
    keys: dict[int, list[tuple[Any, ...]]],
    findings: dict[int, list[tuple[str, str]]],
    *,
    write: Callable[[tuple[Any, ...]], None],
    hashes: list[tuple[int, str]],
    campaign: Campaign,
    now: datetime,
) -> None:
    """Snapshot, hash, advise, route and flag each identity; hand each item row to ``write``."""
    unused_days = settings.NHIGOV_STALE_DAYS
    now_iso = now.isoformat()
    for row in rows:
        snapshot, facts = snapshot_build(
            row,
            keys.get(row["id"], ()),
            findings.get(row["id"], []),
            now=now,
            now_iso=now_iso,
        )
        advice = recommend(facts, now=now, unused_days=unused_days)
        snapshot["recommendation"] = {"action": advice.action, "reason": advice.reason}
        text = canonical(snapshot)
        digest = snapshot_hash(text)
        hashes.append((row["id"], digest))
        reviewer_id, reason = route(row)
        derived = item_flags(
            snapshot,
            action=advice.action,
            reviewer_id=reviewer_id,
            activity=facts.last_used_at,
            now=now,
        )
        # In the order of _ITEM_COLUMNS.
        write(
            (
                campaign.pk,
                row["id"],
                row["name"][:512],
                row["kind"],
                row["risk_tier"],
                derived["priority"],
                facts.last_used_at,
                advice.action,
                advice.reason[:300],
                derived["flagged"],
                derived["justification_required"],
                derived["self_review"],
                derived["bulk_keep_eligible"],
                ItemStatus.PENDING.value,
                0,
                reviewer_id,
                reviewer_id,
                reason,
                now,
                0,
                text,
                digest,
            )
        )


_ITEM_COLUMNS = (
    "campaign_id",
    "identity_id",
    "name",
    "kind",
    "tier",
    "priority",
    "last_used_at",
    "recommendation",
    "recommendation_reason",
    "flagged",
    "justification_required",
    "self_review",
    "bulk_keep_eligible",
    "status",
    "version",
    "reviewer_id",
    "first_reviewer_id",
    "assigned_reason",
    "assigned_at",
    "escalation_level",
    "snapshot_json",
    "snapshot_hash",
)


@contextmanager
def _item_writer() -> Iterator[Callable[[tuple[Any, ...]], None]]:
    """Where new item rows go. PostgreSQL: a ``COPY`` straight into the table (a new campaign
    has no rows to merge with), open while the rows are built, so the server stores them while
    Python builds the next. Elsewhere: collected, then ``bulk_create``."""
    if connection.vendor != "postgresql":
        rows: list[tuple[Any, ...]] = []
        yield rows.append
        ReviewItem.objects.bulk_create(
            [ReviewItem(**dict(zip(_ITEM_COLUMNS, row, strict=True))) for row in rows],
            batch_size=1000,
        )
        return
    quote = connection.ops.quote_name
    by_attname = {f.attname: f.column for f in ReviewItem._meta.concrete_fields}
    columns = ", ".join(quote(by_attname[name]) for name in _ITEM_COLUMNS)
    table = quote(ReviewItem._meta.db_table)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            yield copy.write_row


def snapshot_verify(item: ReviewItem) -> bool:
    """Does the stored snapshot still hash to the value recorded at activation?"""
    return snapshot_hash(item.snapshot_json) == item.snapshot_hash
