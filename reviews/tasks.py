"""Celery tasks: thin, take ids and JSON, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, time_limit=3600, soft_time_limit=3300)
def scheduled_campaigns_launch() -> list[int]:
    """Beat (daily): launch the scheduled campaigns whose cadence is due."""
    from reviews.services.schedule import scheduled_campaigns_launch as launch

    return [c.pk for c in launch()]


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def review_tick() -> dict[str, int]:
    """Beat (hourly): reminders, escalation, and the no-response policy at each deadline."""
    from reviews.services.reminders import review_tick as tick

    return tick()


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def review_exceptions_expire() -> int:
    """Beat (hourly): identities whose review exception ended leave ``excepted``."""
    from reviews.services.exceptions import exceptions_expire

    return exceptions_expire()


@shared_task(
    ignore_result=True,
    time_limit=600,
    soft_time_limit=540,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=3,
)
def campaign_notify_opened(campaign_id: int) -> int:
    """E-mail each reviewer of a campaign that just opened (once: the reminder log dedupes)."""
    from reviews.services.reminders import campaign_notify_opened as notify

    return notify(campaign_id=campaign_id)


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def review_trigger(identity_ids: list[int], reason: str) -> list[int]:
    """Open event-triggered reviews (identities already under review are skipped)."""
    from reviews.services.triggers import review_trigger as trigger

    return [c.pk for c in trigger(identity_ids=list(identity_ids), reason=reason)]
