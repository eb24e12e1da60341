"""Identities, their credentials and their history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
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
    RiskTier,
)
from inventory.models.sources import Account, DiscoveryRun
from inventory.models.teams import Team

if TYPE_CHECKING:
    from nhigov.models import User


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
        # The team ids as a list, read once per request (kept on the user object): with an
        # ``IN (subquery)`` PostgreSQL plans the OR as a scan of every identity (0.3-4 s at a
        # million rows); with constants it combines the owner and team indexes (milliseconds).
        team_ids = getattr(user, "_nhigov_team_ids", None)
        if team_ids is None:
            team_ids = list(user.teams.order_by("id").values_list("id", flat=True))
            setattr(user, "_nhigov_team_ids", team_ids)  # noqa: B010 - a per-request cache
        if not team_ids:
            return self.filter(owner=user)
        return self.filter(Q(owner=user) | Q(owner_team_id__in=team_ids))


class Identity(models.Model):
    """A non-human (or human) identity at a provider: IAM user, role, instance profile, secret...

    Keyed by (account, native_id); ``native_id`` is the ARN for AWS. Provider-supplied strings
    (names, tags, policy documents) are attacker-controlled data: escape on output, never trust.
    ``content_hash`` is the hash of everything discovery saw, so an unchanged identity is not
    rewritten by the next run.
    """

    # The three foreign keys get no index of their own: the composite indexes below start with
    # them, and every identity write maintains each index (20 remain, trigram search included).
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="identities", db_index=False
    )
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
        db_index=False,
    )
    owner_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="identities",
        db_index=False,
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

    # Set by the risk engine from the open findings and privilege; decides the review cadence.
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices, default=RiskTier.LOW)

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
            models.Index(fields=["risk_tier", "name"], name="identity_tier_idx"),
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
