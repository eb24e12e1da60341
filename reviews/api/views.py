"""The reviews API: same gate (``visible_to``) and the same services as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from nhigov.models import User
from reviews.api.serializers import CampaignSerializer, DecideSerializer, ReviewItemSerializer
from reviews.filtersets import CampaignFilterSet, ReviewItemFilterSet
from reviews.models import Campaign, ReviewItem
from reviews.services.decisions import item_decide
from reviews.services.handovers import resolve_handover_target
from reviews.states import ConcurrentChange, NotAllowed, ReviewError


class ReviewApiPermission(BasePermission):
    """Signed-in people read what the gate shows them; auditors never write. Who may decide an
    item is the service's rule (:func:`reviews.services.decisions.acting_for`)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or not getattr(user, "is_read_only", True)


class CampaignViewSet(viewsets.ReadOnlyModelViewSet[Campaign]):
    """Campaigns: all for security and auditors, those holding your items for anyone else."""

    queryset = Campaign.objects.none()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    permission_classes = [ReviewApiPermission]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Campaign]:
        return Campaign.objects.visible_to(self.request.user)


class ReviewItemViewSet(viewsets.ReadOnlyModelViewSet[ReviewItem]):
    """Review items you may see; ``?mine=true`` for your own queue."""

    queryset = ReviewItem.objects.none()
    serializer_class = ReviewItemSerializer
    filterset_class = ReviewItemFilterSet
    permission_classes = [ReviewApiPermission]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[ReviewItem]:
        qs = ReviewItem.objects.visible_to(self.request.user).select_related(
            "campaign",
            "reviewer",
            "decision",
            "decision__decided_by",
            "decision__on_behalf_of",
            "decision__handover_to_user",
            "decision__handover_to_team",
        )
        user = self.request.user
        if self.request.query_params.get("mine") in {"true", "1"} and isinstance(user, User):
            qs = qs.filter(reviewer=user)
        return qs

    @extend_schema(request=DecideSerializer, responses=ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Keep, deprovision or hand over; 403 if not yours, 409 if someone decided first."""
        item = self.get_object()
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = request.user
        assert isinstance(actor, User)
        try:
            target = (
                resolve_handover_target(values.get("handover_to") or "")
                if values["outcome"] == "handover"
                else None
            )
            item_decide(
                item=item,
                actor=actor,
                outcome=values["outcome"],
                justification=values.get("justification") or "",
                exception_until=values.get("exception_until"),
                handover_to=target,
                on_behalf_of_id=values.get("on_behalf_of"),
                expected_version=values.get("version"),
                request=request,
            )
        except NotAllowed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except ConcurrentChange as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except ReviewError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        item.refresh_from_db()
        return Response(ReviewItemSerializer(self.get_queryset().get(pk=item.pk)).data)
