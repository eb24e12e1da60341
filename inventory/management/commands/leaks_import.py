"""``manage.py leaks_import FILE``: correlate a gitleaks or trufflehog report with the inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.services.leaks import LeakReportError, leaks_import


class Command(BaseCommand):
    help = (
        "Import a gitleaks (JSON array) or trufflehog (JSON lines) report. Access key ids found "
        "in it are matched to the inventory (rule LEAK-001); the secrets in it are never stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The report file.")
        parser.add_argument("--repository", default="", help="Repository the report is about.")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = leaks_import(
                content=path.read_bytes(), filename=path.name, repository=options["repository"]
            )
        except LeakReportError as exc:
            raise CommandError(f"Report not imported: {exc}") from exc
        data = {
            "report_id": report.pk,
            "tool": report.tool,
            "entries": report.entries,
            "access_key_ids": report.key_ids,
            "matched_access_key_ids": report.matched_key_ids,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {report.tool} report: {report.entries} findings, "
                    f"{report.key_ids} access key ids, {report.matched_key_ids} in the inventory."
                )
            )
