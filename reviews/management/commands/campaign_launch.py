"""``manage.py campaign_launch``: create and activate a review campaign, print its id and size."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nhigov.models import User
from reviews.choices import NoResponsePolicy
from reviews.services.campaigns import campaign_launch
from reviews.states import ReviewError


class Command(BaseCommand):
    help = (
        "Launch an access review campaign over a scope (an inventory filter as JSON, e.g. "
        '\'{"team": "platform", "risk_tier": ["critical", "high"]}\'); prints its id and item '
        "count."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scope-json",
            default="{}",
            help="Inventory filter parameters as a JSON object (default: every identity).",
        )
        parser.add_argument("--due-days", type=int, default=None)
        parser.add_argument("--grace-days", type=int, default=None)
        parser.add_argument("--policy", choices=NoResponsePolicy.values, default=None)
        parser.add_argument("--actor", help="Username recorded as the launcher (default: system).")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            scope = json.loads(options["scope_json"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--scope-json is not valid JSON: {exc}") from exc
        if not isinstance(scope, dict):
            raise CommandError('--scope-json must be a JSON object such as {"team": "platform"}.')
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"No user {options['actor']!r}.")
        try:
            # What launching prints on its own (the demo's console e-mail backend, eager tasks)
            # goes to stderr: stdout carries only the result, so --json stays parseable.
            with contextlib.redirect_stdout(sys.stderr):
                campaign = campaign_launch(
                    name=options["name"],
                    scope=scope,
                    actor=actor,
                    due_days=options["due_days"],
                    grace_days=options["grace_days"],
                    no_response_policy=options["policy"],
                )
        except ReviewError as exc:
            raise CommandError(str(exc)) from exc
        result = {
            "campaign_id": campaign.pk,
            "name": campaign.name,
            "status": campaign.status,
            "items": campaign.population_count,
            "inventory_count": campaign.inventory_count,
            "excluded_count": campaign.excluded_count,
            "snapshot_hash": campaign.snapshot_hash,
            "due_at": campaign.due_at.isoformat() if campaign.due_at else None,
            "closes_at": campaign.closes_at.isoformat() if campaign.closes_at else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(
                f"Campaign {campaign.pk} ({campaign.name}) is active: {campaign.population_count} "
                f"items, due {campaign.due_at:%Y-%m-%d}. Snapshot {campaign.snapshot_hash}."
            )
