"""The discovery workflow: start a run of a source, fan out over accounts, reconcile, finish.

A source run holds the source's lock (``Source.active_run``) from start to finish, so two runs of
one source never interleave. An Organization run lists the accounts and creates one child run per
account, each its own Celery task (or executed inline by ``manage.py discover``); the parent
finishes when its last child does. Every run row records status, timings, counts, API calls and
errors, whatever happens.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from inventory.choices import RunStatus, RunTrigger, SourceKind
from inventory.connectors.base import AccountInventory, ConnectorError
from inventory.models import Account, DiscoveryRun, Source
from inventory.services.reconcile import reconcile_account
from inventory.services.risk import risk_evaluate
from nhigov.audit import audit_record

if TYPE_CHECKING:
    from inventory.connectors.aws import AwsConnector
    from nhigov.models import User

logger = logging.getLogger(__name__)

_COUNT_FIELDS = (
    "identities_seen",
    "new_count",
    "updated_count",
    "unchanged_count",
    "vanished_count",
    "reappeared_count",
    "api_calls",
    "throttled_retries",
)


class DiscoveryBusy(Exception):
    """The source already has a run in progress."""


def connector_for(source: Source) -> AwsConnector:
    """The connector that reads a source. Tests replace this to inject fakes."""
    from inventory.connectors.aws import AwsConnector

    return AwsConnector.from_settings()


def discovery_start(
    *, source: Source, trigger: str = RunTrigger.MANUAL, requested_by: User | None = None
) -> DiscoveryRun:
    """Create the source's run and take its lock; raises :class:`DiscoveryBusy` if it is held.

    A lock held by a run older than ``NHIGOV_DISCOVERY_LOCK_TIMEOUT`` is taken over, and that run
    is marked failed (its worker died).
    """
    now = timezone.now()
    with transaction.atomic():
        run = DiscoveryRun.objects.create(
            source=source,
            trigger=trigger,
            requested_by=requested_by,
            account_id=source.account_id if source.kind == SourceKind.AWS_ACCOUNT else "",
        )
        expired = now - settings.NHIGOV_DISCOVERY_LOCK_TIMEOUT
        previous = (
            Source.objects.filter(pk=source.pk).values_list("active_run_id", flat=True).first()
        )
        claimed = Source.objects.filter(
            Q(active_run__isnull=True) | Q(active_run__created_at__lt=expired), pk=source.pk
        ).update(active_run=run)
        if not claimed:
            raise DiscoveryBusy(
                f"Source {source.name!r} already has a discovery in progress (run {previous})."
            )
        if previous:
            _abandon(previous, now)
    return run


def _abandon(run_id: int, now: Any) -> None:
    message = {"code": "Abandoned", "message": "The run did not finish in time; lock taken over."}
    for run in DiscoveryRun.objects.filter(
        Q(pk=run_id) | Q(parent_id=run_id), status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ):
        run.status = RunStatus.FAILED
        run.finished_at = now
        run.errors = [*run.errors, message]
        run.save(update_fields=["status", "finished_at", "errors"])


def discovery_execute(run_id: int, *, inline: bool = False) -> DiscoveryRun | None:
    """Run a source-level discovery. ``inline``: do the accounts here instead of queuing tasks.

    Idempotent: a run already finished (or gone) is left as it is.
    """
    run = DiscoveryRun.objects.select_related("source").filter(pk=run_id).first()
    if run is None or run.is_finished or run.parent_id is not None:
        return run
    if not _mark_running(run):
        return run
    source = run.source
    if source.kind == SourceKind.AWS_ACCOUNT:
        _discover_account(run, source.account_id, role_name=source.role_name)
        return _finish_source_run(run)
    try:
        accounts = connector_for(source).list_accounts()
    except ConnectorError as exc:
        _fail(run, [exc.as_dict()])
        return _finish_source_run(run)
    children: list[DiscoveryRun] = []
    skipped: list[dict[str, str]] = []
    for info in accounts:
        account, _ = Account.objects.update_or_create(
            provider=source.provider,
            account_id=info.account_id,
            defaults={
                "name": info.name[:255],
                "email": info.email[:255],
                "source": source,
                "is_management": info.is_management,
            },
        )
        if info.status != "ACTIVE":
            skipped.append(
                {
                    "account_id": info.account_id,
                    "code": "Skipped",
                    "message": f"Account status is {info.status}.",
                }
            )
            continue
        children.append(
            DiscoveryRun.objects.create(
                source=source,
                parent=run,
                account_id=account.account_id,
                trigger=run.trigger,
                requested_by=run.requested_by,
            )
        )
    if skipped:
        DiscoveryRun.objects.filter(pk=run.pk).update(errors=run.errors + skipped)
    if not children:
        return _finish_source_run(run)
    if inline:
        for child in children:
            discovery_execute_account(child.pk)
    else:
        from inventory.tasks import discover_account

        ids = [child.pk for child in children]
        transaction.on_commit(lambda: [discover_account.delay(pk) for pk in ids])
    run.refresh_from_db()
    return run


def discovery_execute_account(run_id: int) -> DiscoveryRun | None:
    """Discover one account of an Organization run; the last child finishes the parent."""
    run = DiscoveryRun.objects.select_related("source").filter(pk=run_id).first()
    if run is None or run.is_finished or run.parent_id is None:
        return run
    if not _mark_running(run):
        return run
    account = Account.objects.filter(
        provider=run.source.provider, account_id=run.account_id
    ).first()
    role_name = run.source.role_name
    if account is not None and account.is_management:
        role_name = ""  # read directly with the management account's own credentials
    _discover_account(run, run.account_id, role_name=role_name)
    _maybe_finish_parent(run.parent_id)
    run.refresh_from_db()
    return run


def _mark_running(run: DiscoveryRun) -> bool:
    """Claim a queued run (healthchecks-style: one conditional UPDATE, exactly one winner)."""
    now = timezone.now()
    claimed = DiscoveryRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now
    )
    run.status, run.started_at = RunStatus.RUNNING, now
    return claimed == 1


def _discover_account(run: DiscoveryRun, account_id: str, *, role_name: str) -> None:
    """Read one account with the connector and reconcile it into the inventory."""
    source = run.source
    connector = connector_for(source)
    inventory: AccountInventory | None = None
    try:
        # Without a role the connector checks that the credentials belong to this account.
        inventory = connector.discover_account(
            account_id,
            role_name=role_name,
            external_id=source.external_id if role_name else "",
            regions=source.effective_regions,
        )
        account, _ = Account.objects.get_or_create(
            provider=source.provider, account_id=account_id, defaults={"source": source}
        )
        result = reconcile_account(
            account=account, inventory=inventory, now=timezone.now(), run=run
        )
    except ConnectorError as exc:
        _fail(run, [{"account_id": account_id, **exc.as_dict()}], inventory)
        return
    except Exception as exc:  # recorded on the run, never lost in a worker log only
        logger.exception("Discovery of account %s failed (run %s)", account_id, run.pk)
        _fail(
            run,
            [{"account_id": account_id, "code": type(exc).__name__, "message": str(exc)}],
            inventory,
        )
        return
    errors = [{"account_id": account_id, **e} for e in inventory.errors]
    try:
        if result.touched_ids:
            risk_evaluate(identity_ids=result.touched_ids, run=run)
    except Exception as exc:  # the inventory is written; the next full pass evaluates it
        logger.exception("Risk evaluation after run %s failed", run.pk)
        errors.append(
            {
                "account_id": account_id,
                "operation": "RiskEvaluation",
                "code": type(exc).__name__,
                "message": str(exc),
            }
        )
    DiscoveryRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED if inventory.complete else RunStatus.PARTIAL,
        finished_at=timezone.now(),
        identities_seen=result.seen,
        new_count=result.new,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        vanished_count=result.vanished,
        reappeared_count=result.reappeared,
        complete=inventory.complete,
        vanish_applied=result.vanish_applied,
        api_calls=inventory.api_call_total,
        api_calls_by_operation=inventory.api_calls,
        throttled_retries=inventory.throttled_retries,
        errors=errors,
    )


def _fail(
    run: DiscoveryRun, errors: list[dict[str, str]], inventory: AccountInventory | None = None
) -> None:
    updates: dict[str, Any] = {
        "status": RunStatus.FAILED,
        "finished_at": timezone.now(),
        "errors": list(run.errors) + errors,
        "complete": False,
    }
    if inventory is not None:
        updates["api_calls"] = inventory.api_call_total
        updates["api_calls_by_operation"] = inventory.api_calls
    DiscoveryRun.objects.filter(pk=run.pk).update(**updates)


def _maybe_finish_parent(parent_id: int | None) -> None:
    if parent_id is None:
        return
    with transaction.atomic():
        parent = DiscoveryRun.objects.select_for_update().select_related("source").get(pk=parent_id)
        if parent.is_finished:
            return
        if parent.children.exclude(
            status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED]
        ).exists():
            return
        _finish_source_run(parent)


def _finish_source_run(run: DiscoveryRun) -> DiscoveryRun:
    """Aggregate children (for an Organization), set the final status, release the source lock."""
    now = timezone.now()
    run.refresh_from_db()
    children = list(run.children.all())
    if children:
        totals = run.children.aggregate(**{f: Sum(f) for f in _COUNT_FIELDS})
        for name in _COUNT_FIELDS:
            setattr(run, name, totals[name] or 0)
        statuses = {c.status for c in children}
        failed = sum(1 for c in children if c.status == RunStatus.FAILED)
        if statuses == {RunStatus.SUCCEEDED} and not run.errors:
            run.status = RunStatus.SUCCEEDED
        elif failed == len(children):
            run.status = RunStatus.FAILED
        else:
            run.status = RunStatus.PARTIAL
        run.complete = run.status == RunStatus.SUCCEEDED
        run.vanish_applied = any(c.vanish_applied for c in children)
        operations: dict[str, int] = {}
        for child in children:
            for op, count in (child.api_calls_by_operation or {}).items():
                operations[op] = operations.get(op, 0) + int(count)
        run.api_calls_by_operation = operations
    elif run.status == RunStatus.RUNNING:
        run.status = RunStatus.FAILED if run.errors else RunStatus.SUCCEEDED
    run.finished_at = run.finished_at or now
    run.save()
    audit_record(
        verb="discovery.run_finished",
        actor="discovery",
        obj=run,
        details={
            "source": run.source.name,
            "status": run.status,
            "trigger": run.trigger,
            "counts": {name: getattr(run, name) for name in _COUNT_FIELDS},
            "accounts": {c.account_id: c.status for c in children},
            "errors": len(run.errors) + sum(len(c.errors) for c in children),
        },
    )
    schedule = run.source.schedule_minutes
    Source.objects.filter(pk=run.source_id, active_run=run).update(active_run=None)
    Source.objects.filter(pk=run.source_id).update(
        last_run_at=now, next_run_at=now + timedelta(minutes=schedule) if schedule else None
    )
    return run


def sources_due(now: Any = None) -> list[Source]:
    """Enabled sources whose schedule is due and that are not running."""
    now = now or timezone.now()
    return list(
        Source.objects.filter(
            enabled=True,
            schedule_minutes__isnull=False,
            active_run__isnull=True,
            next_run_at__lte=now,
        ).order_by(F("next_run_at").asc(nulls_first=True))
    )


def discover_due_sources(dispatch: Callable[[int], Any]) -> list[int]:
    """Start a run for each due source and hand its id to ``dispatch``; returns the run ids."""
    started: list[int] = []
    for source in sources_due():
        try:
            run = discovery_start(source=source, trigger=RunTrigger.SCHEDULE)
        except DiscoveryBusy:
            continue
        started.append(run.pk)
        transaction.on_commit(functools.partial(dispatch, run.pk))
    return started


def run_tree_summary(run: DiscoveryRun) -> dict[str, Any]:
    """A source run with its per-account children, as printed by ``discover --json``."""
    data = run.summary()
    data["accounts"] = [child.summary() for child in run.children.order_by("account_id")]
    return data
