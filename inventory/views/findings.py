"""Risk pages: findings, the rule catalogue, suppressions, thresholds and leak reports."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inventory.choices import FindingStatus
from inventory.filtersets import FindingFilterSet
from inventory.models import LeakReport, RiskSettings, RiskSettingsChange
from inventory.risk.rules import DEFAULT_THRESHOLDS, RULES, THRESHOLD_HELP
from inventory.selectors import findings_visible_to, severity_rank
from inventory.services.findings import (
    FindingActionError,
    finding_suppress,
    finding_unsuppress,
    risk_settings_update,
)
from inventory.services.leaks import LeakReportError, leaks_import
from nhigov.permissions import current_user
from nhigov.redirects import redirect_back

PAGE_SIZE = 50


def _security_only(request: HttpRequest) -> None:
    if not current_user(request).sees_all_identities:
        raise PermissionDenied


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    """Every finding the user may see; open ones unless a status is chosen."""
    params = request.GET.copy()
    if "status" not in params:
        params.setlist("status", [FindingStatus.OPEN])
    base = (
        findings_visible_to(request.user)
        .select_related("identity", "identity__account", "identity__owner", "identity__owner_team")
        .annotate(severity_rank=severity_rank())
        .order_by("-severity_rank", "rule_id", "identity__name", "id")
    )
    filterset = FindingFilterSet(params, queryset=base, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for finding in page.object_list:
        finding.rule = RULES.get(finding.rule_id)
    query = params.copy()
    query.pop("page", None)
    context: dict[str, Any] = {"filterset": filterset, "page": page, "query": query.urlencode()}
    htmx = getattr(request, "htmx", None)
    template = (
        "inventory/_finding_table.html"
        if htmx and not htmx.history_restore_request
        else "inventory/finding_list.html"
    )
    return render(request, template, context)


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """The catalogue: every rule, what it checks, its mappings, and how many findings are open."""
    counts = dict(
        findings_visible_to(request.user)
        .filter(status=FindingStatus.OPEN)
        .values("rule_id")
        .annotate(n=Count("id"))
        .values_list("rule_id", "n")
    )
    rules = [(rule, counts.get(rule_id, 0)) for rule_id, rule in RULES.items()]
    return render(request, "inventory/rule_list.html", {"rules": rules})


@login_required
def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    rule = RULES.get(rule_id.upper())
    if rule is None:
        raise Http404("No such rule.")
    stats = (
        findings_visible_to(request.user)
        .filter(rule_id=rule.id)
        .aggregate(
            open=Count("id", filter=Q(status=FindingStatus.OPEN)),
            suppressed=Count("id", filter=Q(status=FindingStatus.SUPPRESSED)),
            resolved=Count("id", filter=Q(status=FindingStatus.RESOLVED)),
        )
    )
    thresholds = {**DEFAULT_THRESHOLDS, **(RiskSettings.current().thresholds or {})}
    used = [
        (k, thresholds[k], THRESHOLD_HELP[k])
        for k in thresholds
        if THRESHOLD_HELP.get(k, "").startswith(rule.id)
    ]
    return render(
        request, "inventory/rule_detail.html", {"rule": rule, "stats": stats, "thresholds": used}
    )


@login_required
@require_POST
def finding_suppress_view(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(findings_visible_to(request.user), pk=pk)
    until: datetime | None = None
    raw_until = request.POST.get("until", "").strip()
    try:
        if raw_until:
            until = datetime.combine(datetime.fromisoformat(raw_until).date(), time.max, tzinfo=UTC)
        finding_suppress(
            finding=finding,
            actor=current_user(request),
            reason=request.POST.get("reason", ""),
            until=until,
        )
    except ValueError as exc:  # FindingActionError, or a malformed date
        if isinstance(exc, FindingActionError) and "security team" in str(exc):
            raise PermissionDenied(str(exc)) from exc
        messages.error(
            request, str(exc) if isinstance(exc, FindingActionError) else "Invalid date."
        )
    else:
        messages.success(request, f"{finding.rule_id} suppressed.")
    return redirect_back(
        request, reverse("inventory:identity-detail", args=[finding.identity_id]) + "#findings"
    )


@login_required
@require_POST
def finding_unsuppress_view(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(findings_visible_to(request.user), pk=pk)
    try:
        finding_unsuppress(finding=finding, actor=current_user(request))
    except FindingActionError as exc:
        if "security team" in str(exc):
            raise PermissionDenied(str(exc)) from exc
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{finding.rule_id} is open again.")
    return redirect_back(
        request, reverse("inventory:identity-detail", args=[finding.identity_id]) + "#findings"
    )


@login_required
def risk_settings_view(request: HttpRequest) -> HttpResponse:
    """Thresholds and trusted accounts: security and auditors read, admins change (recorded)."""
    _security_only(request)
    current = RiskSettings.current()
    values = {**DEFAULT_THRESHOLDS, **(current.thresholds or {})}
    errors: list[str] = []
    if request.method == "POST":
        if not current_user(request).can_administer:
            raise PermissionDenied("Only a security admin can change the risk settings.")
        submitted = {k: request.POST[k].strip() for k in DEFAULT_THRESHOLDS if k in request.POST}
        raw_accounts = request.POST.get("trusted_account_ids")
        accounts = None if raw_accounts is None else raw_accounts.replace(",", " ").split()
        try:
            risk_settings_update(
                actor=current_user(request),
                thresholds={k: v for k, v in submitted.items() if v != str(values[k])},
                trusted_account_ids=accounts,
                reason=request.POST.get("reason", ""),
            )
        except FindingActionError as exc:
            errors.append(str(exc))
            values.update(submitted)
        else:
            from inventory.tasks import risk_full_pass

            risk_full_pass.delay()
            messages.success(request, "Risk settings saved; every identity is being re-evaluated.")
            return redirect("inventory:risk-settings")
    rows = [
        (k, values[k], DEFAULT_THRESHOLDS[k], THRESHOLD_HELP.get(k, "")) for k in DEFAULT_THRESHOLDS
    ]
    return render(
        request,
        "inventory/risk_settings.html",
        {
            "rows": rows,
            "trusted": " ".join(current.trusted_account_ids or []),
            "changes": RiskSettingsChange.objects.select_related("changed_by")[:50],
            "errors": errors,
            "can_edit": current_user(request).can_administer,
        },
    )


@login_required
def leak_list(request: HttpRequest) -> HttpResponse:
    """Imported secret-scanner reports; the security team uploads new ones here."""
    _security_only(request)
    if request.method == "POST":
        if not current_user(request).can_assign_owners:
            raise PermissionDenied("Only the security team can import leak reports.")
        upload = request.FILES.get("report")
        if upload is None:
            messages.error(request, "Choose a gitleaks or trufflehog JSON report to upload.")
        else:
            try:
                report = leaks_import(
                    content=upload.read(),
                    filename=upload.name or "",
                    repository=request.POST.get("repository", "").strip(),
                    actor=current_user(request),
                )
            except LeakReportError as exc:
                messages.error(request, f"Report not imported: {exc}")
            else:
                messages.success(
                    request,
                    f"Imported {report.tool} report: {report.key_ids} access key ids, "
                    f"{report.matched_key_ids} of them in the inventory.",
                )
        return redirect("inventory:leak-list")
    reports = LeakReport.objects.select_related("imported_by")[:100]
    return render(
        request,
        "inventory/leak_list.html",
        {"reports": reports, "can_upload": current_user(request).can_assign_owners},
    )
