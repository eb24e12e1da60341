"""The inventory's key counts, kept day by day for the dashboard's trends."""

from __future__ import annotations

from django.db import models


class InventorySnapshot(models.Model):
    """The key counts of the whole inventory on one day (see :mod:`inventory.counts`).

    One row per day: the periodic task rewrites today's row, so the last snapshot of a day wins
    and a missed run loses nothing but that day's point. Counts only, never identity data.
    """

    date = models.DateField(unique=True)
    taken_at = models.DateTimeField()
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"Inventory snapshot of {self.date:%Y-%m-%d}"
