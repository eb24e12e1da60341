"""Choices shared across apps."""

from django.db import models


class Role(models.TextChoices):
    """What a person may do in nhigov. One role per user; superusers act as security admins."""

    SECURITY_ADMIN = "security_admin", "Security admin"
    SECURITY_ANALYST = "security_analyst", "Security analyst"
    OWNER = "owner", "Identity owner"
    AUDITOR = "auditor", "Auditor"
