"""The API side of the permission gate.

Row-level access is decided by the querysets' ``visible_to(user)``; this class only decides which
roles may call which HTTP methods. Auditors are read-only everywhere.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from nhigov.models import User


class ApiRolePermission(BasePermission):
    """Authenticated users read; writes need a role that may change things (never auditors)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        required = getattr(view, "write_permission", "can_administer")
        return bool(getattr(user, required, False))


def current_user(request: Any) -> User:
    """The signed-in person of a request (views behind ``login_required``), typed as ``User``."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user
