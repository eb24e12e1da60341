"""``manage.py source_add``: register an AWS account or Organization to discover."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.choices import SourceKind
from inventory.services.sources import parse_regions, source_create


class Command(BaseCommand):
    help = "Add a discovery source (an AWS account or an AWS Organization)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=SourceKind.values)
        parser.add_argument("--account-id", default="")
        parser.add_argument("--role-name", default="")
        parser.add_argument("--external-id", default="")
        parser.add_argument(
            "--regions", default="", help="Comma-separated, e.g. us-east-1,eu-west-1"
        )
        parser.add_argument(
            "--schedule-minutes",
            type=int,
            default=1440,
            help="Minutes between scheduled discoveries (0: manual only). Default: daily.",
        )
        parser.add_argument("--json", action="store_true", help="Print the source as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source = source_create(
                name=options["name"],
                kind=options["kind"],
                account_id=options["account_id"],
                role_name=options["role_name"],
                external_id=options["external_id"],
                regions=parse_regions(options["regions"]),
                schedule_minutes=options["schedule_minutes"] or None,
            )
        except ValidationError as exc:
            details = exc.message_dict if hasattr(exc, "error_dict") else {"source": exc.messages}
            lines = [f"  {field}: {' '.join(msgs)}" for field, msgs in details.items()]
            raise CommandError("Source not saved:\n" + "\n".join(lines)) from exc
        data = {
            "id": source.pk,
            "name": source.name,
            "kind": source.kind,
            "account_id": source.account_id or None,
            "role_name": source.role_name or None,
            "external_id_set": bool(source.external_id),
            "regions": source.effective_regions,
            "schedule_minutes": source.schedule_minutes,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
        else:
            self.stdout.write(self.style.SUCCESS(f"Added source {source.name!r} (id {source.pk})."))
