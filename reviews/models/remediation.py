"""Remediation requests: what a deprovision decision asks to be done at the provider."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.choices import RemediationStatus


class RemediationRequest(models.Model):
    """A request to deprovision an identity, created by a deprovision decision (person or policy).

    Executing it against the provider's API (two-phase: disable, then delete after a grace
    period) is the remediation workflow's job and is not done here; the request records what was
    asked, by whom, by when, and its result once known. ``dry_run`` is on by default: nothing is
    changed at the provider until someone turns it off. ``previous_lifecycle_state`` is what the
    identity goes back to if the decision is changed before the reviewer signs off.
    """

    identity = models.ForeignKey(
        "inventory.Identity", on_delete=models.PROTECT, related_name="remediation_requests"
    )
    item = models.ForeignKey(
        "reviews.ReviewItem", on_delete=models.PROTECT, related_name="remediation_requests"
    )
    decision = models.ForeignKey(
        "reviews.ReviewDecision", on_delete=models.PROTECT, related_name="remediation_requests"
    )
    action = models.CharField(max_length=32, default="deprovision")
    status = models.CharField(
        max_length=16, choices=RemediationStatus.choices, default=RemediationStatus.REQUESTED
    )
    dry_run = models.BooleanField(default=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    previous_lifecycle_state = models.CharField(max_length=32)
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    # Proof that the access is gone: the first complete discovery run of the identity's account,
    # after the request, that no longer returned it (``gone``) or returned it with no active
    # credential (``disabled``). Set once, by discovery (reviews.services.remediation).
    verified_by_run = models.ForeignKey(
        "inventory.DiscoveryRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="remediation_status_due_idx"),
            models.Index(fields=["identity", "-requested_at"], name="remediation_identity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.identity_id} ({self.status})"
