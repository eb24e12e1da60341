"""The permission gate of the console pages, beside ``Identity.objects.visible_to``.

Reading: identities through ``Identity.objects.visible_to(user)`` (owners see theirs); sources
and discovery runs: the security team and auditors (``sees_all_identities``); teams: those plus
the teams an owner belongs to. Changing: a capability of the user (``can_assign_owners``,
``can_administer``), checked by the view that handles the POST, so a crafted request is refused
exactly like a hidden button. Auditors have no capability: they change nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from inventory.models import DiscoveryRun, Source, Team

View = TypeVar("View", bound=Callable[..., HttpResponse])


def may(user: Any, capability: str) -> bool:
    """Whether the user has a capability (a ``User`` property): False for anonymous users."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, capability, False))


def capability_required(capability: str) -> Callable[[View], View]:
    """Sign-in required, then 403 unless the user has ``capability``."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may(request.user, capability):
                raise PermissionDenied(f"This needs the {capability.replace('_', ' ')} right.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def sources_visible_to(user: Any) -> QuerySet[Source]:
    return Source.objects.all() if may(user, "sees_all_identities") else Source.objects.none()


def runs_visible_to(user: Any) -> QuerySet[DiscoveryRun]:
    qs = DiscoveryRun.objects.all()
    return qs if may(user, "sees_all_identities") else qs.none()


def teams_visible_to(user: Any) -> QuerySet[Team]:
    if may(user, "sees_all_identities"):
        return Team.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.filter(members=user)
