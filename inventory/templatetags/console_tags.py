"""Template helpers of the console pages. Everything returns plain text (autoescaped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# url name -> the main navigation section it belongs to
_SECTIONS = {
    "dashboard": "dashboard",
    "identity-list": "inventory",
    "identity-detail": "inventory",
    "identity-bulk": "inventory",
    "my-identities": "mine",
    "source-list": "sources",
    "source-detail": "sources",
    "source-create": "sources",
    "source-edit": "sources",
    "source-test": "sources",
    "run-list": "runs",
    "run-detail": "runs",
    "team-list": "teams",
    "team-detail": "teams",
    "team-create": "teams",
    "team-edit": "teams",
    "team-member-add": "teams",
    "finding-list": "findings",
    "rule-list": "findings",
    "rule-detail": "findings",
    "risk-settings": "findings",
    "leak-list": "findings",
}


@register.simple_tag(takes_context=True)
def nav_section(context: dict[str, Any]) -> str:
    match = getattr(context.get("request"), "resolver_match", None)
    return _SECTIONS.get(getattr(match, "url_name", "") or "", "")


@register.simple_tag
def when(value: datetime | None, empty: str = "never") -> str:
    """A date as "3 months ago" with the exact date beside it (and in the tooltip).

    Built with ``format_html`` (every part escaped): a simple tag, not an included template,
    because the inventory renders it on every row.
    """
    if not value:
        return format_html('<span class="muted">{}</span>', empty)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time> <span class="sub nowrap">{}</span>',
        local.isoformat(),
        local.strftime("%Y-%m-%d %H:%M"),
        naturaltime(value),
        local.strftime("%Y-%m-%d"),
    )


@register.filter
def duration(seconds: float | None) -> str:
    """``75.2`` -> ``1 min 15 s``."""
    if seconds is None:
        return "—"
    total = round(float(seconds))
    if total < 60:
        return f"{max(total, 0)} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def age_days(value: datetime | None) -> int | None:
    """Whole days since ``value``."""
    if value is None:
        return None
    return max((timezone.now() - value).days, 0)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
