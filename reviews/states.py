"""The two state machines of access reviews, in one place, and the only way to move along them.

Every transition is validated against the table below (an invalid one raises
:class:`InvalidTransition` and changes nothing) and written with a conditional ``UPDATE`` that
matches the state (and, for items, the version) the caller read — the healthchecks way of
claiming work. When the row changed in between, no row matches and :class:`ConcurrentChange`
tells the caller that someone else got there first, instead of silently overwriting them.
Callers run inside ``transaction.atomic`` with their audit record, so a lost race leaves
nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from django.db.models import F

from reviews.choices import CampaignStatus, ItemStatus
from reviews.models import Campaign, ReviewItem

CAMPAIGN_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.ACTIVE, CampaignStatus.CANCELED}),
    CampaignStatus.ACTIVE: frozenset({CampaignStatus.CLOSING, CampaignStatus.CANCELED}),
    CampaignStatus.CLOSING: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset(),
    CampaignStatus.CANCELED: frozenset(),
}

# Decisions may change (kept <-> revoke_requested <-> handover_requested) until the reviewer
# signs off their queue; the services check the lock, the table only what can follow what.
ITEM_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    ItemStatus.PENDING: frozenset(
        {
            ItemStatus.KEPT,
            ItemStatus.REVOKE_REQUESTED,
            ItemStatus.HANDOVER_REQUESTED,
            ItemStatus.EXPIRED,
        }
    ),
    # kept -> pending: a second reviewer rejected a self-reviewed keep.
    ItemStatus.KEPT: frozenset(
        {
            ItemStatus.KEPT,
            ItemStatus.REVOKE_REQUESTED,
            ItemStatus.HANDOVER_REQUESTED,
            ItemStatus.PENDING,
        }
    ),
    ItemStatus.REVOKE_REQUESTED: frozenset(
        {
            ItemStatus.KEPT,
            ItemStatus.HANDOVER_REQUESTED,
            ItemStatus.REMEDIATED,
            ItemStatus.REMEDIATION_FAILED,
        }
    ),
    # Accepted -> reassigned; declined -> pending again for the reviewer; changed by the
    # reviewer before acceptance; not answered by the deadline -> the no-response policy.
    ItemStatus.HANDOVER_REQUESTED: frozenset(
        {
            ItemStatus.REASSIGNED,
            ItemStatus.PENDING,
            ItemStatus.KEPT,
            ItemStatus.REVOKE_REQUESTED,
            ItemStatus.EXPIRED,
        }
    ),
    ItemStatus.EXPIRED: frozenset(),
    ItemStatus.REMEDIATED: frozenset(),
    ItemStatus.REMEDIATION_FAILED: frozenset(),
    ItemStatus.REASSIGNED: frozenset(),
}


class ReviewError(ValueError):
    """Not allowed or not valid; nothing was changed. The message is shown to the person."""


class NotAllowed(ReviewError):
    """The person may not do this (pages answer 403)."""


class InvalidTransition(ReviewError):
    """The object is not in a state this action applies to."""


class ConcurrentChange(ReviewError):
    """Someone else changed the object between reading and writing: their change stands."""


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label).lower()
    except ValueError:
        return value


def check_campaign_transition(current: str, target: str) -> None:
    if target not in CAMPAIGN_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(
            f"A campaign that is {_label(CampaignStatus, current)} cannot become "
            f"{_label(CampaignStatus, target)}."
        )


def check_item_transition(current: str, target: str) -> None:
    if target not in ITEM_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(
            f"An item that is {_label(ItemStatus, current)} cannot become "
            f"{_label(ItemStatus, target)}."
        )


def campaign_transition(campaign: Campaign, target: str, **fields: Any) -> None:
    """Move ``campaign`` to ``target`` if it is still in the state the caller read."""
    check_campaign_transition(campaign.status, target)
    rows = Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(
        status=target, **fields
    )
    if rows != 1:
        current = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
        raise ConcurrentChange(
            f"Someone else changed this campaign first: it is now "
            f"{_label(CampaignStatus, current or '')}. Reload to see it."
        )
    campaign.status = target
    for name, value in fields.items():
        setattr(campaign, name, value)


def item_transition(item: ReviewItem, target: str, **fields: Any) -> None:
    """Move ``item`` to ``target`` if its status and version are still those the caller read."""
    check_item_transition(item.status, target)
    rows = ReviewItem.objects.filter(pk=item.pk, status=item.status, version=item.version).update(
        status=target, version=F("version") + 1, **fields
    )
    if rows != 1:
        raise ConcurrentChange(concurrent_message(item.pk))
    item.status = target
    item.version += 1
    for name, value in fields.items():
        setattr(item, name, value)


def item_touch(item: ReviewItem, **fields: Any) -> None:
    """Change an item's fields (not its status) under the same version check."""
    rows = ReviewItem.objects.filter(pk=item.pk, status=item.status, version=item.version).update(
        version=F("version") + 1, **fields
    )
    if rows != 1:
        raise ConcurrentChange(concurrent_message(item.pk))
    item.version += 1
    for name, value in fields.items():
        setattr(item, name, value)


def concurrent_message(item_id: int) -> str:
    """Who got there first, for the person who lost the race."""
    current = (
        ReviewItem.objects.filter(pk=item_id)
        .select_related("decision__decided_by")
        .only("status", "decision__decided_by", "decision__decided_at", "decision__outcome")
        .first()
    )
    if current is None:
        return "This item no longer exists."
    decision = current.decision
    if decision is not None and decision.decided_by is not None:
        who = decision.decided_by.get_full_name() or decision.decided_by.get_username()
        return (
            f"Someone else decided this item first: {who} chose "
            f"{decision.get_outcome_display().lower()} at {decision.decided_at:%H:%M:%S} UTC. "
            "Their decision stands; reload to see it."
        )
    return (
        "Someone else changed this item first (it is now "
        f"{_label(ItemStatus, current.status)}). Reload to see it."
    )
