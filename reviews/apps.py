from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Access review campaigns, decisions, remediation and evidence."""

    name = "reviews"
    default_auto_field = "django.db.models.BigAutoField"
