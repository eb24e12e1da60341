"""Exceptions: a keep with an end date makes the identity ``excepted`` until that date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.choices import IdentityEventKind, LifecycleState
from inventory.models import Identity, IdentityEvent
from nhigov.celery import beat_schedule
from nhigov.models import AuditEvent
from reviews.services.decisions import item_decide, self_review_confirm
from reviews.services.exceptions import exceptions_expire
from reviews.tasks import review_exceptions_expire
from tests.reviews.factories import item_of, launch

pytestmark = pytest.mark.django_db

WHY = "Break-glass role for the payments outage runbook."


def state(identity: Identity) -> str:
    return str(Identity.objects.values_list("lifecycle_state", flat=True).get(pk=identity.pk))


def test_a_keep_with_an_end_date_excepts_the_identity_until_then(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    until = now.date() + timedelta(days=30)
    item_decide(
        item=item_of(campaign, estate.admin),
        actor=estate.olivia,
        outcome="keep",
        justification=WHY,
        exception_until=until,
        now=now,
    )
    assert state(estate.admin) == LifecycleState.EXCEPTED
    event = IdentityEvent.objects.filter(
        identity=estate.admin, kind=IdentityEventKind.STATE_CHANGED
    ).latest("at")
    assert (event.from_state, event.to_state) == ("active", "excepted")
    assert f"exception until {until:%Y-%m-%d}" in event.reason
    assert AuditEvent.objects.filter(
        verb="identity.lifecycle_changed", object_id=str(estate.admin.pk)
    ).exists()

    # Still running the day before it ends; back to active on the day it ends.
    assert exceptions_expire(now=now + timedelta(days=29)) == 0
    assert state(estate.admin) == LifecycleState.EXCEPTED
    assert exceptions_expire(now=now + timedelta(days=30)) == 1
    assert state(estate.admin) == LifecycleState.ACTIVE
    event = IdentityEvent.objects.filter(identity=estate.admin).latest("at")
    assert event.to_state == "active" and "ended on" in event.reason
    assert exceptions_expire(now=now + timedelta(days=31)) == 0  # safe to run twice


def test_a_keep_without_an_end_date_changes_nothing(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    item_decide(
        item=item_of(campaign, estate.admin), actor=estate.olivia, outcome="keep", justification=WHY
    )
    assert state(estate.admin) == LifecycleState.ACTIVE


def test_changing_the_decision_ends_the_exception(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    until = timezone.now().date() + timedelta(days=30)
    item = item_of(campaign, estate.admin)
    item_decide(
        item=item,
        actor=estate.olivia,
        outcome="keep",
        justification=WHY,
        exception_until=until,
    )
    item = item_of(campaign, estate.admin)
    item_decide(item=item, actor=estate.olivia, outcome="deprovision")
    assert state(estate.admin) == LifecycleState.PENDING_DEPROVISION
    item = item_of(campaign, estate.admin)
    item_decide(
        item=item,
        actor=estate.olivia,
        outcome="keep",
        justification=WHY,
        exception_until=until,
    )
    assert state(estate.admin) == LifecycleState.EXCEPTED  # the deprovision was undone
    item = item_of(campaign, estate.admin)
    item_decide(item=item, actor=estate.olivia, outcome="keep", justification=WHY)
    assert state(estate.admin) == LifecycleState.ACTIVE


def test_a_rejected_self_review_keep_ends_the_exception(  # type: ignore[no-untyped-def]
    campaign, estate, security_user
) -> None:
    item = item_of(campaign, estate.console)
    decision = item_decide(
        item=item,
        actor=estate.olivia,
        outcome="keep",
        justification="my laptop key",
        exception_until=timezone.now().date() + timedelta(days=10),
    )
    assert decision.needs_confirmation
    assert state(estate.console) == LifecycleState.EXCEPTED
    self_review_confirm(
        item=item_of(campaign, estate.console),
        actor=security_user,
        confirm=False,
        reason="Use an SSO role instead.",
    )
    assert state(estate.console) == LifecycleState.ACTIVE


def test_a_later_review_without_an_end_date_ends_the_exception(  # type: ignore[no-untyped-def]
    campaign, estate, security_user
) -> None:
    now = timezone.now()
    item_decide(
        item=item_of(campaign, estate.admin),
        actor=estate.olivia,
        outcome="keep",
        justification=WHY,
        exception_until=now.date() + timedelta(days=200),
        now=now,
    )
    later = launch(security_user, scope={"identity_ids": [estate.admin.pk]})
    item_decide(
        item=item_of(later, estate.admin),
        actor=estate.olivia,
        outcome="keep",
        justification="Still needed, no longer an exception.",
        now=now + timedelta(minutes=5),
    )
    assert state(estate.admin) == LifecycleState.ACTIVE


def test_the_beat_runs_the_expiry() -> None:
    entry = beat_schedule(300, 3600)["reviews-exceptions-expire"]
    assert entry["task"] == "reviews.tasks.review_exceptions_expire"
    assert review_exceptions_expire.delay().get() == 0
