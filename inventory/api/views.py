"""The inventory API. Same FilterSets as the pages; same ``visible_to`` gate."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.api.serializers import (
    DiscoveryRunSerializer,
    FindingSerializer,
    IdentitySerializer,
    SourceSerializer,
)
from inventory.choices import RunTrigger
from inventory.filtersets import DiscoveryRunFilterSet, FindingFilterSet, IdentityFilterSet
from inventory.models import DiscoveryRun, Finding, Identity, Source
from inventory.selectors import findings_visible_to, severity_rank
from inventory.services.discovery import DiscoveryBusy, discovery_start
from nhigov.models import User


class IdentityViewSet(viewsets.ReadOnlyModelViewSet[Identity]):
    queryset = Identity.objects.none()  # for the schema; requests go through get_queryset
    serializer_class = IdentitySerializer
    filterset_class = IdentityFilterSet
    ordering = ["name", "id"]

    def get_queryset(self) -> QuerySet[Identity]:
        return (
            Identity.objects.visible_to(self.request.user)
            .select_related("account", "owner", "owner_team")
            .prefetch_related("credentials")
        )


class SourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Source],
):
    """Sources are visible to the security team and auditors; only admins create or run them."""

    queryset = Source.objects.none()
    serializer_class = SourceSerializer
    ordering = ["name"]
    write_permission = "can_administer"

    def get_queryset(self) -> QuerySet[Source]:
        user: Any = self.request.user
        return (
            Source.objects.all()
            if getattr(user, "sees_all_identities", False)
            else Source.objects.none()
        )

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.save()
        except DjangoValidationError as exc:
            raise ValidationError(
                exc.message_dict if hasattr(exc, "message_dict") else exc.messages
            ) from exc

    @action(detail=True, methods=["post"])
    def discover(self, request: Request, pk: str | None = None) -> Response:
        """Start a discovery of this source now."""
        from inventory.tasks import discover_source

        source = self.get_object()
        try:
            user = request.user if isinstance(request.user, User) else None
            run = discovery_start(source=source, trigger=RunTrigger.API, requested_by=user)
        except DiscoveryBusy as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        discover_source.delay(run.pk)
        run.refresh_from_db()
        return Response(DiscoveryRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class DiscoveryRunViewSet(viewsets.ReadOnlyModelViewSet[DiscoveryRun]):
    queryset = DiscoveryRun.objects.none()
    serializer_class = DiscoveryRunSerializer
    filterset_class = DiscoveryRunFilterSet
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet[DiscoveryRun]:
        user: Any = self.request.user
        qs = DiscoveryRun.objects.select_related("source")
        return qs if getattr(user, "sees_all_identities", False) else qs.none()


class FindingViewSet(viewsets.ReadOnlyModelViewSet[Finding]):
    """Findings of the identities the caller may see (all statuses; filter with ``status``)."""

    queryset = Finding.objects.none()
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    ordering = ["-last_seen_at", "-id"]

    def get_queryset(self) -> QuerySet[Finding]:
        return (
            findings_visible_to(self.request.user)
            .select_related("identity", "identity__account")
            .annotate(severity_rank=severity_rank())
        )
