"""Inventory pages, one module per area. Every queryset starts from ``visible_to(user)``."""
