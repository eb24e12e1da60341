"""Template helpers for review pages. Output is plain text: autoescaping still applies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


@register.filter
def iso_ago(value: Any) -> str:
    """ "today", "yesterday", "12 days ago" or "never" for a datetime or an ISO string."""
    moment = _as_datetime(value)
    if moment is None:
        return "never"
    days = (timezone.now() - moment).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


@register.filter
def iso_date(value: Any) -> str:
    moment = _as_datetime(value)
    return f"{moment:%Y-%m-%d}" if moment else ""


@register.filter
def duration(seconds: Any) -> str:
    """A decision time: "4 s", "3 min", "2.5 h"."""
    if seconds is None or seconds == "":
        return "—"
    value = float(seconds)
    if value < 90:
        return f"{value:.0f} s"
    if value < 5400:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


@register.filter
def active_keys(snapshot: Any) -> int:
    keys = snapshot.get("access_keys", []) if isinstance(snapshot, dict) else []
    return sum(1 for k in keys if k.get("status") == "active")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def scope_text(scope: Any) -> str:
    from reviews.services.population import scope_label

    return scope_label(scope if isinstance(scope, dict) else {})


@register.filter
def percent(part: Any, whole: Any) -> int:
    try:
        return round(100 * int(part) / int(whole)) if int(whole) else 100
    except (TypeError, ValueError):
        return 0


@register.filter
def kind_label(value: Any) -> str:
    """ "IAM role" for ``iam_role`` (the snapshot keeps the raw value)."""
    from inventory.choices import IdentityKind

    try:
        return str(IdentityKind(value).label)
    except ValueError:
        return str(value)
