"""``manage.py evidence_export --campaign ID --output DIR``: a campaign's evidence bundle.

Writes ``items.csv``, ``summary.pdf`` and ``manifest.json`` into DIR (new or empty). The files
are written into a hidden folder beside DIR and moved in only once all three are complete, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nhigov.audit import audit_record
from reviews.evidence import campaign_evidence_bundle
from reviews.models import Campaign


class Command(BaseCommand):
    help = (
        "Write a review campaign's evidence bundle for auditors: items.csv (every item with its "
        "decision, context and remediation proof), summary.pdf (the sign-off document) and "
        "manifest.json (SHA-256 of each file, snapshot hash, audit chain head)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", type=int, required=True, help="The campaign id.")
        parser.add_argument("--output", required=True, help="An empty or new folder.")
        parser.add_argument("--json", action="store_true", help="Print the manifest as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(pk=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']}.")
        target = Path(options["output"]).expanduser()
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} is a file: give an empty or new folder.")
        if target.is_dir() and any(target.iterdir()):
            raise CommandError(f"{target} is not empty: give an empty or new folder.")
        parent = target.resolve().parent
        if not parent.is_dir():
            raise CommandError(f"{parent} does not exist.")
        try:
            work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
        except OSError as exc:
            raise CommandError(f"Cannot write in {parent}: {exc.strerror or exc}.") from exc
        try:
            manifest = campaign_evidence_bundle(work, campaign)
            target.mkdir(exist_ok=True)
            for path in sorted(work.iterdir()):
                path.replace(target / path.name)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        work.rmdir()
        audit_record(
            verb="export.campaign_evidence",
            actor="command line",
            obj=campaign,
            details={
                "output": str(target),
                "items": manifest["subject"]["items"],
                "files": {name: f["sha256"] for name, f in manifest["files"].items()},
                "audit_head_seq": manifest["audit_chain_head"]["seq"],
            },
        )
        if options["json"]:
            self.stdout.write(
                json.dumps({"output": str(target), **manifest}, sort_keys=True, default=str)
            )
            return
        subject = manifest["subject"]
        self.stdout.write(
            f"Campaign {campaign.pk} ({campaign.name}, {campaign.status}): "
            f"{subject['items']} items, {subject['percent_complete']}% complete."
        )
        for name, entry in sorted(manifest["files"].items()):
            self.stdout.write(f"  {target / name}  sha256 {entry['sha256']}")
        self.stdout.write(f"  {target / 'manifest.json'}")
        head = manifest["audit_chain_head"]
        self.stdout.write(f"Audit chain head at export: #{head['seq']} {head['hash']}")
