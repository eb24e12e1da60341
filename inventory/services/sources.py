"""Creating and changing discovery sources, validated before anything is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.choices import RunTrigger, SourceKind
from inventory.models import DiscoveryRun, Source
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
    if fresh.kind == SourceKind.AWS_ORGANIZATION and not fresh.role_name:
        from django.conf import settings

        fresh.role_name = settings.NHIGOV_AWS_DEFAULT_ROLE_NAME
    fresh.full_clean()
    if (fresh.schedule_minutes, fresh.enabled) != (before["schedule_minutes"], before["enabled"]):
        fresh.next_run_at = _next_run(fresh)
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


def _next_run(source: Source) -> datetime | None:
    """When a changed schedule next runs: a schedule since the last run, at once if overdue."""
    if not source.schedule_minutes:
        return None
    now = timezone.now()
    if source.last_run_at is None:
        return now
    return max(now, source.last_run_at + timedelta(minutes=source.schedule_minutes))


def source_test_connection(*, source: Source, actor: User) -> ConnectionTest:
    """Check that nhigov can read the source: ``sts:GetCallerIdentity`` and one IAM read call.

    An Organization is tested with the credentials nhigov reads its management account with;
    an account with the role it assumes there. Denials come back as a clear result, not an error.
    """
    from inventory.services.discovery import connector_for

    if not actor.can_administer:
        raise PermissionError("Only a security admin can test a source.")
    role_name = source.role_name if source.kind == SourceKind.AWS_ACCOUNT else ""
    account_id = source.account_id
    try:
        result = connector_for(source).test_connection(
            account_id,
            role_name=role_name,
            external_id=source.external_id if role_name else "",
        )
    except Exception as exc:  # a broken setup (no region, bad endpoint) is a result too
        result = {
            "ok": False,
            "account_id": account_id,
            "arn": "",
            "error": {"code": type(exc).__name__, "message": str(exc), "operation": ""},
        }
    error = result.get("error") or {}
    return ConnectionTest(
        ok=bool(result.get("ok")),
        account_id=str(result.get("account_id") or ""),
        arn=str(result.get("arn") or ""),
        role_name=role_name,
        error_code=str(error.get("code") or ""),
        error_message=str(error.get("message") or ""),
        error_operation=str(error.get("operation") or ""),
    )


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of :func:`source_test_connection`, for the page."""

    ok: bool
    account_id: str
    arn: str
    role_name: str
    error_code: str = ""
    error_message: str = ""
    error_operation: str = ""

    @property
    def denied(self) -> bool:
        return self.error_code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def source_run_now(*, source: Source, actor: User) -> DiscoveryRun:
    """Start a discovery of the source now (queued after commit); raises ``DiscoveryBusy``."""
    from inventory.services.discovery import discovery_start
    from inventory.tasks import discover_source

    if not actor.can_administer:
        raise PermissionError("Only a security admin can run a discovery.")
    with transaction.atomic():
        run = discovery_start(source=source, trigger=RunTrigger.MANUAL, requested_by=actor)
        transaction.on_commit(lambda: discover_source.delay(run.pk))
    return run
