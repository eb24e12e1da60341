"""Celery tasks: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from inventory.services import discovery


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3300)
def discover_source(run_id: int) -> None:
    """Execute a source run: one account, or list an Organization's accounts and fan out."""
    discovery.discovery_execute(run_id)


@shared_task(
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3300,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=3,
)
def discover_account(run_id: int) -> None:
    """Discover one account of an Organization run."""
    discovery.discovery_execute_account(run_id)


@shared_task(ignore_result=True)
def discover_due_sources() -> list[int]:
    """Beat: start the sources whose schedule is due."""
    return discovery.discover_due_sources(dispatch=discover_source.delay)


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def risk_full_pass() -> int:
    """Beat: re-evaluate every identity (time-based rules, suppressions that expired), split
    into id-range slices that the workers evaluate in parallel."""
    from inventory.services.risk import risk_full_pass_start

    return risk_full_pass_start(dispatch=_queue_risk_slice).pk


def _queue_risk_slice(pass_id: int, first_id: int, last_id: int | None) -> None:
    risk_evaluate_slice.delay(pass_id, first_id, last_id)


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3300)
def risk_evaluate_slice(pass_id: int, first_id: int, last_id: int | None) -> int:
    """One slice of a full risk pass (the last slice to finish closes the pass)."""
    from inventory.services.risk import risk_evaluate_slice as evaluate_slice

    return evaluate_slice(pass_id, first_id, last_id).pk


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def inventory_snapshot() -> int:
    """Beat: keep today's key counts for the dashboard's trends (rewrites today's row)."""
    from inventory.services.snapshots import snapshot_take

    return snapshot_take().pk


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def risk_evaluate_identities(identity_ids: list[int]) -> int:
    """Re-evaluate a few identities after a change that affects their findings (owner set)."""
    from inventory.services.risk import risk_evaluate

    return risk_evaluate(identity_ids=identity_ids).pk
