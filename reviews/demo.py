"""The demo's quarterly review: launched by the schedule five days ago, half-way through.

``ensure_demo_campaign()`` (idempotent, called by ``manage.py demo`` after discovery) launches the
scheduled campaign as the beat would have, with its clock started five days ago (due in nine
days), then replays what the other reviewers did since, through the real services:

* Raj Patel (platform's manager) decided all his items, one every minute or two, handed one over
  to Olivia, and signed off his queue;
* Mei Chen decided about half of hers;
* Diego Santos kept a dozen items within seconds (the rubber-stamp indicator shows it);
* Nora Berg did nothing yet (someone to remind or escalate).

The owner persona (Olivia Park) finds her queue untouched: tens of items with recommendations,
one handover waiting for her answer, a self-review (an IAM user she uses herself). The security
persona can remind, escalate, extend, move to closing and sign off. Because the campaign is
back-dated, its audit events carry those earlier times (the chain itself is intact).
"""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta

from django.utils import timezone

from inventory.models import Identity
from nhigov.models import User
from reviews.choices import CampaignKind, CampaignStatus, ItemStatus, Outcome, Recommendation
from reviews.models import Campaign, ReviewItem
from reviews.services.decisions import item_decide, queue_sign_off
from reviews.services.schedule import scheduled_campaigns_launch
from reviews.states import ReviewError

STARTED_DAYS_AGO = 5
KEEP_REASONS = (
    "Runs the nightly deploy pipeline; checked with the team this week.",
    "Production service identity, in use every day; owner confirmed.",
    "Needed by the batch jobs until the migration to roles in Q1.",
    "Still used by the integration; key rotation ticket PLAT-412 is open.",
)
DEPROVISION_REASONS = (
    "Replaced by the OIDC role last quarter; nothing uses it any more.",
    "Leftover from a decommissioned service.",
    "Test identity nobody owns any more.",
)


def ensure_demo_campaign(*, now: datetime | None = None) -> Campaign | None:
    """The demo's scheduled campaign, launched and half-reviewed once; then returned as is."""
    existing = (
        Campaign.objects.filter(kind=CampaignKind.SCHEDULED)
        .exclude(status=CampaignStatus.CANCELED)
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing
    if not Identity.objects.exists():
        return None
    now = now or timezone.now()
    start = now - timedelta(days=STARTED_DAYS_AGO)
    launched = scheduled_campaigns_launch(now=start)
    if not launched:
        return None
    campaign = launched[0]
    _replay_other_reviewers(campaign, start=start)
    return campaign


def _items(campaign: Campaign, username: str) -> list[ReviewItem]:
    return list(
        ReviewItem.objects.filter(
            campaign=campaign, reviewer__username=username, status=ItemStatus.PENDING
        )
        .select_related("campaign", "reviewer")
        .order_by("-priority", "name", "id")
    )


def _decide(
    item: ReviewItem, actor: User, outcome: str, reason: str, at: datetime, **extra: object
) -> bool:
    item.refresh_from_db()
    try:
        item_decide(item=item, actor=actor, outcome=outcome, justification=reason, now=at, **extra)  # type: ignore[arg-type]
    except ReviewError:
        return False
    return True


def _replay_other_reviewers(campaign: Campaign, *, start: datetime) -> None:
    rng = random.Random(20261204)
    people = {u.username: u for u in User.objects.all()}
    raj, mei, diego = people.get("raj.patel"), people.get("mei.chen"), people.get("diego.santos")
    olivia = people.get("owner")

    if raj is not None:
        at = start + timedelta(days=1, hours=9)
        handed_over = False
        for item in _items(campaign, raj.username):
            at += timedelta(seconds=rng.randint(45, 240))
            if (
                not handed_over
                and olivia is not None
                and item.recommendation == Recommendation.KEEP
            ):
                handed_over = _decide(
                    item,
                    raj,
                    Outcome.HANDOVER,
                    "Olivia's team runs this pipeline now.",
                    at,
                    handover_to=olivia,
                )
                if handed_over:
                    continue
            if item.recommendation == Recommendation.DEPROVISION:
                _decide(item, raj, Outcome.DEPROVISION, rng.choice(DEPROVISION_REASONS), at)
            else:
                _decide(item, raj, Outcome.KEEP, rng.choice(KEEP_REASONS), at)
        with contextlib.suppress(ReviewError):
            queue_sign_off(campaign=campaign, actor=raj, now=at + timedelta(minutes=2))

    if mei is not None:
        items = _items(campaign, mei.username)
        at = start + timedelta(days=2, hours=14)
        for item in items[: len(items) // 2]:
            at += timedelta(seconds=rng.randint(60, 300))
            if item.recommendation == Recommendation.DEPROVISION:
                _decide(item, mei, Outcome.DEPROVISION, rng.choice(DEPROVISION_REASONS), at)
            else:
                _decide(item, mei, Outcome.KEEP, rng.choice(KEEP_REASONS), at)

    if diego is not None:
        at = start + timedelta(days=3, hours=17, minutes=55)
        for item in _items(campaign, diego.username)[:12]:
            at += timedelta(seconds=rng.randint(1, 3))
            _decide(item, diego, Outcome.KEEP, "Still needed.", at)
