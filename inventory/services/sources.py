"""Creating and changing discovery sources, validated before anything is saved."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.choices import SourceKind
from inventory.models import Source
from nhigov.audit import audit_record
from nhigov.models import User


def parse_regions(value: str | list[str] | None) -> list[str]:
    """``"us-east-1, eu-west-1"`` -> ``["us-east-1", "eu-west-1"]``; validation is the model's."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item and item.strip()]


def source_create(
    *,
    name: str,
    kind: str,
    account_id: str = "",
    role_name: str = "",
    external_id: str = "",
    regions: list[str] | None = None,
    schedule_minutes: int | None = 1440,
    enabled: bool = True,
    actor: User | None = None,
) -> Source:
    """Validate and save a source; a malformed one raises ValidationError and nothing is saved."""
    source = Source(
        name=(name or "").strip(),
        kind=(kind or "").strip(),
        account_id=(account_id or "").strip(),
        role_name=(role_name or "").strip(),
        external_id=(external_id or "").strip(),
        regions=regions or [],
        schedule_minutes=schedule_minutes,
        enabled=enabled,
        created_by=actor,
    )
    if source.kind == SourceKind.AWS_ORGANIZATION and not source.role_name:
        # Members are always entered through a role; the management account is read directly.
        from django.conf import settings

        source.role_name = settings.NHIGOV_AWS_DEFAULT_ROLE_NAME
    source.full_clean()
    source.next_run_at = timezone.now() if schedule_minutes else None
    with transaction.atomic():
        source.save()
        audit_record(verb="source.created", actor=actor, obj=source, after=_source_settings(source))
    return source


def _source_settings(source: Source) -> dict[str, Any]:
    """What an auditor needs to see of a source (the ExternalId itself is not repeated)."""
    return {
        "name": source.name,
        "kind": source.kind,
        "account_id": source.account_id,
        "role_name": source.role_name,
        "external_id_set": bool(source.external_id),
        "regions": list(source.regions),
        "schedule_minutes": source.schedule_minutes,
        "enabled": source.enabled,
    }


def source_update(*, source: Source, actor: User | None = None, **changes: Any) -> Source:
    """Change a source's settings; invalid values raise ValidationError and nothing is saved."""
    allowed = {
        "name",
        "kind",
        "account_id",
        "role_name",
        "external_id",
        "regions",
        "schedule_minutes",
        "enabled",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Unknown source settings: {', '.join(sorted(unknown))}.")
    fresh = Source.objects.get(pk=source.pk)
    before = _source_settings(fresh)
    for key, value in changes.items():
        setattr(fresh, key, value.strip() if isinstance(value, str) else value)
    fresh.full_clean()
    with transaction.atomic():
        fresh.save()
        audit_record(
            verb="source.updated",
            actor=actor,
            obj=fresh,
            before=before,
            after=_source_settings(fresh),
        )
    return fresh
