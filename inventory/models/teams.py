"""Teams: groups of people that own identities together."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.Model):
    """People who can own identities together; the manager is the escalation target for reviews."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
