"""Cross-cutting periodic tasks."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail

from nhigov.audit import audit_verify
from nhigov.choices import Role
from nhigov.models import User

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, time_limit=3600)
def verify_audit_trail() -> bool:
    """Beat: recompute the chain; alert the security admins by e-mail if it is broken."""
    status = audit_verify()
    if status.ok:
        return True
    logger.critical("Audit trail broken: %s", status.message)
    recipients = list(
        User.objects.filter(is_active=True, role=Role.SECURITY_ADMIN)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        send_mail(
            subject="[nhigov] The audit trail failed verification",
            message=(
                f"{status.message}\n\nFirst broken row: #{status.first_broken_seq}. "
                f"Head: #{status.head_seq} {status.head_hash}.\n"
                "Someone changed or removed audit events outside nhigov. Investigate before "
                "trusting any evidence exported after that row."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return False
