"""The inventory: where identities come from, what they are, who owns them, what became of them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from inventory.choices import (
    Classification,
    CredentialKind,
    CredentialStatus,
    IdentityEventKind,
    IdentityKind,
    LifecycleState,
    OwnerSource,
    Provider,
    RunStatus,
    RunTrigger,
    SourceKind,
)

if TYPE_CHECKING:
    from nhigov.models import User

AWS_ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
AWS_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# IAM role names: letters, digits and +=,.@_- , at most 64 characters.
AWS_ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
# sts:AssumeRole ExternalId: 2-1224 characters of letters, digits and +=,.@:/-
AWS_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
SOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


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


class IdentityQuerySet(models.QuerySet["Identity"]):
    def visible_to(self, user: User | Any) -> IdentityQuerySet:
        """The one permission gate for identities, used by every page, API, export and report.

        Security and auditors see everything; an owner sees what they own personally and what
        their teams own; anyone else sees nothing.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_identities:
            return self
        # A subquery, not a join: no DISTINCT over a million rows.
        return self.filter(Q(owner=user) | Q(owner_team__in=user.teams.values("id")))


class Identity(models.Model):
    """A non-human (or human) identity at a provider: IAM user, role, instance profile, secret...

    Keyed by (account, native_id); ``native_id`` is the ARN for AWS. Provider-supplied strings
    (names, tags, policy documents) are attacker-controlled data: escape on output, never trust.
    ``content_hash`` is the hash of everything discovery saw, so an unchanged identity is not
    rewritten by the next run.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="identities")
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.AWS)
    kind = models.CharField(max_length=32, choices=IdentityKind.choices)
    native_id = models.CharField(max_length=2048)
    arn = models.CharField(max_length=2048, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=512)
    path = models.CharField(max_length=512, blank=True)
    region = models.CharField(max_length=32, blank=True)
    tags = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(null=True, blank=True, help_text="Created at the provider.")
    first_seen_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_service = models.CharField(max_length=128, blank=True)
    last_used_region = models.CharField(max_length=32, blank=True)

    classification = models.CharField(max_length=32, choices=Classification.choices)
    classification_evidence = models.JSONField(default=dict, blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_identities",
    )
    owner_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="identities"
    )
    owner_source = models.CharField(
        max_length=16, choices=OwnerSource.choices, default=OwnerSource.NONE
    )
    owner_evidence = models.JSONField(default=dict, blank=True)
    # An owner value read from a tag that matched no user or team, kept verbatim and flagged.
    owner_raw = models.CharField(max_length=512, blank=True)
    owner_unmatched = models.BooleanField(default=False)

    lifecycle_state = models.CharField(
        max_length=32, choices=LifecycleState.choices, default=LifecycleState.DISCOVERED
    )
    lifecycle_changed_at = models.DateTimeField(null=True, blank=True)
    vanished_at = models.DateTimeField(null=True, blank=True)

    policies = models.JSONField(default=list, blank=True)
    trust_policy = models.JSONField(null=True, blank=True)
    groups = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    permissions_summary = models.JSONField(default=dict, blank=True)
    is_privileged = models.BooleanField(default=False)

    is_orphaned = models.BooleanField(default=False)
    orphaned_since = models.DateTimeField(null=True, blank=True)
    is_stale = models.BooleanField(default=False)
    stale_since = models.DateTimeField(null=True, blank=True)

    content_hash = models.CharField(max_length=32)
    updated_at = models.DateTimeField()

    objects = IdentityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "identities"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "native_id"], name="identity_account_native")
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="identity_name_idx"),
            models.Index(fields=["kind", "name", "id"], name="identity_kind_name_idx"),
            models.Index(fields=["account", "kind"], name="identity_account_kind_idx"),
            models.Index(fields=["lifecycle_state", "name"], name="identity_state_idx"),
            models.Index(fields=["classification", "name"], name="identity_class_idx"),
            models.Index(fields=["owner", "name"], name="identity_owner_idx"),
            models.Index(fields=["owner_team", "name"], name="identity_team_idx"),
            models.Index(fields=["is_orphaned", "name"], name="identity_orphan_idx"),
            models.Index(fields=["is_stale", "name"], name="identity_stale_idx"),
            models.Index(fields=["last_used_at"], name="identity_last_used_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_display(self) -> str:
        if self.owner_id and self.owner is not None:
            return self.owner.email or self.owner.username
        if self.owner_team_id and self.owner_team is not None:
            return self.owner_team.name
        return ""


class Credential(models.Model):
    """A way to authenticate as an identity: access key, console password, MFA device, secret.

    Holds ids, statuses and dates only. A secret value is never stored, not even hashed.
    """

    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=16, choices=CredentialKind.choices)
    native_id = models.CharField(max_length=2048)
    status = models.CharField(
        max_length=16, choices=CredentialStatus.choices, default=CredentialStatus.ACTIVE
    )
    created_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_service = models.CharField(max_length=128, blank=True)
    last_used_region = models.CharField(max_length=32, blank=True)
    last_rotated_at = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["identity", "kind", "native_id"], name="credential_identity_native"
            )
        ]
        indexes = [models.Index(fields=["native_id"], name="credential_native_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.native_id}"


class IdentityEvent(models.Model):
    """The identity's history: what discovery saw change, and every lifecycle or owner change."""

    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=IdentityEventKind.choices)
    at = models.DateTimeField()
    run = models.ForeignKey(
        DiscoveryRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["identity", "-at"], name="identity_event_recent_idx")]

    def __str__(self) -> str:
        return f"{self.identity_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"
