"""Sources: list, add, edit, test the connection, run a discovery now.

The security team and auditors read; only a security admin (``can_administer``) changes a
source, tests it or runs it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inventory.forms import SourceForm
from inventory.models import Account, DiscoveryRun, Source
from inventory.services.discovery import DiscoveryBusy
from inventory.services.sources import (
    ConnectionTest,
    source_create,
    source_run_now,
    source_test_connection,
    source_update,
)
from inventory.views.access import capability_required, may, sources_visible_to

RECENT_RUNS = 20


def with_last_run(sources: QuerySet[Source]) -> list[Any]:
    """Sources with ``last_top_run``: their latest source-level run (two queries in all)."""
    latest = (
        DiscoveryRun.objects.filter(source=OuterRef("pk"), parent__isnull=True)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    rows: list[Any] = list(
        sources.annotate(last_run_pk=Subquery(latest), account_count=Count("accounts")).order_by(
            "name"
        )
    )
    runs = DiscoveryRun.objects.in_bulk([s.last_run_pk for s in rows if s.last_run_pk])
    for source in rows:
        source.last_top_run = runs.get(source.last_run_pk)
    return rows


@capability_required("sees_all_identities")
def source_list(request: HttpRequest) -> HttpResponse:
    sources = with_last_run(sources_visible_to(request.user))
    return render(
        request,
        "inventory/source_list.html",
        {"sources": sources, "can_administer": may(request.user, "can_administer")},
    )


def _source_or_404(request: HttpRequest, pk: int) -> Source:
    return get_object_or_404(sources_visible_to(request.user), pk=pk)


def _detail_context(
    request: HttpRequest, source: Source, test: ConnectionTest | None = None
) -> dict[str, Any]:
    runs = list(
        DiscoveryRun.objects.filter(source=source, parent__isnull=True)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:RECENT_RUNS]
    )
    accounts = list(
        Account.objects.filter(source=source).select_related("last_run").order_by("account_id")
    )
    return {
        "source": source,
        "runs": runs,
        "accounts": accounts,
        "test": test,
        "can_administer": may(request.user, "can_administer"),
    }


@capability_required("sees_all_identities")
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = _source_or_404(request, pk)
    return render(request, "inventory/source_detail.html", _detail_context(request, source))


@capability_required("can_administer")
def source_create_view(request: HttpRequest) -> HttpResponse:
    form = SourceForm(request.POST or None, initial={"schedule_minutes": 1440, "enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            source = source_create(**form.settings(), actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_model_errors(exc.message_dict if hasattr(exc, "error_dict") else {})
            if not hasattr(exc, "error_dict"):
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request, f"Source {source.name} added. Test the connection, then run it."
            )
            return redirect("inventory:source-detail", pk=source.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/source_form.html", {"form": form, "source": None}, status=status
    )


@capability_required("can_administer")
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = _source_or_404(request, pk)
    form = SourceForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            source = source_update(source=source, actor=request.user, **form.settings())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_model_errors(exc.message_dict if hasattr(exc, "error_dict") else {})
            if not hasattr(exc, "error_dict"):
                form.add_error(None, exc.messages)
        else:
            messages.success(request, f"Source {source.name} saved.")
            return redirect("inventory:source-detail", pk=source.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/source_form.html", {"form": form, "source": source}, status=status
    )


@require_POST
@capability_required("can_administer")
def source_test(request: HttpRequest, pk: int) -> HttpResponse:
    """sts:GetCallerIdentity and one read call, with the role the source would use."""
    source = _source_or_404(request, pk)
    test = source_test_connection(source=source, actor=request.user)  # type: ignore[arg-type]
    htmx = getattr(request, "htmx", None)
    if htmx:
        return render(request, "inventory/_source_test_result.html", {"test": test})
    return render(request, "inventory/source_detail.html", _detail_context(request, source, test))


@require_POST
@capability_required("can_administer")
def source_run(request: HttpRequest, pk: int) -> HttpResponse:
    source = _source_or_404(request, pk)
    try:
        run = source_run_now(source=source, actor=request.user)  # type: ignore[arg-type]
    except DiscoveryBusy as exc:
        messages.error(request, str(exc))
        return redirect("inventory:source-detail", pk=source.pk)
    messages.success(request, f"Discovery of {source.name} started.")
    return redirect("inventory:run-detail", pk=run.pk)
