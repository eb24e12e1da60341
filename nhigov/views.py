"""Cross-cutting pages: sign-in (throttled), health check, home."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _keys(request: HttpRequest, username: str) -> list[str]:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{digest}", f"login-fail:ip:{_client_address(request)}"]


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses sign-in after too many failures for a username or from an address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Try again in %(minutes)d minutes.",
    }

    def clean(self) -> dict[str, object]:
        username = self.data.get("username", "") or ""
        keys = _keys(self.request, str(username)) if self.request else []
        limit = settings.NHIGOV_LOGIN_MAX_FAILURES
        if any((cache.get(k) or 0) >= limit for k in keys):
            raise self.get_throttled_error()
        try:
            return super().clean()
        except Exception:
            for key in keys:
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, settings.NHIGOV_LOGIN_LOCKOUT_SECONDS)
            raise

    def get_throttled_error(self) -> Exception:
        from django.core.exceptions import ValidationError

        return ValidationError(
            self.error_messages["throttled"],
            code="throttled",
            params={"minutes": max(1, settings.NHIGOV_LOGIN_LOCKOUT_SECONDS // 60)},
        )


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("home")  # then to the page of the person's role


def home(request: HttpRequest) -> HttpResponseRedirect:
    """The security team and auditors start on the dashboard, owners on their identities."""
    if not request.user.is_authenticated:
        return redirect("login")
    if getattr(request.user, "sees_all_identities", False):
        return redirect(reverse("inventory:dashboard"))
    return redirect(reverse("inventory:my-identities"))


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability, for container health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
