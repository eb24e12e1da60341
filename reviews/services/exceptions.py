"""Exceptions: a keep with an end date puts the identity in the ``excepted`` lifecycle state.

``excepted`` means a documented, expiring exception (docs/reviews.md). A reviewer documents it by
keeping the item with an exception end date, which needs a justification. The identity stays
``excepted`` while its reviewer's latest decision on it (the newest one a person took and did
not change since, in any campaign) is a keep whose end date is still ahead; when the date
passes (the beat task), the decision is changed, the self-review keep is rejected, or a later
review keeps it without a date, it goes back to ``active`` (``discovered`` when it has no
owner). A deprovision moves it to ``pending_deprovision`` like any identity. Only ``active``,
``discovered`` and ``excepted`` identities move: the remediation states are never touched here.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from inventory.choices import LifecycleState
from inventory.models import Identity
from nhigov.models import User
from reviews.choices import DecisionSource, Outcome
from reviews.models import ReviewDecision
from reviews.services.remediation import _set_lifecycle

_MOVABLE = (LifecycleState.ACTIVE, LifecycleState.DISCOVERED)


def current_exception(identity_id: int, *, now: datetime) -> ReviewDecision | None:
    """The keep that makes the identity excepted today, if any."""
    latest = (
        ReviewDecision.objects.filter(
            item__identity_id=identity_id,
            source=DecisionSource.HUMAN,
            superseded_at=None,
        )
        .order_by("-decided_at", "-pk")
        .first()
    )
    if (
        latest is not None
        and latest.outcome == Outcome.KEEP
        and latest.exception_until is not None
        and latest.exception_until > now.date()
    ):
        return latest
    return None


def exception_sync(*, identity_id: int, actor: User | None, now: datetime) -> str | None:
    """Move the identity in or out of ``excepted`` to match its current decision.

    Returns the new state, or None when nothing changed. Call it inside the transaction that
    wrote the decision (the identity row is locked by the move).
    """
    row = Identity.objects.filter(pk=identity_id).values_list(
        "lifecycle_state", "owner_id", "owner_team_id"
    )
    found = row.first()
    if found is None:
        return None
    state, owner_id, team_id = found
    exception = current_exception(identity_id, now=now)
    if exception is not None and state in _MOVABLE:
        assert exception.exception_until is not None
        changed = _set_lifecycle(
            identity_id=identity_id,
            to_state=LifecycleState.EXCEPTED,
            actor=actor,
            reason=f"Kept with an exception until {exception.exception_until:%Y-%m-%d} in review "
            f"campaign {exception.item.campaign_id}.",
            now=now,
        )
        return LifecycleState.EXCEPTED if changed else None
    if exception is None and state == LifecycleState.EXCEPTED:
        back = LifecycleState.ACTIVE if (owner_id or team_id) else LifecycleState.DISCOVERED
        changed = _set_lifecycle(
            identity_id=identity_id,
            to_state=back,
            actor=actor,
            reason=_end_reason(identity_id, now=now),
            now=now,
        )
        return back if changed else None
    return None


def _end_reason(identity_id: int, *, now: datetime) -> str:
    latest = (
        ReviewDecision.objects.filter(
            item__identity_id=identity_id, source=DecisionSource.HUMAN, superseded_at=None
        )
        .order_by("-decided_at", "-pk")
        .first()
    )
    if (
        latest is not None
        and latest.outcome == Outcome.KEEP
        and latest.exception_until is not None
        and latest.exception_until <= now.date()
    ):
        return f"The exception ended on {latest.exception_until:%Y-%m-%d}."
    return "The exception no longer applies: the review decision changed."


def exceptions_expire(*, now: datetime | None = None) -> int:
    """Beat: every ``excepted`` identity whose exception has ended goes back to ``active``.

    One identity per transaction, so a long list never holds many row locks; safe to run twice.
    """
    now = now or timezone.now()
    ids = list(
        Identity.objects.filter(lifecycle_state=LifecycleState.EXCEPTED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    moved = 0
    for identity_id in ids:
        with transaction.atomic():
            if exception_sync(identity_id=identity_id, actor=None, now=now):
                moved += 1
    return moved
