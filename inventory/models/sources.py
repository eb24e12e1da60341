"""Where identities come from: sources, provider accounts and discovery runs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from inventory.choices import Provider, RunStatus, RunTrigger, SourceKind

AWS_ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
AWS_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# IAM role names: letters, digits and +=,.@_- , at most 64 characters.
AWS_ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
# sts:AssumeRole ExternalId: 2-1224 characters of letters, digits and +=,.@:/-
AWS_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
SOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Source(models.Model):
    """Where discovery reads identities: one AWS account, or an AWS Organization to fan out over.

    Never holds a secret: credentials come from boto3's default chain, then from the role assumed
    (``role_name`` with ``external_id``) in each account.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=SourceKind.choices)
    account_id = models.CharField(
        max_length=12,
        blank=True,
        help_text="The AWS account (aws-account), or the management account (aws-organization, "
        "optional: read from the credentials when blank).",
    )
    role_name = models.CharField(
        max_length=64,
        blank=True,
        help_text="Role assumed in each account. Blank: use the default credentials as they are "
        "(aws-account) or the default member role (aws-organization).",
    )
    external_id = models.CharField(max_length=1224, blank=True)
    regions = models.JSONField(default=list, blank=True)
    schedule_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=1440,
        help_text="Minutes between scheduled discoveries; empty for manual runs only.",
    )
    enabled = models.BooleanField(default=True)
    # The lock: the run holding this source. Claimed with a conditional UPDATE so two runs of one
    # source cannot interleave (healthchecks-style claiming).
    active_run = models.ForeignKey(
        "DiscoveryRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def provider(self) -> str:
        return Provider.AWS

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not SOURCE_NAME_RE.match(self.name or ""):
            errors["name"] = (
                "Use 1-100 letters, digits, dots, dashes or underscores, starting with a letter "
                "or digit."
            )
        if self.kind not in SourceKind.values:
            errors["kind"] = f"Kind must be one of: {', '.join(SourceKind.values)}."
        if self.account_id and not AWS_ACCOUNT_ID_RE.match(self.account_id):
            errors["account_id"] = "An AWS account id is exactly 12 digits."
        if self.kind == SourceKind.AWS_ACCOUNT and not self.account_id:
            errors["account_id"] = "An aws-account source needs --account-id (12 digits)."
        if self.role_name and not AWS_ROLE_NAME_RE.match(self.role_name):
            errors["role_name"] = (
                "A role name is 1-64 letters, digits or +=,.@_- characters (no path, no ARN)."
            )
        if self.external_id and not AWS_EXTERNAL_ID_RE.match(self.external_id):
            errors["external_id"] = (
                "An ExternalId is 2-1224 letters, digits or +=,.@:/- characters."
            )
        if self.external_id and not self.role_name and self.kind == SourceKind.AWS_ACCOUNT:
            errors["external_id"] = (
                "An ExternalId is only used when assuming a role: set a role name."
            )
        if not isinstance(self.regions, list) or not all(
            isinstance(r, str) and AWS_REGION_RE.match(r) for r in self.regions
        ):
            errors["regions"] = "Regions must be AWS region names such as us-east-1,eu-west-1."
        elif len(set(self.regions)) != len(self.regions):
            errors["regions"] = "A region is listed twice."
        if self.schedule_minutes is not None and not 5 <= self.schedule_minutes <= 43200:
            errors["schedule_minutes"] = "The schedule must be between 5 minutes and 30 days."
        if errors:
            raise ValidationError(errors)

    @property
    def effective_regions(self) -> list[str]:
        return list(self.regions) or [settings.NHIGOV_AWS_DEFAULT_REGION]


class Account(models.Model):
    """A provider account (an AWS account id) whose identities nhigov holds."""

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.AWS)
    account_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    is_management = models.BooleanField(default=False)
    last_run = models.ForeignKey(
        "DiscoveryRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When a complete discovery last saw this account: every identity not vanished was seen then.
    last_complete_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "account_id"], name="account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})" if self.name else self.account_id


class DiscoveryRun(models.Model):
    """One discovery: of a source (parent, for an Organization) or of one account (child).

    Every run leaves this row whatever happens, with timings, counts, API calls and errors, for the
    UI and for auditors. An Organization run has one child per account.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    account_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    identities_seen = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    vanished_count = models.PositiveIntegerField(default=0)
    reappeared_count = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    api_calls_by_operation = models.JSONField(default=dict, blank=True)
    throttled_retries = models.PositiveIntegerField(default=0)
    # True when every listing of the account was read to the end; only then are missing
    # identities marked vanished.
    complete = models.BooleanField(default=False)
    vanish_applied = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["source", "-created_at"], name="run_source_recent_idx"),
            models.Index(fields=["account_id", "-created_at"], name="run_account_recent_idx"),
        ]

    def __str__(self) -> str:
        scope = self.account_id or "organization"
        return f"Run {self.pk} of {self.source} ({scope}): {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED}

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def api_calls_per_1000_identities(self) -> float | None:
        if not self.identities_seen:
            return None
        return round(self.api_calls * 1000 / self.identities_seen, 1)

    def summary(self) -> dict[str, Any]:
        """The plain record printed by ``manage.py discover --json`` and shown in the UI."""
        data: dict[str, Any] = {
            "run_id": self.pk,
            "source": self.source.name,
            "account_id": self.account_id or None,
            "status": self.status,
            "trigger": self.trigger,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_seconds": self.duration_seconds,
            "identities_seen": self.identities_seen,
            "new": self.new_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "vanished": self.vanished_count,
            "reappeared": self.reappeared_count,
            "api_calls": self.api_calls,
            "api_calls_per_1000_identities": self.api_calls_per_1000_identities,
            "api_calls_by_operation": self.api_calls_by_operation,
            "throttled_retries": self.throttled_retries,
            "complete": self.complete,
            "vanish_applied": self.vanish_applied,
            "errors": self.errors,
        }
        return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
