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
