"""The schedule: scheduled campaigns per risk-tier cadence (a beat task, daily).

Tiers sharing a cadence form one series (``critical+high+medium+low/90d`` by default, every
tier quarterly); a series launches when its last campaign is at least its cadence old. A unique
``(schedule_key, schedule_period)`` stops two beats from launching one period twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from reviews.choices import CampaignKind, CampaignStatus
from reviews.models import Campaign
from reviews.services.campaigns import SCHEDULED_SCOPE, TIERS, campaign_launch
from reviews.states import ReviewError

# --- The schedule -----------------------------------------------------------------------------


def schedule_series() -> list[tuple[str, list[str], int]]:
    """The scheduled series: tiers sharing a cadence are reviewed together.

    ``[("critical+high+medium+low/90d", [...], 90)]`` by default (quarterly for everything).
    """
    by_days: dict[int, list[str]] = defaultdict(list)
    for tier in TIERS:
        by_days[settings.NHIGOV_REVIEW_CADENCE_DAYS[tier]].append(tier)
    return [(f"{'+'.join(tiers)}/{days}d", tiers, days) for days, tiers in sorted(by_days.items())]


def scheduled_name(tiers: list[str], days: int, now: datetime) -> str:
    if days == 90:
        base = f"Quarterly access review {now.year}-Q{(now.month - 1) // 3 + 1}"
    elif days in (30, 31):
        base = f"Monthly access review {now:%Y-%m}"
    elif days in (180, 182, 183):
        base = f"Half-yearly access review {now.year}-H{1 if now.month <= 6 else 2}"
    else:
        base = f"Access review (every {days} days) {now:%Y-%m-%d}"
    if len(tiers) == len(TIERS):
        return base
    return f"{base}: {' and '.join(tiers)} tier{'s' if len(tiers) > 1 else ''}"


def scheduled_campaigns_launch(*, now: datetime | None = None) -> list[Campaign]:
    """Beat: launch each series whose last campaign is at least its cadence old (idempotent)."""
    now = now or timezone.now()
    launched: list[Campaign] = []
    for key, tiers, days in schedule_series():
        last = (
            Campaign.objects.filter(schedule_key=key)
            .exclude(status=CampaignStatus.CANCELED)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and last > now - timedelta(days=days):
            continue
        scope = dict(SCHEDULED_SCOPE)
        if len(tiers) != len(TIERS):
            scope["risk_tier"] = list(tiers)
        try:
            launched.append(
                campaign_launch(
                    name=scheduled_name(tiers, days, now),
                    scope=scope,
                    actor=None,
                    kind=CampaignKind.SCHEDULED,
                    schedule_key=key,
                    schedule_period=now.date().isoformat(),
                    now=now,
                )
            )
        except IntegrityError:
            continue  # another beat launched this period first
        except ReviewError:
            continue  # nothing to review in this series yet
    return launched
