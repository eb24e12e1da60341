"""What the risk engine found: findings with a lifecycle, its thresholds, and leaked keys."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from inventory.choices import FindingStatus, Severity


class Finding(models.Model):
    """One rule firing on one identity (``key`` tells apart several, e.g. one per access key).

    Open while the rule fires; resolved by the engine when the condition clears (and re-opened if
    it comes back); suppressed by a person with a reason and an optional expiry, after which the
    engine re-opens it if it still fires.
    """

    identity = models.ForeignKey(
        "inventory.Identity", on_delete=models.CASCADE, related_name="findings"
    )
    rule_id = models.CharField(max_length=16)
    key = models.CharField(max_length=256, blank=True, default="")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    status = models.CharField(
        max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    message = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.TextField(blank=True)
    suppressed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppressed_until = models.DateTimeField(null=True, blank=True)
    # Digest of severity, message and evidence as last written: a pass rewrites only findings whose
    # content changed and merely moves ``last_seen_at`` on the rest.
    digest = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)

    class Meta:
        ordering = ["-last_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["identity", "rule_id", "key"], name="finding_unique")
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="finding_status_sev_idx"),
            models.Index(fields=["rule_id", "status"], name="finding_rule_status_idx"),
            models.Index(fields=["identity", "status"], name="finding_identity_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.identity_id} ({self.status})"


class RiskBasis(models.Model):
    """What the risk engine's policy rules last saw for one identity: a hash of its discovered
    content, the organization's and allow-listed accounts and the rules' code. While it is
    unchanged a pass carries the policy findings over instead of analysing the policies again.
    Kept apart from the identity's wide, much-indexed row so that recording it is a narrow write.
    """

    identity = models.OneToOneField(
        "inventory.Identity", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    basis = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"risk basis of {self.identity_id}"


class RiskPass(models.Model):
    """One run of the risk engine: incremental (after a discovery) or full (periodic)."""

    full = models.BooleanField(default=False)
    run = models.ForeignKey(
        "inventory.DiscoveryRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    identities = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    tiers_changed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # A full pass split into id-range slices evaluated in parallel (one Celery task each); the
    # last slice to finish sets ``finished_at``.
    slices = models.PositiveSmallIntegerField(default=1)
    slices_done = models.JSONField(default=list, blank=True)  # first id of each finished slice

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Risk pass {self.pk} ({'full' if self.full else 'incremental'})"


class RiskSettings(models.Model):
    """The thresholds rules use and the accounts trusted by ROLE-003; a single row (pk=1)."""

    thresholds = models.JSONField(default=dict, blank=True)
    trusted_account_ids = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "risk settings"

    def __str__(self) -> str:
        return "Risk settings"

    @classmethod
    def current(cls) -> RiskSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class RiskSettingsChange(models.Model):
    """Who changed a threshold or the trusted accounts, when, from what to what."""

    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Risk settings changed at {self.changed_at:%Y-%m-%d %H:%M}"


class LeakReport(models.Model):
    """A secret-scanner report (gitleaks or trufflehog JSON) that was imported.

    Only where each access key id was found is kept; the secrets in the report are dropped on
    import and never stored.
    """

    tool = models.CharField(max_length=32)
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entries = models.PositiveIntegerField(default=0)
    key_ids = models.PositiveIntegerField(default=0)
    matched_key_ids = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.tool} report {self.filename or self.sha256[:12]}"


class LeakedKey(models.Model):
    """An access key id seen in a leak report, with where it was found."""

    report = models.ForeignKey(LeakReport, on_delete=models.CASCADE, related_name="keys")
    access_key_id = models.CharField(max_length=128)
    repository = models.CharField(max_length=1024, blank=True)
    file = models.CharField(max_length=1024, blank=True)
    commit = models.CharField(max_length=128, blank=True)
    author = models.CharField(max_length=512, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)
    found_at = models.CharField(max_length=64, blank=True)
    detector = models.CharField(max_length=128, blank=True)

    class Meta:
        indexes = [models.Index(fields=["access_key_id"], name="leaked_key_id_idx")]

    def __str__(self) -> str:
        return f"{self.access_key_id} in {self.repository}"

    def as_evidence(self) -> dict[str, Any]:
        return {
            "tool": self.report.tool if self.report_id else "",
            "repository": self.repository,
            "file": self.file,
            "commit": self.commit,
            "author": self.author,
            "line": self.line,
            "date": self.found_at,
            "rule": self.detector,
        }
