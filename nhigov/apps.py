from django.apps import AppConfig


class NhigovConfig(AppConfig):
    """Cross-cutting pieces: users and roles, permission helpers, and (later) the audit trail."""

    name = "nhigov"
    verbose_name = "nhigov"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from nhigov import auth_audit

        auth_audit.connect()
