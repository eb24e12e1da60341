"""Enumerations of the access-review domain (see /work/shared/docs/reviews.md)."""

from django.db import models


class CampaignStatus(models.TextChoices):
    """``draft -> active -> closing -> closed``, and ``canceled`` (from draft or active)."""

    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    CLOSING = "closing", "Closing"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"


class CampaignKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Launched by hand"
    EVENT = "event", "Event-triggered"


class NoResponsePolicy(models.TextChoices):
    """What happens at the deadline to items nobody decided."""

    KEEP = "keep", "Keep (access left as it is)"
    DEPROVISION = "deprovision", "Deprovision"
    RECOMMENDATION = "recommendation", "Follow the recommendation"


class ItemStatus(models.TextChoices):
    """``pending -> kept | revoke_requested | handover_requested | expired``;
    ``revoke_requested -> remediated | remediation_failed``; ``handover_requested -> reassigned``.

    ``expired``: nobody decided and the no-response policy left the access as it was (an
    automatic keep is not an attestation, so it is not ``kept``).
    """

    PENDING = "pending", "Pending"
    KEPT = "kept", "Kept"
    REVOKE_REQUESTED = "revoke_requested", "Deprovision requested"
    HANDOVER_REQUESTED = "handover_requested", "Handover requested"
    EXPIRED = "expired", "Expired (no response)"
    REMEDIATED = "remediated", "Remediated"
    REMEDIATION_FAILED = "remediation_failed", "Remediation failed"
    REASSIGNED = "reassigned", "Reassigned"


DECIDED_STATUSES = frozenset(
    {
        ItemStatus.KEPT,
        ItemStatus.REVOKE_REQUESTED,
        ItemStatus.HANDOVER_REQUESTED,
        ItemStatus.EXPIRED,
        ItemStatus.REMEDIATED,
        ItemStatus.REMEDIATION_FAILED,
        ItemStatus.REASSIGNED,
    }
)


class Outcome(models.TextChoices):
    """What a decision says should happen to the identity."""

    KEEP = "keep", "Keep"
    DEPROVISION = "deprovision", "Deprovision"
    HANDOVER = "handover", "Hand over"


class DecisionSource(models.TextChoices):
    HUMAN = "human", "Person"
    AUTO = "auto", "No-response policy"


class HandoverResponse(models.TextChoices):
    NONE = "", "Waiting"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Not answered by the deadline"


class Recommendation(models.TextChoices):
    KEEP = "keep", "Keep"
    DEPROVISION = "deprovision", "Deprovision"
    HANDOVER = "handover", "Hand over"


class AssignmentReason(models.TextChoices):
    """Why an item sits with its reviewer."""

    OWNER = "owner", "Owner"
    TEAM_MANAGER = "team_manager", "Team manager (no active owner)"
    SECURITY_QUEUE = "security_queue", "Security queue (no owner, no team manager)"
    REROUTED = "rerouted", "Re-routed"
    ESCALATED_MANAGER = "escalated_manager", "Escalated to the team manager"
    ESCALATED_SECURITY = "escalated_security", "Escalated to security"


class TriggerReason(models.TextChoices):
    """Why an event-triggered (one-item) review was opened."""

    OWNER_DEACTIVATED = "owner_deactivated", "Owner deactivated"
    OWNER_MOVED_TEAM = "owner_moved_team", "Owner moved team"
    BECAME_STALE = "became_stale", "Identity became stale"
    ADMIN_POLICY = "admin_policy", "Administrator policy attached"


class ReminderKind(models.TextChoices):
    OPENED = "opened", "Campaign opened"
    BEFORE = "before", "Before the deadline"
    OVERDUE = "overdue", "Overdue"
    MANUAL = "manual", "Sent by the security team"
    ESCALATION = "escalation", "Escalation"


class RemediationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CANCELED = "canceled", "Canceled (decision changed)"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


# Security's own queue: items whose identity has no active owner and no team manager.
SECURITY_QUEUE_KEY = "security"
