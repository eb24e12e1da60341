"""Reads shared by pages, API and exports (writes live in services)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from inventory.choices import SEVERITY_RANK, FindingStatus
from inventory.models import Finding, Identity
from inventory.risk.rules import RULES


def severity_rank() -> Case:
    """An SQL expression ordering severities critical (4) to low (1)."""
    return Case(
        *(When(severity=sev, then=Value(rank)) for sev, rank in SEVERITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def findings_visible_to(user: object) -> QuerySet[Finding]:
    """Findings of the identities the user may see (the same gate as the inventory)."""
    return Finding.objects.filter(identity__in=Identity.objects.visible_to(user).values("id"))


def identity_findings_for_display(identity: Identity) -> list[Finding]:
    """Open and suppressed findings of one identity, worst first, each with its rule attached."""
    findings: list[Finding] = list(
        identity.findings.exclude(status=FindingStatus.RESOLVED)
        .annotate(severity_rank=severity_rank())
        .select_related("suppressed_by")
        .order_by("-severity_rank", "rule_id", "key")
    )
    for finding in findings:
        finding.rule = RULES.get(finding.rule_id)  # type: ignore[attr-defined]
    return findings
