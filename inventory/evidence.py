"""Inventory snapshot: every identity at a point in time, for population completeness."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import IO, Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from inventory.exports import export_queryset, export_records, write_csv
from inventory.models import Identity
from nhigov.evidence import EvidenceBundle

SNAPSHOT_CSV = "inventory.csv"


def inventory_snapshot_bundle(directory: Path, queryset: QuerySet[Identity]) -> dict[str, Any]:
    """Write ``inventory.csv`` and ``manifest.json`` (counts, hashes, audit chain head)."""
    taken_at = timezone.now()
    by_state = dict(
        queryset.order_by()
        .values_list("lifecycle_state")
        .annotate(n=Count("id"))
        .values_list("lifecycle_state", "n")
    )
    by_account = Counter(
        dict(
            queryset.order_by()
            .values_list("account__account_id")
            .annotate(n=Count("id"))
            .values_list("account__account_id", "n")
        )
    )
    bundle = EvidenceBundle(
        directory=directory,
        subject={
            "kind": "inventory_snapshot",
            "taken_at": taken_at.isoformat(),
            "identities": sum(by_state.values()),
            "by_lifecycle_state": by_state,
            "by_account": dict(sorted(by_account.items())),
        },
    )

    def write(handle: IO[str]) -> int:
        return write_csv(export_records(export_queryset(queryset)), handle)

    entry = bundle.add_text(SNAPSHOT_CSV, write)
    manifest = bundle.finish()
    manifest["rows"] = entry.get("rows")
    return manifest
