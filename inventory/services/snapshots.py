"""The daily snapshot of the inventory's key counts, kept for the dashboard's trends."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from inventory.counts import inventory_counts
from inventory.models import Identity, InventorySnapshot


def snapshot_take(*, now: datetime | None = None) -> InventorySnapshot:
    """Count the whole inventory and keep the counts as today's snapshot (rewritten if it exists).

    Idempotent: running it several times a day keeps one row for the day, with the latest counts.
    """
    now = now or timezone.now()
    day: date = timezone.localdate(now)
    counts = inventory_counts(Identity.objects.all())
    snapshot, _ = InventorySnapshot.objects.update_or_create(
        date=day, defaults={"taken_at": now, "counts": counts}
    )
    return snapshot
