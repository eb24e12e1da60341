"""Ownership workflows: the directory used to infer owners, and setting an owner by hand."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.utils import timezone

from inventory.choices import IdentityEventKind, LifecycleState, OwnerSource
from inventory.models import Identity, IdentityEvent, Team
from inventory.ownership import OwnerDirectory
from inventory.services.risk import risk_reevaluate_later
from nhigov.audit import audit_record_many
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


def _check_assignment(*, owner: User | None, team: Team | None, actor: User, reason: str) -> str:
    """The rules every manual assignment follows; returns the cleaned reason."""
    if not actor.can_assign_owners:
        raise OwnerAssignmentError("Only the security team can assign owners.")
    if owner is None and team is None:
        raise OwnerAssignmentError("Choose an owner, a team, or both.")
    if owner is not None and not owner.is_active:
        raise OwnerAssignmentError(f"{owner} is deactivated and cannot own identities.")
    reason = reason.strip()
    if not reason:
        raise OwnerAssignmentError("Say why: the reason is kept with the change.")
    return reason


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
    reason = _check_assignment(owner=owner, team=team, actor=actor, reason=reason)
    ids = [i.pk for i in identities] if identities is not None else list(identity_ids or [])
    return _assign(ids, owner=owner, team=team, actor=actor, reason=reason)


def owner_assign_filtered(
    *,
    queryset: QuerySet[Identity],
    owner: User | None,
    team: Team | None,
    actor: User,
    reason: str,
) -> int:
    """:func:`owner_assign` for every identity of a filter (a bulk action on "all matching").

    The caller passes the filtered queryset, already narrowed by ``visible_to(actor)``. Its ids
    are read once, so exactly the identities matching when the action ran are changed, each with
    its own history event and audit entry, even if rows start or stop matching meanwhile.
    """
    reason = _check_assignment(owner=owner, team=team, actor=actor, reason=reason)
    ids = list(queryset.order_by().values_list("id", flat=True))
    return _assign(ids, owner=owner, team=team, actor=actor, reason=reason)


ASSIGN_CHUNK = 5000


def _assign(
    ids: list[int], *, owner: User | None, team: Team | None, actor: User, reason: str
) -> int:
    """Write an assignment in chunks: per chunk one locking read, one UPDATE, bulk inserts.

    Never a query per identity, so a whole filter of a million identities is a few hundred
    statements in one transaction (all or nothing).
    """
    now = timezone.now()
    owner_id, team_id = (owner.pk if owner else None), (team.pk if team else None)
    evidence = {"manual": {"by": actor.get_username(), "at": now.isoformat(), "reason": reason}}
    discovered = Q(lifecycle_state=LifecycleState.DISCOVERED)
    changed_ids: list[int] = []
    unique = sorted(set(ids))
    with transaction.atomic():
        for start in range(0, len(unique), ASSIGN_CHUNK):
            chunk = unique[start : start + ASSIGN_CHUNK]
            rows = list(
                Identity.objects.select_for_update()
                .filter(pk__in=chunk)
                .order_by("pk")
                .values_list(
                    "id", "name", "owner_id", "owner_team_id", "owner_source", "lifecycle_state"
                )
            )
            if not rows:
                continue
            Identity.objects.filter(pk__in=[r[0] for r in rows]).update(
                owner_id=owner_id,
                owner_team_id=team_id,
                owner_source=OwnerSource.MANUAL,
                owner_evidence=evidence,
                owner_raw="",
                owner_unmatched=False,
                is_orphaned=False,
                orphaned_since=None,
                lifecycle_state=Case(
                    When(discovered, then=Value(LifecycleState.ACTIVE.value)),
                    default=F("lifecycle_state"),
                ),
                lifecycle_changed_at=Case(
                    When(discovered, then=Value(now, output_field=DateTimeField())),
                    default=F("lifecycle_changed_at"),
                ),
            )
            events: list[IdentityEvent] = []
            audit: list[dict[str, Any]] = []
            for pk, name, before_owner, before_team, source, state in rows:
                if (before_owner, before_team) != (
                    owner_id,
                    team_id,
                ) or source != OwnerSource.MANUAL:
                    changed_ids.append(pk)
                    events.append(
                        IdentityEvent(
                            identity_id=pk,
                            kind=IdentityEventKind.OWNER_CHANGED,
                            at=now,
                            actor=actor,
                            reason=reason,
                            details={
                                "owner_id": [before_owner, owner_id],
                                "owner_team_id": [before_team, team_id],
                                "source": OwnerSource.MANUAL,
                            },
                        )
                    )
                    audit.append(
                        {
                            "verb": "identity.owner_changed",
                            "object_type": "inventory.identity",
                            "object_id": pk,
                            "object_label": name,
                            "before": {
                                "owner_id": before_owner,
                                "owner_team_id": before_team,
                                "owner_source": source,
                            },
                            "after": {
                                "owner_id": owner_id,
                                "owner_team_id": team_id,
                                "owner_source": OwnerSource.MANUAL,
                            },
                            "details": {"reason": reason},
                            "at": now,
                        }
                    )
                if state == LifecycleState.DISCOVERED:
                    events.append(
                        IdentityEvent(
                            identity_id=pk,
                            kind=IdentityEventKind.STATE_CHANGED,
                            at=now,
                            actor=actor,
                            from_state=state,
                            to_state=LifecycleState.ACTIVE,
                            reason="Owner assigned.",
                        )
                    )
            IdentityEvent.objects.bulk_create(events, batch_size=2000)
            audit_record_many(audit, actor=actor)
        # Findings that depend on the owner (no owner, owner left) follow the change.
        risk_reevaluate_later(changed_ids)
    return len(changed_ids)
