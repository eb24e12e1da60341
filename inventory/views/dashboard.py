"""The dashboard: the inventory in numbers, each linking to the identities behind it.

Everything is counted over ``Identity.objects.visible_to(user)`` (an owner's dashboard is about
their identities); trends and discovery health are about the whole estate and shown to the
security team and auditors only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from inventory.choices import FindingStatus, RiskTier, RunStatus
from inventory.counts import (
    ACCOUNT_COLUMNS,
    BREAKDOWN_TITLES,
    BREAKDOWNS,
    GONE_STATES,
    HEADLINE,
    PRESENT_PARAMS,
    counts_by_account,
    inventory_counts,
    measure_url,
)
from inventory.models import Account, DiscoveryRun, Finding, Identity, Source
from inventory.trends import counts_weeks_ago, trend_chart
from inventory.views.access import may
from inventory.views.identity_listing import risk_rank

COUNTS_CACHE_SECONDS = 60
RISKIEST = 10
OPEN_CAMPAIGNS = 6
RECENT_FAILURES = 8
FAILURE_WINDOW = timedelta(days=7)
FAILED = (RunStatus.FAILED, RunStatus.PARTIAL)


def _breakdowns(counts: dict[str, int]) -> list[dict[str, Any]]:
    groups = []
    for name, measures in BREAKDOWNS.items():
        shown = [m for m in measures if counts[m.key]]
        top = max((counts[m.key] for m in shown), default=0)
        rows = [
            {
                "label": m.label,
                "value": counts[m.key],
                "url": measure_url(m),
                "key": m.key,
                "pct": round(100 * counts[m.key] / top, 1) if top else 0,
            }
            for m in shown
        ]
        groups.append({"name": name, "title": BREAKDOWN_TITLES[name], "rows": rows})
    return groups


def _cached_counts(
    user: Any, visible: QuerySet[Identity], everything: bool, *, fresh: bool
) -> dict[str, Any]:
    """Every count and the per-account table, kept ``COUNTS_CACHE_SECONDS``.

    Counting a million identities takes a couple of seconds (one pass for all the counts, one
    grouped by account); the dashboard shows when it counted, and the lists its numbers link to
    always count live. One cache entry for the whole estate, one per owner.
    """
    key = "console:dashboard:all" if everything else f"console:dashboard:user:{user.pk}"
    cached = None if fresh else cache.get(key)
    if cached is None:
        cached = {
            "counts": inventory_counts(visible),
            "accounts": counts_by_account(visible),
            "at": timezone.now(),
        }
        cache.set(key, cached, COUNTS_CACHE_SECONDS)
    return cached


def _accounts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [dict(row) for row in rows]
    for row in rows:
        account_id = row["account"].account_id
        row["cells"] = [
            {"value": row[m.key], "url": measure_url(m, ("account", account_id))}
            for m in ACCOUNT_COLUMNS
        ]
    return rows


def _riskiest(visible: QuerySet[Identity]) -> list[Identity]:
    """Critical identities first, then high, by name: the risk sort of the inventory, whose index
    makes this a read of ten index entries whatever the size of the estate."""
    found: list[Identity] = list(
        visible.filter(risk_tier__in=(RiskTier.CRITICAL, RiskTier.HIGH))
        .exclude(lifecycle_state__in=GONE_STATES)
        .annotate(_risk=risk_rank())
        .select_related("account", "owner", "owner_team")
        .order_by("-_risk", "name", "id")[:RISKIEST]
    )
    rules: dict[int, list[str]] = {}
    for identity_id, rule_id in (
        Finding.objects.filter(identity_id__in=[i.pk for i in found], status=FindingStatus.OPEN)
        .order_by("rule_id")
        .values_list("identity_id", "rule_id")
    ):
        rules.setdefault(identity_id, []).append(rule_id)
    for identity in found:
        identity.open_rules = rules.get(identity.pk, [])  # type: ignore[attr-defined]
    return found


def _discovery_health() -> dict[str, Any]:
    last_run = (
        DiscoveryRun.objects.filter(source=OuterRef("pk"), parent__isnull=True)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    sources = list(Source.objects.annotate(last_run_pk=Subquery(last_run)).order_by("name"))
    runs = DiscoveryRun.objects.in_bulk([s.last_run_pk for s in sources if s.last_run_pk])
    for source in sources:
        source.last_top_run = runs.get(source.last_run_pk)  # type: ignore[attr-defined]
    since = timezone.now() - FAILURE_WINDOW
    failures = list(
        DiscoveryRun.objects.filter(status__in=FAILED, created_at__gte=since)
        .select_related("source")
        .order_by("-created_at")[:RECENT_FAILURES]
    )
    failing_accounts = list(
        Account.objects.filter(last_run__status__in=FAILED)
        .select_related("last_run")
        .order_by("account_id")[:20]
    )
    return {"sources": sources, "failures": failures, "failing_accounts": failing_accounts}


def _campaigns(user: Any) -> list[Any]:
    """Open review campaigns the user can see, with their progress (one query): the whole
    campaign for who sees everything, the user's own part of it for anyone else.

    The reviews app is optional for the inventory: without it the section is left out.
    """
    if not apps.is_installed("reviews"):
        return []
    try:
        from reviews.choices import DECIDED_STATUSES, CampaignStatus
        from reviews.models import Campaign
    except ImportError:  # pragma: no cover - a build without reviews
        return []
    # The security team and auditors follow whole campaigns; anyone else their part of each
    # (the items they see, as their review queue shows them).
    mine = Q()
    if not may(user, "sees_all_identities"):
        from reviews.models import ReviewItem

        mine = Q(items__in=ReviewItem.objects.visible_to(user).values("pk"))
    decided = Q(items__status__in=list(DECIDED_STATUSES))
    campaigns: list[Any] = list(
        Campaign.objects.visible_to(user)
        .filter(status__in=(CampaignStatus.ACTIVE, CampaignStatus.CLOSING))
        .annotate(
            total_items=Count("items", filter=mine),
            decided_items=Count("items", filter=mine & decided),
        )
        .order_by("due_at", "pk")[:OPEN_CAMPAIGNS]
    )
    for campaign in campaigns:
        total = campaign.total_items
        campaign.percent = round(100 * campaign.decided_items / total) if total else 100
    return campaigns


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = Identity.objects.visible_to(user)
    everything = may(user, "sees_all_identities")
    counted = _cached_counts(user, visible, everything, fresh=request.GET.get("fresh") == "1")
    counts = counted["counts"]
    today = timezone.localdate()
    before = counts_weeks_ago(today=today) if everything else None
    headline = []
    for m in HEADLINE:
        change = counts[m.key] - before[m.key] if before and m.key in before else None
        headline.append(
            {
                "key": m.key,
                "label": m.label,
                "value": counts[m.key],
                "url": measure_url(m),
                "change": change,
                "change_abs": abs(change) if change is not None else None,
            }
        )
    context: dict[str, Any] = {
        "headline": headline,
        "breakdowns": _breakdowns(counts),
        "accounts": _accounts(counted["accounts"]),
        "counted_at": counted["at"],
        "cache_seconds": COUNTS_CACHE_SECONDS,
        "account_columns": ACCOUNT_COLUMNS,
        "riskiest": _riskiest(visible),
        "campaigns": _campaigns(user),
        "everything": everything,
        "present_query": "&".join(f"{k}={v}" for k, v in PRESENT_PARAMS),
    }
    if everything:
        context["trend"] = trend_chart(today=today, current=counts)
        context["health"] = _discovery_health()
    return render(request, "inventory/dashboard.html", context)
