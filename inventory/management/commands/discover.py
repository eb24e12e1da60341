"""``manage.py discover``: run discovery now, in this process, and print the run summary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.choices import RunStatus, RunTrigger
from inventory.models import Source
from inventory.services.discovery import (
    DiscoveryBusy,
    discovery_execute,
    discovery_start,
    run_tree_summary,
)


class Command(BaseCommand):
    help = (
        "Run discovery now, in this process (no worker needed), and print the summary. "
        "Exits 1 when a run failed or was partial."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", help="Source name (default: every enabled source).")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["source"]:
            sources = list(Source.objects.filter(name=options["source"]))
            if not sources:
                raise CommandError(f"No source named {options['source']!r}.")
        else:
            sources = list(Source.objects.filter(enabled=True))
            if not sources:
                raise CommandError("No source to discover: add one with `manage.py source_add`.")
        summaries: list[dict[str, Any]] = []
        ok = True
        for source in sources:
            try:
                run = discovery_start(source=source, trigger=RunTrigger.CLI)
            except DiscoveryBusy as exc:
                summaries.append({"source": source.name, "status": "busy", "error": str(exc)})
                ok = False
                continue
            finished = discovery_execute(run.pk, inline=True) or run
            finished.refresh_from_db()
            summaries.append(run_tree_summary(finished))
            ok = ok and finished.status == RunStatus.SUCCEEDED
        if options["json"]:
            self.stdout.write(json.dumps({"runs": summaries}, indent=2))
        else:
            for summary in summaries:
                self._print(summary)
        if not ok:
            raise SystemExit(1)

    def _print(self, s: dict[str, Any]) -> None:
        if s.get("status") == "busy":
            self.stdout.write(self.style.WARNING(f"{s['source']}: {s['error']}"))
            return
        style = self.style.SUCCESS if s["status"] == RunStatus.SUCCEEDED else self.style.ERROR
        self.stdout.write(style(f"Source {s['source']}: run {s['run_id']} {s['status']}"))
        rows = s["accounts"] or [s]
        for a in rows:
            per_k = a["api_calls_per_1000_identities"]
            self.stdout.write(
                f"  account {a['account_id'] or '-'}: {a['status']:9} "
                f"seen {a['identities_seen']:>6}"
                f"  new {a['new']:>5}  updated {a['updated']:>5}  unchanged {a['unchanged']:>5}"
                f"  vanished {a['vanished']:>4}  api calls {a['api_calls']:>4}"
                f" ({per_k if per_k is not None else '-'} per 1000 identities)"
            )
            for err in a["errors"]:
                self.stdout.write(
                    self.style.WARNING(
                        f"    {err.get('operation', '')} {err.get('region', '')} "
                        f"{err.get('code', '')}: {err.get('message', '')}"
                    )
                )
        self.stdout.write(
            f"  total: seen {s['identities_seen']}, new {s['new']}, updated {s['updated']}, "
            f"unchanged {s['unchanged']}, vanished {s['vanished']}, api calls {s['api_calls']}, "
            f"{s['duration_seconds'] or 0:.1f}s"
        )
