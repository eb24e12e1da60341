"""People who use nhigov and own identities."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

from nhigov.choices import Role


class User(AbstractUser):
    """A person: a nhigov login and, as often, the owner of machine identities.

    ``is_active`` off means the person is deactivated (left the company); their identities become
    orphaned. ``left_at`` records when, for the evidence trail.
    """

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.OWNER)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["username"]
        indexes = [models.Index(Lower("email"), name="user_email_lower_idx")]

    @property
    def effective_role(self) -> str:
        return Role.SECURITY_ADMIN if self.is_superuser else self.role

    @property
    def sees_all_identities(self) -> bool:
        """Security and auditors see the whole inventory; owners only their own."""
        return self.effective_role in {Role.SECURITY_ADMIN, Role.SECURITY_ANALYST, Role.AUDITOR}

    @property
    def can_assign_owners(self) -> bool:
        return self.effective_role in {Role.SECURITY_ADMIN, Role.SECURITY_ANALYST}

    @property
    def can_administer(self) -> bool:
        """Sources, settings, discovery runs on demand."""
        return self.effective_role == Role.SECURITY_ADMIN

    @property
    def is_read_only(self) -> bool:
        return self.effective_role == Role.AUDITOR

    def __str__(self) -> str:
        return self.email or self.username


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Append-only: bulk updates and deletes are refused in code (and by database triggers)."""

    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the tamper-evident audit trail (written only by ``nhigov.audit.audit_record``).

    ``hash = sha256(prev_hash + canonical JSON of the entry)``: changing or removing any row breaks
    the chain from there on, and ``manage.py audit_verify`` names the first broken row. The
    database refuses UPDATE and DELETE on this table (triggers, see the migration), and so does
    the code. Who acted is kept as an id and a label, not a foreign key, so that removing a user
    never has to touch the trail.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=16)  # user | token | system | anonymous
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=255, blank=True)
    verb = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=512, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-seq"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.verb} {self.object_type}:{self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only: they cannot be deleted.")


class AuditVerification(models.Model):
    """One check of the whole chain (``audit_verify`` or the periodic task)."""

    at = models.DateTimeField()
    ok = models.BooleanField()
    checked = models.BigIntegerField(default=0)
    head_seq = models.BigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    first_broken_seq = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Audit verification at {self.at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'BROKEN'}"
