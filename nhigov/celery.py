"""The Celery application and the one place where the beat schedule is defined.

Without ``REDIS_URL`` tasks run in-process (eager); with it they go to Redis and workers.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nhigov.settings")

app = Celery("nhigov")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule(
    tick_seconds: int,
    risk_pass_seconds: int,
    audit_verify_seconds: int = 86400,
    snapshot_seconds: int = 6 * 3600,
    *,
    review_tick_seconds: int = 3600,
    review_schedule_seconds: int = 86400,
) -> dict[str, dict[str, object]]:
    """The periodic tasks, each expiring just before its next run so a backlog never piles up."""
    return {
        "discover-due-sources": {
            "task": "inventory.tasks.discover_due_sources",
            "schedule": float(tick_seconds),
            "options": {"expires": max(tick_seconds - 5, 1)},
        },
        "risk-full-pass": {
            "task": "inventory.tasks.risk_full_pass",
            "schedule": float(risk_pass_seconds),
            "options": {"expires": max(risk_pass_seconds - 60, 1)},
        },
        "verify-audit-trail": {
            "task": "nhigov.tasks.verify_audit_trail",
            "schedule": float(audit_verify_seconds),
            "options": {"expires": max(audit_verify_seconds - 60, 1)},
        },
        "inventory-snapshot": {
            "task": "inventory.tasks.inventory_snapshot",
            "schedule": float(snapshot_seconds),
            "options": {"expires": max(snapshot_seconds - 60, 1)},
        },
        # Access reviews: scheduled campaigns per tier cadence; reminders, escalation, deadlines.
        "reviews-scheduled-campaigns": {
            "task": "reviews.tasks.scheduled_campaigns_launch",
            "schedule": float(review_schedule_seconds),
            "options": {"expires": max(review_schedule_seconds - 60, 1)},
        },
        "reviews-tick": {
            "task": "reviews.tasks.review_tick",
            "schedule": float(review_tick_seconds),
            "options": {"expires": max(review_tick_seconds - 60, 1)},
        },
        # Review exceptions (keeps with an end date) that ended: excepted -> active.
        "reviews-exceptions-expire": {
            "task": "reviews.tasks.review_exceptions_expire",
            "schedule": float(review_tick_seconds),
            "options": {"expires": max(review_tick_seconds - 60, 1)},
        },
    }


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **_: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(
        settings.NHIGOV_DISCOVERY_TICK_SECONDS,
        settings.NHIGOV_RISK_PASS_SECONDS,
        settings.NHIGOV_AUDIT_VERIFY_SECONDS,
        settings.NHIGOV_SNAPSHOT_SECONDS,
        review_tick_seconds=settings.NHIGOV_REVIEW_TICK_SECONDS,
    )
