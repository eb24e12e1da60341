"""Enumerations of the inventory domain."""

from django.db import models


class Provider(models.TextChoices):
    AWS = "aws", "AWS"
    GENERIC = "generic", "Generic"


class SourceKind(models.TextChoices):
    AWS_ORGANIZATION = "aws-organization", "AWS Organization"
    AWS_ACCOUNT = "aws-account", "AWS account"


class IdentityKind(models.TextChoices):
    IAM_USER = "iam_user", "IAM user"
    IAM_ROLE = "iam_role", "IAM role"
    INSTANCE_PROFILE = "instance_profile", "Instance profile"
    SECRET = "secret", "Secret"
    ROOT = "root", "Root account"
    SERVICE_ACCOUNT = "service_account", "Service account"
    TOKEN = "token", "Token"
    BOT = "bot", "Bot / AI agent"


class Classification(models.TextChoices):
    HUMAN = "human", "Human"
    MACHINE = "machine", "Machine"
    MACHINE_USED_BY_PERSON = "machine_used_by_person", "Machine used by a person"


class LifecycleState(models.TextChoices):
    """Where an identity is in its life. ``stale`` and ``orphaned`` are flags, not states."""

    DISCOVERED = "discovered", "Discovered"
    ACTIVE = "active", "Active"
    PENDING_DEPROVISION = "pending_deprovision", "Pending deprovision"
    DISABLED = "disabled", "Disabled"
    DEPROVISIONED = "deprovisioned", "Deprovisioned"
    VANISHED = "vanished", "Vanished"
    EXCEPTED = "excepted", "Excepted"


class OwnerSource(models.TextChoices):
    NONE = "none", "No owner"
    TAG = "tag", "Tag"
    CREATOR = "creator", "Creator"
    MANUAL = "manual", "Set by hand"


class CredentialKind(models.TextChoices):
    ACCESS_KEY = "access_key", "Access key"
    PASSWORD = "password", "Console password"
    MFA_DEVICE = "mfa_device", "MFA device"
    SECRET = "secret", "Secret value"
    TOKEN = "token", "Token"


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Run now (web)"
    CLI = "cli", "Command line"
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"


class IdentityEventKind(models.TextChoices):
    CHANGED = "changed", "Changed at the provider"
    VANISHED = "vanished", "Vanished"
    REAPPEARED = "reappeared", "Reappeared"
    STATE_CHANGED = "state_changed", "Lifecycle state changed"
    OWNER_CHANGED = "owner_changed", "Owner changed"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}


class RiskTier(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    SUPPRESSED = "suppressed", "Suppressed"
