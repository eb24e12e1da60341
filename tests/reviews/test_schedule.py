"""Scheduled campaigns: per risk-tier cadence, idempotent, and on the beat schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nhigov.celery import beat_schedule
from reviews.models import Campaign
from reviews.services.schedule import schedule_series, scheduled_campaigns_launch

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 10, 2, 6, tzinfo=UTC)


def test_quarterly_by_default_for_every_tier(settings) -> None:  # type: ignore[no-untyped-def]
    assert schedule_series() == [
        ("critical+high+medium+low/90d", ["critical", "high", "medium", "low"], 90)
    ]


def test_the_schedule_launches_once_per_cadence(estate) -> None:  # type: ignore[no-untyped-def]
    first = scheduled_campaigns_launch(now=NOW)
    assert [c.name for c in first] == ["Quarterly access review 2026-Q4"]
    assert first[0].kind == "scheduled" and first[0].created_by is None
    assert "human" not in first[0].scope["classification"]
    assert scheduled_campaigns_launch(now=NOW + timedelta(days=30)) == []
    assert len(scheduled_campaigns_launch(now=NOW + timedelta(days=91))) == 1
    assert Campaign.objects.count() == 2


def test_tiers_can_have_their_own_cadence(estate, settings) -> None:  # type: ignore[no-untyped-def]
    settings.NHIGOV_REVIEW_CADENCE_DAYS = {"critical": 30, "high": 90, "medium": 180, "low": 180}
    launched = scheduled_campaigns_launch(now=NOW)
    assert sorted(c.name for c in launched) == [
        "Half-yearly access review 2026-H2: medium and low tiers",
        "Monthly access review 2026-10: critical tier",
    ]  # no high-tier identity in the estate: that series waits
    critical = next(c for c in launched if "critical" in c.name)
    assert critical.scope["risk_tier"] == ["critical"] and critical.population_count == 1
    assert [c.name for c in scheduled_campaigns_launch(now=NOW + timedelta(days=31))] == [
        "Monthly access review 2026-11: critical tier"
    ]


def test_the_beat_schedule_has_the_review_tasks() -> None:
    schedule = beat_schedule(300, 3600)
    assert (
        schedule["reviews-scheduled-campaigns"]["task"]
        == "reviews.tasks.scheduled_campaigns_launch"
    )
    assert schedule["reviews-tick"]["task"] == "reviews.tasks.review_tick"
    assert schedule["reviews-tick"]["options"]["expires"] < schedule["reviews-tick"]["schedule"]
    expire = schedule["reviews-exceptions-expire"]
    assert expire["task"] == "reviews.tasks.review_exceptions_expire"
    assert expire["options"]["expires"] < expire["schedule"]
