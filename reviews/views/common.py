"""Helpers shared by the review pages."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from nhigov.models import User
from reviews.choices import CampaignStatus, ItemStatus
from reviews.models import ReviewItem
from reviews.services.decisions import acting_for
from reviews.states import NotAllowed

EDITABLE = {
    ItemStatus.PENDING,
    ItemStatus.KEPT,
    ItemStatus.REVOKE_REQUESTED,
    ItemStatus.HANDOVER_REQUESTED,
}


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "history_restore_request", False)


def security_only(user: User) -> None:
    """Pages of the security team; auditors read them too."""
    if not user.sees_all_identities:
        raise PermissionDenied


_PLACEHOLDER = 987654321


def _url_maker(name: str) -> Callable[[int], str]:
    """``reverse`` once per request, then string substitution per row (a queue page renders
    hundreds of row links; reversing each was a fifth of the page's time)."""
    proto = reverse(name, args=[_PLACEHOLDER])
    return lambda pk: proto.replace(str(_PLACEHOLDER), str(pk))


def annotate_rights(items: list[ReviewItem], actor: User) -> None:
    """Per row: may the actor decide it, on whose behalf, can the decision still change, and
    the row's links."""
    detail = _url_maker("reviews:item-detail")
    decide = _url_maker("reviews:item-decide")
    reroute = _url_maker("reviews:item-reroute")
    identity = _url_maker("inventory:identity-detail")
    for item in items:
        item.urls = {  # type: ignore[attr-defined]
            "detail": detail(item.pk),
            "decide": decide(item.pk),
            "reroute": reroute(item.pk),
            "identity": identity(item.identity_id),
        }
        try:
            behalf = acting_for(item, actor, item.reviewer_id)
        except NotAllowed:
            item.can_decide = False  # type: ignore[attr-defined]
            item.on_behalf_id = None  # type: ignore[attr-defined]
        else:
            item.can_decide = True  # type: ignore[attr-defined]
            item.on_behalf_id = behalf.pk if behalf else None  # type: ignore[attr-defined]
        item.editable = (  # type: ignore[attr-defined]
            item.can_decide  # type: ignore[attr-defined]
            and item.campaign.status == CampaignStatus.ACTIVE
            and item.locked_at is None
            and item.status in EDITABLE
        )
