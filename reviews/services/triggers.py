"""Event-triggered reviews: one-item campaigns opened when something happens to an identity.

* its owner is deactivated (``inventory.services.people.person_deactivate``);
* its owner left the team it is owned for (``inventory.services.teams.team_member_remove``;
  :func:`review_trigger_owner_moved` does the same at once);
* it became stale, or an administrator policy was attached (PRIV-001 newly open): the risk engine
  passes the ids after each chunk (``inventory.services.risk``).

An identity that already has an undecided item in an active campaign gets no second one, and
identities discovered in the last day are left alone (their first evaluation is not an event).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.choices import LifecycleState
from inventory.models import Identity, Team
from nhigov.models import User
from reviews.choices import CampaignKind, CampaignStatus, ItemStatus, TriggerReason
from reviews.models import Campaign, ReviewItem
from reviews.states import ReviewError

_NOT_REVIEWABLE = (
    LifecycleState.VANISHED,
    LifecycleState.DEPROVISIONED,
    LifecycleState.PENDING_DEPROVISION,
    LifecycleState.DISABLED,
)
NEW_IDENTITY = timedelta(days=1)


def _under_review(ids: list[int]) -> set[int]:
    return set(
        ReviewItem.objects.filter(
            identity_id__in=ids,
            status=ItemStatus.PENDING,
            campaign__status=CampaignStatus.ACTIVE,
        ).values_list("identity_id", flat=True)
    )


def review_trigger(
    *, identity_ids: list[int], reason: str, now: datetime | None = None
) -> list[Campaign]:
    """Open a one-item review for each identity that is not already under review."""
    from reviews.services.campaigns import campaign_launch

    if not settings.NHIGOV_REVIEW_EVENT_TRIGGERS or not identity_ids:
        return []
    if reason not in TriggerReason.values:
        raise ReviewError(f"Unknown trigger {reason!r}.")
    now = now or timezone.now()
    ids = sorted(set(identity_ids))
    busy = _under_review(ids)
    rows = (
        Identity.objects.filter(id__in=[i for i in ids if i not in busy])
        .exclude(lifecycle_state__in=_NOT_REVIEWABLE)
        .order_by("id")
        .values_list("id", "name")
    )
    label = TriggerReason(reason).label
    launched: list[Campaign] = []
    for identity_id, name in rows:
        try:
            launched.append(
                campaign_launch(
                    name=f"{label}: {name}"[:200],
                    scope={"identity_ids": [identity_id]},
                    actor=None,
                    kind=CampaignKind.EVENT,
                    due_days=settings.NHIGOV_REVIEW_EVENT_DUE_DAYS,
                    trigger_reason=reason,
                    trigger_identity_id=identity_id,
                    now=now,
                )
            )
        except ReviewError:
            continue
    return launched


def review_trigger_later(*, identity_ids: list[int], reason: str) -> None:
    """Queue :func:`review_trigger` after the caller's transaction commits (a Celery task)."""
    if not settings.NHIGOV_REVIEW_EVENT_TRIGGERS or not identity_ids:
        return
    from reviews.tasks import review_trigger as task

    transaction.on_commit(
        functools.partial(task.delay, sorted(set(identity_ids)), str(reason)), robust=True
    )


def review_triggers_from_risk(*, stale_ids: list[int], admin_ids: list[int], now: datetime) -> None:
    """Called by the risk engine with the ids whose ``is_stale`` flipped to true and those whose
    PRIV-001 finding newly opened. Cheap: one query, then a task queued after commit."""
    if not settings.NHIGOV_REVIEW_EVENT_TRIGGERS or not (stale_ids or admin_ids):
        return
    known = set(
        Identity.objects.filter(
            id__in=sorted(set(stale_ids) | set(admin_ids)), first_seen_at__lt=now - NEW_IDENTITY
        ).values_list("id", flat=True)
    )
    batches = {
        TriggerReason.ADMIN_POLICY: [i for i in admin_ids if i in known],
        TriggerReason.BECAME_STALE: [i for i in stale_ids if i in known and i not in admin_ids],
    }
    for reason, ids in batches.items():
        review_trigger_later(identity_ids=ids, reason=reason)


def review_trigger_owner_moved(
    *, person: User, left_team: Team, now: datetime | None = None
) -> list[Campaign]:
    """The person left ``left_team``: review the identities they own on that team's behalf."""
    ids = list(
        Identity.objects.filter(owner=person, owner_team=left_team).values_list("id", flat=True)
    )
    return review_trigger(identity_ids=ids, reason=TriggerReason.OWNER_MOVED_TEAM, now=now)
