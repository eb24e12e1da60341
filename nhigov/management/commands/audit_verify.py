"""``manage.py audit_verify``: recompute the audit chain; exit 1 naming the first broken row."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nhigov.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the tamper-evident audit trail. Exits 1 and names the first broken row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        status = audit_verify()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": status.ok,
                        "checked": status.checked,
                        "head_seq": status.head_seq,
                        "head_hash": status.head_hash,
                        "first_broken_seq": status.first_broken_seq,
                        "message": status.message,
                    }
                )
            )
        elif status.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {status.checked} events, head #{status.head_seq} "
                    f"{status.head_hash}"
                )
            )
        else:
            self.stderr.write(self.style.ERROR(f"Audit trail BROKEN: {status.message}"))
        if not status.ok:
            raise SystemExit(1)
