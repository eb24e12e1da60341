"""``manage.py inventory_snapshot --output DIR``: every identity now, with a signed-off manifest."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.evidence import inventory_snapshot_bundle
from inventory.models import Identity
from nhigov.audit import audit_record
from nhigov.evidence import prepare_output


class Command(BaseCommand):
    help = (
        "Write an inventory snapshot for auditors: inventory.csv (every identity with owner and "
        "state) and manifest.json (counts, SHA-256 of the file, audit chain head)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="An empty or new folder.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            directory = prepare_output(options["output"])
        except FileExistsError as exc:
            raise CommandError(str(exc)) from exc
        manifest = inventory_snapshot_bundle(directory, Identity.objects.all())
        audit_record(
            verb="export.inventory_snapshot",
            actor="command line",
            details={"output": str(directory), "identities": manifest["subject"]["identities"]},
        )
        self.stdout.write(json.dumps(manifest["subject"], sort_keys=True))
