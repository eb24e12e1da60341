"""The audit log page: every event, filterable, with the chain's status and head."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from nhigov.audit import audit_verify, chain_head
from nhigov.filtersets import AuditEventFilterSet
from nhigov.models import AuditEvent, AuditVerification
from nhigov.permissions import current_user

PAGE_SIZE = 100


def _readers_only(request: HttpRequest) -> None:
    """Security and auditors read the trail; owners do not."""
    if not current_user(request).sees_all_identities:
        raise PermissionDenied


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Newest first; ``?before=SEQ`` pages back in constant time at any depth."""
    _readers_only(request)
    filterset = AuditEventFilterSet(request.GET or None, queryset=AuditEvent.objects.all())
    queryset = filterset.qs if filterset.is_bound else AuditEvent.objects.all()
    before = request.GET.get("before", "")
    if before.isdigit():
        queryset = queryset.filter(seq__lt=int(before))
    events = list(queryset.order_by("-seq")[: PAGE_SIZE + 1])
    has_more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    params = request.GET.copy()
    params.pop("before", None)
    head_seq, head_hash = chain_head()
    context: dict[str, Any] = {
        "filterset": filterset,
        "events": events,
        "next_before": events[-1].seq if has_more and events else None,
        "query": params.urlencode(),
        "head_seq": head_seq,
        "head_hash": head_hash,
        "verification": AuditVerification.objects.first(),
    }
    htmx = getattr(request, "htmx", None)
    template = (
        "audit/_event_table.html" if htmx and not htmx.history_restore_request else "audit/log.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def audit_verify_now(request: HttpRequest) -> HttpResponse:
    """Recompute the chain now (a check, not a change: auditors may run it)."""
    _readers_only(request)
    status = audit_verify()
    if status.ok:
        messages.success(request, f"Audit trail intact: {status.checked} events verified.")
    else:
        messages.error(request, f"Audit trail BROKEN: {status.message}")
    return redirect("audit-log")
