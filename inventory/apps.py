from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Sources, discovery runs, identities, credentials, ownership and provider connectors."""

    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
