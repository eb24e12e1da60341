"""``manage.py inventory_export``: every identity, as CSV or JSON, to a file or stdout."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.exports import export_queryset, export_records, write_csv, write_json
from nhigov.audit import audit_record


class Command(BaseCommand):
    help = "Export the inventory (every identity with owner, state, flags, findings, credentials)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", required=True, choices=["csv", "json"])
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        writer = write_csv if options["format"] == "csv" else write_json
        records = export_records(export_queryset())
        output = options["output"]
        if not output:
            writer(records, sys.stdout)
            return
        directory = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(directory):
            raise CommandError(f"Directory {directory} does not exist.")
        # Write next to the target and rename: a failed export never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".nhigov-export-")
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
                count = writer(records, handle)
            os.replace(tmp, output)
        except BaseException:
            os.unlink(tmp)
            raise
        audit_record(
            verb="export.inventory",
            actor="command line",
            details={"format": options["format"], "identities": count, "output": output},
        )
        self.stderr.write(f"Exported {count} identities to {output}.")
