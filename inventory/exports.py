"""Inventory export (CSV and JSON), streamed row by row in constant memory.

CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) are
neutralised with a leading apostrophe. Credentials carry ids and dates only, never a secret value.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db.models import Prefetch, QuerySet

from inventory.choices import FindingStatus
from inventory.models import Credential, Finding, Identity

EXPORT_FIELDS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "provider",
    "kind",
    "name",
    "arn",
    "native_id",
    "classification",
    "owner",
    "owner_team",
    "owner_source",
    "owner_raw",
    "lifecycle_state",
    "flags",
    "findings",
    "risk_tier",
    "created_at",
    "last_used_at",
    "first_seen_at",
    "tags",
    "credentials",
)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Neutralise a cell a spreadsheet would evaluate (CSV/formula injection)."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def export_queryset(queryset: QuerySet[Identity] | None = None) -> QuerySet[Identity]:
    qs = queryset if queryset is not None else Identity.objects.all()
    return (
        qs.select_related("account", "owner", "owner_team")
        .prefetch_related(
            Prefetch("credentials", queryset=Credential.objects.order_by("kind", "id")),
            Prefetch(
                "findings",
                queryset=Finding.objects.filter(status=FindingStatus.OPEN).only(
                    "identity_id", "rule_id"
                ),
                to_attr="open_findings",
            ),
        )
        .order_by("account__account_id", "kind", "name", "id")
    )


def identity_flags(identity: Identity) -> list[str]:
    flags = []
    if identity.is_orphaned:
        flags.append("orphaned")
    if identity.is_stale:
        flags.append("stale")
    if identity.is_privileged:
        flags.append("privileged")
    if identity.owner_unmatched:
        flags.append("owner_unmatched")
    return flags


def identity_findings(identity: Identity) -> list[str]:
    """Rule ids of the identity's open findings (prefetched by :func:`export_queryset`)."""
    return sorted({f.rule_id for f in getattr(identity, "open_findings", [])})


def export_records(queryset: QuerySet[Identity]) -> Iterator[dict[str, Any]]:
    for identity in queryset.iterator(chunk_size=2000):
        owner = identity.owner
        yield {
            "account_id": identity.account.account_id,
            "account_name": identity.account.name,
            "provider": identity.provider,
            "kind": identity.kind,
            "name": identity.name,
            "arn": identity.arn,
            "native_id": identity.native_id,
            "classification": identity.classification,
            "owner": (owner.email or owner.username)
            if owner
            else (identity.owner_team.name if identity.owner_team else ""),
            "owner_team": identity.owner_team.name if identity.owner_team else "",
            "owner_source": identity.owner_source,
            "owner_raw": identity.owner_raw,
            "lifecycle_state": identity.lifecycle_state,
            "flags": identity_flags(identity),
            "findings": identity_findings(identity),
            "risk_tier": identity.risk_tier,
            "created_at": _iso(identity.created_at),
            "last_used_at": _iso(identity.last_used_at),
            "first_seen_at": _iso(identity.first_seen_at),
            "tags": identity.tags,
            "credentials": [
                {
                    "kind": c.kind,
                    "id": c.native_id,
                    "status": c.status,
                    "created_at": _iso(c.created_at),
                    "last_used_at": _iso(c.last_used_at),
                    "last_used_service": c.last_used_service,
                    "last_used_region": c.last_used_region,
                    "last_rotated_at": _iso(c.last_rotated_at),
                }
                for c in identity.credentials.all()
            ],
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ";".join(value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    else:
        text = str(value)
    return csv_safe(text)


def write_csv(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for record in records:
        writer.writerow([_csv_cell(record[f]) for f in EXPORT_FIELDS])
        count += 1
    return count


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV of :func:`write_csv`, one line at a time, for a streamed download."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for record in records:
        yield writer.writerow([_csv_cell(record[f]) for f in EXPORT_FIELDS])


def write_json(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """A JSON array written one object at a time."""
    out.write("[")
    count = 0
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, sort_keys=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
