"""Ownership workflows: the directory used to infer owners, and setting an owner by hand."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory.choices import IdentityEventKind, LifecycleState, OwnerSource
from inventory.models import Identity, IdentityEvent, Team
from inventory.ownership import OwnerDirectory
from nhigov.models import User


def load_owner_directory() -> OwnerDirectory:
    """Every person and team, with the tag keys configured in settings."""
    users = get_user_model().objects.values_list("id", "username", "email", "is_active")
    return OwnerDirectory.build(
        users=users,
        teams=Team.objects.values_list("id", "name"),
        owner_keys=settings.NHIGOV_OWNER_TAG_KEYS,
        team_keys=settings.NHIGOV_TEAM_TAG_KEYS,
        creator_keys=settings.NHIGOV_CREATOR_TAG_KEYS,
    )


class OwnerAssignmentError(ValueError):
    """The assignment is not allowed or not valid; nothing was changed."""


def owner_assign(
    *,
    identities: list[Identity] | None = None,
    identity_ids: list[int] | None = None,
    owner: User | None,
    team: Team | None,
    actor: User,
    reason: str,
) -> int:
    """Set the owner (a person and/or a team) of identities by hand, recorded with who and why.

    A manual owner wins over tags in later discoveries. Returns how many identities changed.
    """
    if not actor.can_assign_owners:
        raise OwnerAssignmentError("Only the security team can assign owners.")
    if owner is None and team is None:
        raise OwnerAssignmentError("Choose an owner, a team, or both.")
    if owner is not None and not owner.is_active:
        raise OwnerAssignmentError(f"{owner} is deactivated and cannot own identities.")
    reason = reason.strip()
    if not reason:
        raise OwnerAssignmentError("Say why: the reason is kept with the change.")
    ids = [i.pk for i in identities] if identities is not None else list(identity_ids or [])
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        rows = list(
            Identity.objects.select_for_update()
            .filter(pk__in=ids)
            .only(
                "id",
                "owner_id",
                "owner_team_id",
                "lifecycle_state",
                "lifecycle_changed_at",
                "owner_source",
            )
        )
        events: list[IdentityEvent] = []
        for row in rows:
            before = (row.owner_id, row.owner_team_id)
            after = (owner.pk if owner else None, team.pk if team else None)
            state = row.lifecycle_state
            new_state = LifecycleState.ACTIVE if state == LifecycleState.DISCOVERED else state
            Identity.objects.filter(pk=row.pk).update(
                owner_id=after[0],
                owner_team_id=after[1],
                owner_source=OwnerSource.MANUAL,
                owner_evidence={
                    "manual": {"by": actor.get_username(), "at": now.isoformat(), "reason": reason}
                },
                owner_raw="",
                owner_unmatched=False,
                is_orphaned=False,
                orphaned_since=None,
                lifecycle_state=new_state,
                lifecycle_changed_at=now if new_state != state else row.lifecycle_changed_at,
            )
            if before != after or row.owner_source != OwnerSource.MANUAL:
                changed += 1
                events.append(
                    IdentityEvent(
                        identity_id=row.pk,
                        kind=IdentityEventKind.OWNER_CHANGED,
                        at=now,
                        actor=actor,
                        reason=reason,
                        details={
                            "owner_id": [before[0], after[0]],
                            "owner_team_id": [before[1], after[1]],
                            "source": OwnerSource.MANUAL,
                        },
                    )
                )
            if new_state != state:
                events.append(
                    IdentityEvent(
                        identity_id=row.pk,
                        kind=IdentityEventKind.STATE_CHANGED,
                        at=now,
                        actor=actor,
                        from_state=state,
                        to_state=new_state,
                        reason="Owner assigned.",
                    )
                )
        IdentityEvent.objects.bulk_create(events)
    return changed
