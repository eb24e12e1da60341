"""People leaving: their identities are flagged orphaned at once and re-evaluated."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.models import Identity
from nhigov.audit import audit_record
from nhigov.models import User


class PersonActionError(ValueError):
    """Not allowed or not valid; nothing was changed."""


def person_deactivate(*, person: User, actor: User) -> int:
    """Mark a person as gone; returns how many identities they owned (now re-evaluated)."""
    from inventory.services.risk import risk_evaluate

    if not actor.can_administer:
        raise PersonActionError("Only a security admin can deactivate people.")
    if person.pk == actor.pk:
        raise PersonActionError("You cannot deactivate yourself.")
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=person.pk).update(is_active=False, left_at=now)
        owned = list(Identity.objects.filter(owner=person).values_list("id", flat=True))
        audit_record(
            verb="person.deactivated",
            actor=actor,
            obj=person,
            before={"is_active": True},
            after={"is_active": False, "left_at": now},
            details={"identities_owned": len(owned)},
        )
    risk_evaluate(identity_ids=owned, now=now)
    from reviews.services.triggers import review_trigger_later  # one-item reviews (reviews app)

    review_trigger_later(identity_ids=owned, reason="owner_deactivated")
    person.refresh_from_db()
    return len(owned)


def person_reactivate(*, person: User, actor: User) -> int:
    from inventory.services.risk import risk_evaluate

    if not actor.can_administer:
        raise PersonActionError("Only a security admin can reactivate people.")
    with transaction.atomic():
        User.objects.filter(pk=person.pk).update(is_active=True, left_at=None)
        owned = list(Identity.objects.filter(owner=person).values_list("id", flat=True))
        audit_record(
            verb="person.reactivated",
            actor=actor,
            obj=person,
            before={"is_active": False},
            after={"is_active": True},
        )
    risk_evaluate(identity_ids=owned)
    person.refresh_from_db()
    return len(owned)
