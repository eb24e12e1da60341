"""Reminders before the deadline and daily when overdue, once each, only to reviewers with
undecided items; escalation to the team manager, then security; remind and escalate now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from freezegun import freeze_time

from reviews.choices import AssignmentReason, ReminderKind
from reviews.models import ReminderLog, ReviewAssignment, ReviewItem
from reviews.services.campaigns import campaign_extend
from reviews.services.decisions import item_decide
from reviews.services.reminders import (
    escalate_now,
    reminder_key,
    reminders_send,
    reminders_send_now,
    review_tick,
)
from reviews.states import NotAllowed
from tests.reviews.factories import item_of, launch

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 9, tzinfo=UTC)  # due 12-15 09:00, policy applies 12-22 09:00


@pytest.fixture
def timed(estate, security_user):  # type: ignore[no-untyped-def]
    with freeze_time(START):
        campaign = launch(security_user)
    mail.outbox.clear()
    return campaign


def sent_to(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if address in m.to]


@pytest.fixture
def tick(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Run the beat's tick at a moment, with the e-mails queued after commit sent."""

    def run(moment: datetime) -> dict[str, int]:
        with freeze_time(moment), django_capture_on_commit_callbacks(execute=True):
            return review_tick()

    return run


def test_reminders_go_at_7_3_and_1_days_before_the_deadline_once_each(tick, timed) -> None:  # type: ignore[no-untyped-def]
    assert tick(START + timedelta(days=2))["reminders"] == 0  # 12 days left: nothing yet
    for day in (7, 8, 8, 11, 12, 13, 13):  # ticks every few hours, several a day
        tick(START + timedelta(days=day, hours=1))
    olivia = sent_to("olivia.park@example.com")
    assert len(olivia) == 3
    assert all(
        s.startswith("[nhigov] Reminder: 4 identities to review by 2026-12-15") for s in olivia
    )
    keys = sorted(
        ReminderLog.objects.filter(recipient__email="olivia.park@example.com").values_list(
            "key", flat=True
        )
    )
    assert keys == ["before:1:2026-12-15", "before:3:2026-12-15", "before:7:2026-12-15"]


def test_only_reviewers_with_undecided_items_are_reminded(tick, timed, estate) -> None:  # type: ignore[no-untyped-def]
    for item in ReviewItem.objects.filter(campaign=timed, reviewer=estate.olivia):
        item_decide(item=item, actor=estate.olivia, outcome="deprovision")
    tick(START + timedelta(days=8))
    assert sent_to("olivia.park@example.com") == []
    assert len(sent_to("raj.patel@example.com")) == 1


def test_overdue_reminders_go_daily(tick, timed) -> None:  # type: ignore[no-untyped-def]
    for hours in (1, 5, 25, 26, 49):
        tick(timed.due_at + timedelta(hours=hours))
    overdue = [s for s in sent_to("raj.patel@example.com") if s.startswith("[nhigov] Overdue")]
    # Raj's item escalates to security after 4 days; before that he gets one a day.
    assert len(overdue) == 3


def test_security_gets_the_security_queue_reminders(
    tick, timed, security_user, analyst_user
) -> None:  # type: ignore[no-untyped-def]
    tick(START + timedelta(days=8))
    assert len(sent_to("sec@example.com")) == 1 and len(sent_to("ana@example.com")) == 1
    assert ReminderLog.objects.filter(recipient_key="security").count() == 1


def test_escalation_goes_to_the_team_manager_then_to_security(tick, timed, estate) -> None:  # type: ignore[no-untyped-def]
    tick(timed.due_at + timedelta(days=1))
    assert item_of(timed, estate.ci).reviewer == estate.olivia
    tick(timed.due_at + timedelta(days=2, hours=1))
    item = item_of(timed, estate.ci)
    assert (item.reviewer, item.escalation_level) == (estate.raj, 1)
    assert item.assigned_reason == AssignmentReason.ESCALATED_MANAGER
    raj_own = item_of(timed, estate.orphan_team)  # Raj already reviews it: his manager is none
    assert (raj_own.reviewer, raj_own.escalation_level) == (None, 2)
    tick(timed.due_at + timedelta(days=2, hours=5))  # the same tick again: nothing moves
    assert ReviewAssignment.objects.filter(item=item).count() == 1
    tick(timed.due_at + timedelta(days=4, hours=1))
    item = item_of(timed, estate.ci)
    assert (item.reviewer, item.escalation_level) == (None, 2)
    chain = list(
        ReviewAssignment.objects.filter(item=item).order_by("at").values_list("reason", "by")
    )
    assert chain == [("escalated_manager", None), ("escalated_security", None)]
    assert any("sent to you for review" in s for s in sent_to("raj.patel@example.com"))


def test_decided_items_are_not_escalated(tick, timed, estate) -> None:  # type: ignore[no-untyped-def]
    item_decide(item=item_of(timed, estate.ci), actor=estate.olivia, outcome="keep")
    tick(timed.due_at + timedelta(days=5))
    assert item_of(timed, estate.ci).reviewer == estate.olivia


def test_the_tick_applies_the_no_response_policy_at_the_end_of_the_grace_period(
    tick, timed
) -> None:  # type: ignore[no-untyped-def]
    assert tick(timed.closes_at - timedelta(minutes=1)).get("closing", 0) == 0
    assert tick(timed.closes_at)["closing"] == 1
    timed.refresh_from_db()
    assert timed.status == "closing"


def test_security_reminds_now_and_it_is_recorded(timed, security_user, estate) -> None:  # type: ignore[no-untyped-def]
    with freeze_time(START + timedelta(days=1)):
        sent = reminders_send_now(campaign=timed, actor=security_user, reviewer_id=estate.olivia.pk)
    assert sent == 1 and len(sent_to("olivia.park@example.com")) == 1
    log = ReminderLog.objects.get(kind=ReminderKind.MANUAL)
    assert log.sent_by == security_user
    with pytest.raises(NotAllowed):
        reminders_send_now(campaign=timed, actor=estate.olivia)


def test_security_escalates_now_one_level(timed, security_user, estate) -> None:  # type: ignore[no-untyped-def]
    with freeze_time(START + timedelta(days=1)):
        moved = escalate_now(campaign=timed, actor=security_user, reviewer_id=estate.olivia.pk)
    assert moved == 4
    assert item_of(timed, estate.ci).reviewer == estate.raj
    assert ReviewAssignment.objects.get(item=item_of(timed, estate.ci)).by == security_user


def test_extending_the_deadline_moves_the_reminders_and_the_policy(
    tick, timed, security_user
) -> None:  # type: ignore[no-untyped-def]
    tick(START + timedelta(days=8))
    new_due = timed.due_at + timedelta(days=10)
    with freeze_time(START + timedelta(days=9)):
        campaign_extend(campaign=timed, actor=security_user, due_at=new_due, reason="Holidays.")
    assert timed.closes_at == new_due + timedelta(days=7)
    with freeze_time(new_due - timedelta(days=6)):
        assert reminder_key(timed, new_due - timedelta(days=6)) == (
            "before",
            f"before:7:{new_due.date().isoformat()}",
        )
    before = len(sent_to("olivia.park@example.com"))
    tick(new_due - timedelta(days=6))
    assert len(sent_to("olivia.park@example.com")) == before + 1


def test_a_failing_mail_server_is_logged_and_does_not_stop_the_others(timed, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    with freeze_time(START + timedelta(days=8)):
        reminders_send(campaign=timed)
    logs = ReminderLog.objects.filter(kind=ReminderKind.BEFORE)
    assert logs.count() == 4 and all(log.error for log in logs)  # olivia, raj, bob, security
