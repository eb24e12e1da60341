"""The compliance page: each control, its live status and the evidence behind it (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nhigov.compliance import (
    CACHE_SECONDS,
    INACTIVE_MAX_DAYS,
    REVIEW_MAX_DAYS,
    ROTATION_MAX_DAYS,
    STATUS_LABELS,
    assess_all,
    gather_facts,
    summary,
)
from nhigov.permissions import current_user


@login_required
def compliance(request: HttpRequest) -> HttpResponse:
    """Security and auditors read it; owners do not (it describes the whole estate)."""
    if not current_user(request).sees_all_identities:
        raise PermissionDenied("The compliance view is for the security team and auditors.")
    facts = gather_facts(fresh=request.GET.get("fresh") == "1")
    groups = assess_all(facts)
    counts = summary(groups)
    return render(
        request,
        "audit/compliance.html",
        {
            "groups": groups,
            "summary": [(key, STATUS_LABELS[key], counts[key]) for key in STATUS_LABELS],
            "facts": facts,
            "cache_seconds": CACHE_SECONDS,
            "assumptions": {
                "review_days": REVIEW_MAX_DAYS,
                "inactive_days": INACTIVE_MAX_DAYS,
                "rotation_days": ROTATION_MAX_DAYS,
            },
        },
    )


# --- The API: the same assessments as JSON ------------------------------------------------------


class _LinkSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    url = serializers.CharField(help_text="Path of the evidence page, filtered.")


class _ControlSerializer(serializers.Serializer[Any]):
    framework = serializers.CharField(help_text="pci, iso, soc2, csf or sp80053")
    framework_label = serializers.CharField()
    id = serializers.CharField(help_text="The control's id in its framework, e.g. 7.2.5.1")
    title = serializers.CharField()
    requirement = serializers.CharField()
    evidence = serializers.CharField(help_text="What nhigov evidence covers the control.")
    rules = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=list(STATUS_LABELS.items()))
    status_label = serializers.CharField()
    statement = serializers.CharField()
    weaker_than_required = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the configuration is weaker than the requirement (empty when it is not).",
    )
    links = _LinkSerializer(many=True)


class ComplianceSerializer(serializers.Serializer[Any]):
    counted_at = serializers.DateTimeField()
    summary = serializers.DictField(child=serializers.IntegerField())
    controls = _ControlSerializer(many=True)


class ComplianceApiView(APIView):
    """``GET /api/compliance/``: every control's status, statement, evidence links and flags."""

    @extend_schema(
        responses=ComplianceSerializer,
        parameters=[OpenApiParameter("fresh", bool, description="Count afresh (1).")],
        summary="Compliance controls and their live status",
    )
    def get(self, request: Request) -> Response:
        if not current_user(request).sees_all_identities:
            raise PermissionDenied("The compliance view is for the security team and auditors.")
        facts = gather_facts(fresh=request.query_params.get("fresh") in ("1", "true"))
        groups = assess_all(facts)
        controls = [
            {
                "framework": row.control.framework,
                "framework_label": row.control.framework_label,
                "id": row.control.id,
                "title": row.control.title,
                "requirement": row.control.requirement,
                "evidence": row.control.evidence,
                "rules": list(row.control.rules),
                "status": row.assessment.status,
                "status_label": row.assessment.status_label,
                "statement": row.assessment.statement,
                "weaker_than_required": list(row.assessment.weaker),
                "links": [{"text": link.label, "url": link.url} for link in row.assessment.links],
            }
            for _, rows in groups
            for row in rows
        ]
        data = {"counted_at": facts.counted_at, "summary": summary(groups), "controls": controls}
        return Response(ComplianceSerializer(data).data)
