"""Sign-ins, failed sign-ins and sign-outs go to the audit trail (Django's auth signals)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from nhigov.audit import audit_record


def _logged_in(sender: Any, request: Any, user: Any, **_: Any) -> None:
    audit_record(verb="auth.login", actor=user, obj=user, request=request)


def _logged_out(sender: Any, request: Any, user: Any, **_: Any) -> None:
    if user is not None:
        audit_record(verb="auth.logout", actor=user, obj=user, request=request)


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    # The attempted username is kept (it names the target); the password never is.
    audit_record(
        verb="auth.login_failed",
        actor=None,
        request=request,
        details={"username": str(credentials.get("username", ""))[:150]},
    )


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="nhigov.audit.login")
    user_logged_out.connect(_logged_out, dispatch_uid="nhigov.audit.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="nhigov.audit.login_failed")
