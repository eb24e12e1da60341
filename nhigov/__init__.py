"""nhigov: governance of non-human identities."""

from nhigov.celery import app as celery_app

__all__ = ["celery_app"]
